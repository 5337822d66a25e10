"""The public pages in a real browser (issue 14, Must show 2 and 3): headless Chromium from
Debian's packages, driven over WebDriver. The pages load without console errors, a receipt
query shows the right status and timeline (a wrong password and an unknown number the same
message, 429 kindly), the rating and complaint forms work, the hall display shows the figures
the API gives and refreshes by itself. Screenshots go to ``test-output/screenshots/``."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from tests.browser.webdriver import Browser, available
from tests.support.hall import seed_hall
from tests.support.runtime import wait_for
from tests.support.system import gateway_api, operator_token, running_services

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CODE = "qingshan"
PHONE = (390, 844)
KIOSK = (1920, 1080)
SERVICES = ["staff", "intake", "cases", "complaints", "gateway"]


@pytest.fixture(scope="module")
def browser():
    missing = available()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests need Chromium: {missing}")
        pytest.skip(missing)
    b = Browser(*PHONE)
    yield b
    b.quit()


@pytest.fixture(scope="module")
def hall(broker, module_database, browser):
    with running_services(broker.uri, module_database, SERVICES) as c:
        api = gateway_api(c["gateway"])
        op = api.as_(operator_token(broker.uri))
        yield {**seed_hall(api, op, CODE, "青山镇"), "api": api, "public": api.as_(None)}


def page(hall, name: str, query: str = "") -> str:
    return f"{hall['api'].base}/public/townships/{CODE}/pages/{name}{query}"


def open_page(browser, hall, name, size=PHONE, query=""):
    browser.size(*size)
    browser.console()  # drain what earlier pages logged
    browser.open(page(hall, name, query))


def severe(browser) -> list[str]:
    return [e["message"] for e in browser.console() if e["level"] == "SEVERE"]


UNLABELLED = """
return [...document.querySelectorAll('input, select, textarea')].filter(n =>
  n.type !== 'hidden' && n.labels.length === 0 && !n.getAttribute('aria-label')).map(n => n.id || n.name);
"""

READY = {
    "index": lambda b: b.texts("#promises li"),
    "guide": lambda b: b.texts("#items details"),
    "receipt": lambda b: b.text("[data-township-name]"),
    "complaint": lambda b: len(b.texts("#window option")) > 1,
    "display": lambda b: b.run("return document.body.dataset.refreshed"),
}


@pytest.mark.parametrize("name, size, label", [
    ("index", PHONE, "phone"), ("guide", PHONE, "phone"), ("receipt", PHONE, "phone"),
    ("complaint", PHONE, "phone"), ("display", KIOSK, "kiosk"), ("guide", KIOSK, "kiosk"),
])
def test_pages_load_without_console_errors_and_every_field_has_a_label(browser, hall, name, size, label):
    open_page(browser, hall, name, size)
    browser.wait(lambda: READY[name](browser), message=f"{name} to fill")
    assert browser.text("[data-township-name]") == "青山镇"
    assert browser.run("return document.documentElement.lang") == "zh-CN"
    assert browser.run(UNLABELLED) == []
    browser.screenshot(SHOTS / f"{name}-{label}.png", full=label == "phone")
    assert severe(browser) == []


def test_keyboard_first_tab_reaches_the_skip_link(browser, hall):
    open_page(browser, hall, "guide")
    browser.wait(lambda: READY["guide"](browser))
    browser.keys("\ue004")  # Tab
    assert browser.run("return document.activeElement.className") == "skip"
    assert browser.run("return document.activeElement.getBoundingClientRect().left >= 0")


def test_guide_search_finds_by_name_and_material_and_shows_fee_and_basis(browser, hall):
    open_page(browser, hall, "guide")
    browser.wait(lambda: READY["guide"](browser))
    assert browser.text("#count") == "共 3 个事项"
    browser.type("#q", "养老")
    browser.wait(lambda: browser.text("#count") == "找到 1 个事项", message="the search")
    shown = browser.run("return [...document.querySelectorAll('#items details')].filter(d => !d.hidden)"
                        ".map(d => d.dataset.code)")
    assert shown == ["SB-001"]
    browser.type("#q", "居民身份证")  # a material: the three items need it
    browser.wait(lambda: browser.text("#count") == "找到 3 个事项", message="the material search")
    browser.type("#q", "残疾人")
    browser.wait(lambda: browser.text("#count") == "找到 1 个事项")
    browser.click("details[data-code='MZ-010'] summary")
    text = browser.text("details[data-code='MZ-010']")
    assert "10.00 元" in text and "省物价局工本费标准" in text and "5 个工作日" in text and "主件" in text
    browser.screenshot(SHOTS / "guide-search-phone.png", full=True)


def query(browser, number: str, password: str):
    """By keyboard: type the number, Tab to the password, Enter submits."""
    browser.click("#receipt-no")
    browser.type("#receipt-no", number)
    browser.keys("\ue004")
    browser.keys(password + "\ue007")


def test_receipt_query_shows_the_status_and_timeline(browser, hall):
    receipt = hall["receipts"]["pending"]
    open_page(browser, hall, "receipt")
    browser.wait(lambda: READY["receipt"](browser))
    query(browser, receipt["receipt_no"], receipt["query_password"])
    browser.wait(lambda: browser.visible("#result"), message="the result")
    assert browser.text("#status-label") == "已受理"
    assert browser.texts("#timeline li[data-status-code]") and \
        [t[-3:] for t in browser.texts("#timeline li")] == ["已接件", "已受理"]
    browser.wait(lambda: "城乡居民养老保险参保登记" in browser.text("#r-item"), message="the item's name")
    assert not browser.visible("#rating")  # not delivered yet: no rating form
    browser.screenshot(SHOTS / "receipt-status-phone.png", full=True)
    assert severe(browser) == []


def test_delivered_case_can_be_rated_once_from_the_page(browser, hall):
    receipt = hall["receipts"]["delivered"]
    open_page(browser, hall, "receipt")
    browser.wait(lambda: READY["receipt"](browser))
    query(browser, receipt["receipt_no"], receipt["query_password"])
    browser.wait(lambda: browser.visible("#rating-form"), message="the rating form")
    assert browser.text("#status-label") == "办结"
    assert [t[-2:] for t in browser.texts("#timeline li")] == ["接件", "受理", "决定", "办结"]
    browser.click("input[name=rating][value='4']")
    browser.type("#comment", "办事很快，态度好")
    browser.screenshot(SHOTS / "receipt-rating-phone.png", full=True)
    browser.click("#rating-button")
    browser.wait(lambda: browser.visible("#rating-message"), message="the thanks")
    assert browser.text("#rating-message") == "感谢您的评价！"
    assert hall["boss"].get(f"/cases/{hall['cases']['delivered']['id']}").json()["rating"] == 4
    # asked again, the page knows it is rated: no second form
    open_page(browser, hall, "receipt")
    browser.wait(lambda: READY["receipt"](browser))
    query(browser, receipt["receipt_no"], receipt["query_password"])
    browser.wait(lambda: browser.visible("#rating-message"))
    assert not browser.visible("#rating-form") and "已评价" in browser.text("#rating-message")
    assert severe(browser) == []


def test_returned_application_review_asked_and_answered_from_the_page(browser, hall):
    """C10: the return notice's number and password open the page; the applicant asks for review
    there, and reads the answer once someone other than the first decider has given it."""
    r = hall["clerk_apis"][0].post("/intake/applications", {
        "item_code": "MZ-010", "materials_brought": [],
        "applicant": {"name": "张伟", "phone": "13912345678", "id_no": "330102199001011234"}})
    assert r.status_code == 201 and r.json()["application"]["status"] == "returned", r.text
    notice = r.json()["notice"]
    wait_for(lambda: hall["public"].post(f"/public/townships/{CODE}/receipts/{notice['receipt_no']}/timeline",
                                         {"password": notice["query_password"]}).json().get("reviewable"),
             timeout=20, message="cases to learn of the return")
    open_page(browser, hall, "receipt")
    browser.wait(lambda: READY["receipt"](browser))
    query(browser, notice["receipt_no"], notice["query_password"])
    browser.wait(lambda: browser.visible("#review-form"), message="the review form")
    assert browser.text("#status-label") == "不予受理" and not browser.visible("#rating")
    assert browser.text("#r-kind") == "退回件"
    browser.click("#review-button")  # no reason: the field says so, nothing is sent
    browser.wait(lambda: browser.visible("#review-reason-error"))
    browser.type("#review-reason", "身份证已补办，请复核")
    browser.click("#review-button")
    browser.wait(lambda: browser.visible("#review-message"), message="the acknowledgement")
    assert "前答复" in browser.text("#review-message") and browser.text("#rv-state") == "复核中"
    reviews = [x for x in hall["boss"].get("/reviews").json() if x["receipt_no"] == notice["receipt_no"]]
    assert len(reviews) == 1 and reviews[0]["channel"] == "online"
    r = hall["boss"].post(f"/reviews/{reviews[0]['id']}/decision",
                          {"outcome": "overturned", "answer": "经复核，请携身份证再次办理，予以受理"})
    assert r.status_code == 200, r.text

    def answered():
        open_page(browser, hall, "receipt")
        browser.wait(lambda: READY["receipt"](browser))
        query(browser, notice["receipt_no"], notice["query_password"])
        browser.wait(lambda: browser.visible("#review-facts"), message="the review")
        return browser.text("#rv-state") == "已答复"
    wait_for(answered, timeout=30, message="the answer on the page")
    assert browser.text("#rv-outcome") == "撤销原决定" and "予以受理" in browser.text("#rv-answer")
    assert not browser.visible("#review-form")
    browser.screenshot(SHOTS / "receipt-review-phone.png", full=True)
    assert severe(browser) == []


def test_complaint_form_checks_fields_then_files_the_complaint(browser, hall):
    open_page(browser, hall, "complaint")
    browser.wait(lambda: READY["complaint"](browser))
    browser.click("#complaint-button")
    browser.wait(lambda: browser.visible("#name-error"))
    assert browser.run("return document.getElementById('name').getAttribute('aria-invalid')") == "true"
    assert browser.text("#content-error") == "请填写投诉内容"
    browser.type("#name", "赵敏")
    browser.type("#phone", "13700002222")
    browser.run("const s = document.getElementById('window'); s.value = s.options[2].value;"
                "s.dispatchEvent(new Event('change'));")
    browser.type("#content", "窗口人员让我来回跑了两趟")
    browser.click("#complaint-button")
    browser.wait(lambda: "投诉已收到" in (browser.text("#complaint-message") or ""), message="the complaint number")
    number = browser.text("#complaint-message").split("编号 ")[1].split("。")[0]
    listed = hall["officer"].get("/complaints").json()
    listed = listed.get("items", listed) if isinstance(listed, dict) else listed
    filed = [c for c in listed if c["number"] == number]
    assert filed and filed[0]["channel"] == "online" and filed[0]["target_window_id"] == hall["windows"][1]["id"]
    browser.screenshot(SHOTS / "complaint-filed-phone.png", full=True)


def test_display_shows_the_figures_the_api_gives_and_refreshes_itself(browser, hall):
    public, base = hall["public"], f"/public/townships/{CODE}"
    open_page(browser, hall, "display", KIOSK, "?refresh=5")
    browser.wait(lambda: READY["display"](browser), message="the display's first refresh")
    month = public.get(base + "/statistics").json()
    today = public.get(base + "/statistics/today").json()
    notices = public.get(base + "/notices").json()

    def pct(v):
        return "—" if v is None else f"{v * 100:.1f}%"
    assert browser.text("#today-received") == str(today["township"]["received"])
    assert browser.text("#today-completed") == str(today["township"]["completed"])
    assert browser.text("#month-on-time-rate") == pct(month["township"]["on_time_rate"])
    assert browser.text("#month-satisfaction") == pct(month["township"]["satisfaction"])
    assert browser.text("#month-received") == str(month["township"]["received"])
    for w in month["windows"]:
        row = f"#rankings-body tr[data-window-number='{w['number']}']"
        assert browser.text(row + " [data-field=rank]") == ("—" if w["rank"] is None else str(w["rank"]))
        assert browser.text(row + " [data-field=on_time_rate]") == pct(w["on_time_rate"])
        assert browser.text(row + " [data-field=complaints_verified]") == str(w["complaints_verified"])
    on_duty = public.get(base + "/staff-on-duty").json()
    for person in on_duty:
        cell = browser.text(f"#windows-body tr[data-window-number='{person['window']}'] [data-field=on_duty]")
        assert f"{person['name']}（{person['badge_no']}）" in cell
    assert browser.texts("#promises-list li") == notices["promises"]
    assert browser.text("#channels-list") and notices["channels"]["complaint"] in browser.text("#channels-list")
    assert browser.text("#flag-name") not in ("—", "暂时无法读取")
    leader = public.get(base + "/leader-on-duty").json()["leader"]  # P5: today's leader on duty
    assert browser.text("#leader-on-duty") == (leader["name"] if leader else "未安排")
    browser.screenshot(SHOTS / "display-kiosk.png")
    assert severe(browser) == []

    # a new application arrives: the screen shows it without anyone touching it
    before = int(browser.text("#today-received"))
    clerk_api = hall["clerk_apis"][0]
    r = clerk_api.post("/intake/applications", {
        "item_code": "MZ-001", "materials_brought": ["男女双方居民身份证", "男女双方户口簿", "双方近期半身免冠合影照片"],
        "applicant": {"name": "李娜", "phone": "13912340000", "id_no": "330102199202021234"}})
    assert r.status_code == 201, r.text
    wait_for(lambda: public.get(base + "/statistics/today").json()["township"]["received"] == before + 1,
             timeout=20, message="the case to open")
    browser.wait(lambda: browser.text("#today-received") == str(before + 1), timeout=20,
                 message="the display to refresh by itself")


def test_wrong_password_and_unknown_number_read_the_same_and_429_is_kind(browser, hall):
    """Runs last: its wrong guesses from this address reach the limit (I4, 5 in 15 minutes)."""
    receipt = hall["receipts"]["pending"]
    open_page(browser, hall, "receipt")
    browser.wait(lambda: READY["receipt"](browser))
    messages = []
    for number, password in [(receipt["receipt_no"], "WRONG-PASS"), ("QS-NO-SUCH-1", receipt["query_password"])]:
        query(browser, number, password)
        browser.wait(lambda: browser.visible("#query-message"))
        messages.append(browser.text("#query-message"))
        browser.run("document.getElementById('query-message').hidden = true")
    assert messages[0] == messages[1] == "受理编号或查询密码不正确，请核对受理通知单后重试。"
    assert not browser.visible("#result")
    for _ in range(10):  # until the limit answers
        query(browser, receipt["receipt_no"], "WRONG-AGAIN")
        browser.wait(lambda: browser.visible("#query-message"))
        if "稍后" in browser.text("#query-message"):
            break
        browser.run("document.getElementById('query-message').hidden = true")
    text = browser.text("#query-message")
    assert "查询次数较多" in text and "大厅服务台" in text
    assert browser.run("return document.getElementById('query-message').getAttribute('role')") == "alert"
    browser.screenshot(SHOTS / "receipt-429-phone.png", full=True)
    # even the right password waits now, and says so kindly rather than "wrong"
    r = requests.post(f"{hall['api'].base}/public/townships/{CODE}/receipts/{receipt['receipt_no']}/timeline",
                      json={"password": receipt["query_password"]}, timeout=10)
    assert r.status_code == 429
