"""C10 复核 through the gateway, on the real broker and PostgreSQL: staff, intake, cases,
notices. A returned application's notice carries a number and query password; the applicant
asks for review with them (public route, no login), a clerk files another at the window; the
review is decided by someone other than the first decider, the deciders are reminded through
notices (N1) before the due day, and the answer shows in the public receipt query. Another
township sees nothing; bad input is 4xx JSON naming the field."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.common.clock import FrozenClock
from tests.support.runtime import wait_for
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 1, 24, 10, 0, tzinfo=SH)  # Fri: a review asked today is due Fri 7 Feb 2025 (C2)
MATERIALS = [{"name": "居民身份证", "main": True}, {"name": "收入证明", "main": False}]
APPLICANT = {"name": "李秀兰", "phone": "13812345678", "id_no": "110101199003071234"}


@pytest.fixture(scope="module")
def system(broker, module_database):
    clock = FrozenClock(START)
    # staff and the gateway on real time (tokens); intake, cases and notices on the test's clock
    with running_services(broker.uri, module_database, ["staff", "gateway"]) as containers, \
            running_services(broker.uri, module_database, ["intake", "cases", "notices"], clock=clock,
                             SWEEP_INTERVAL=0.3) as timed:
        containers.update(timed)
        api = gateway_api(containers["gateway"])
        op = api.as_(operator_token(broker.uri))
        town, other = Township(api, op, "review-a", "复核镇"), Township(api, op, "review-b", "别镇")
        boss = town.boss
        window = boss.post("/windows", {"number": 1, "name": "民政"}).json()
        _, clerk = town.person("王晓燕", ["clerk"], window_id=window["id"])
        _, deputy = town.person("刘芳", ["deputy_director"])
        item = {"legal_basis": "《社会救助暂行办法》", "window_id": window["id"], "materials": MATERIALS}
        for code in ("RV-1", "RV-2"):
            r = boss.post("/intake/items", {**item, "code": code, "name": "低保申请", "promised_days": 5})
            assert r.status_code == 201, r.text
        yield {"api": api, "public": api.as_(None), "boss": boss, "clerk": clerk, "deputy": deputy,
               "other": other.boss, "clock": clock}


def apply(s, code, brought):
    r = s["clerk"].post("/intake/applications", {"item_code": code, "applicant": APPLICANT,
                                                 "materials_brought": brought})
    assert r.status_code == 201, r.text
    return r.json()


def query(s, number, password, code="review-a"):
    return s["public"].post(f"/public/townships/{code}/receipts/{number}", {"password": password})


def test_c10_review_of_a_return_online_reminded_decided_and_answered_in_the_receipt_query(system):
    s = system
    out = apply(s, "RV-1", ["收入证明"])  # the main material missing: returned (退回件, I5)
    notice = out["notice"]
    assert out["application"]["status"] == "returned" and notice["kind"] == "return"
    number, password = notice["receipt_no"], notice["query_password"]  # the return notice's, like a receipt
    r = query(s, number, password)
    assert r.status_code == 200 and r.json()["status_code"] == "NOT_ACCEPTED" and r.json()["review"] is None

    path = f"/public/townships/review-a/receipts/{number}/review"
    r = s["public"].post(path, {"password": "WRONGPASS1", "reason": "身份证已补办"})
    assert r.status_code == 404 and r.json()["error"] == "not_found"  # like the status query
    r = s["public"].post(path, {"password": password})
    assert r.status_code == 422 and "reason" in r.json()["details"]
    r = s["public"].post(path, {"password": password, "reason": "\u0000"})
    assert r.status_code == 422 and "reason" in r.json()["details"]
    r = s["public"].post(f"/public/townships/review-b/receipts/{number}/review",
                         {"password": password, "reason": "身份证已补办"})
    assert r.status_code == 404  # another township's code: nothing
    r = wait_for(lambda: (r := s["public"].post(path, {"password": password, "reason": "身份证已补办"})).status_code
                 != 404 and r, timeout=15, message="cases to learn of the return")
    assert r.status_code == 201, r.text
    review = r.json()
    assert (review["state"], review["subject"], review["due_date"]) == ("pending", "return", "2025-02-07")
    assert "decided_by" not in review and "first_deciders" not in review  # the public sees no people
    r = s["public"].post(path, {"password": password, "reason": "再问一次"})
    assert r.status_code == 409 and "receipt_no" in r.json()["details"]

    shown = wait_for(lambda: query(s, number, password).json()["review"], timeout=15,
                     message="the review in the receipt query")
    assert shown["state"] == "pending" and shown["due_date"] == "2025-02-07"

    listed = [x for x in s["boss"].get("/reviews?state=pending").json() if x["receipt_no"] == number]
    assert len(listed) == 1 and listed[0]["channel"] == "online" and listed[0]["filed_by"] is None
    review_id = listed[0]["id"]
    assert s["other"].get(f"/reviews/{review_id}").status_code == 404  # tenancy
    assert s["other"].get("/reviews").json() == []
    assert s["other"].post(f"/reviews/{review_id}/decision",
                           {"outcome": "upheld", "answer": "x"}).status_code == 404

    # the day before the due day the deciders are reminded, through notices (N1)
    s["clock"].set(datetime(2025, 2, 6, 9, 0, tzinfo=SH))

    def reminded():
        items = s["deputy"].get("/me/notices").json()["items"]
        return [n for n in items if n["rule"] == "C10" and n["source_event"] == "cases.review_reminder"]
    notice = wait_for(reminded, timeout=20, message="the review reminder in the deputy's inbox")
    assert notice[0]["needs_ack"] is True and number in notice[0]["title"]

    r = s["clerk"].post(f"/reviews/{review_id}/decision", {"outcome": "overturned", "answer": "x"})
    assert r.status_code == 403  # a clerk does not decide reviews
    r = s["boss"].post(f"/reviews/{review_id}/decision", {"outcome": "maybe", "answer": "x"})
    assert r.status_code == 422 and "outcome" in r.json()["details"]
    r = s["boss"].post(f"/reviews/{review_id}/decision",
                       {"outcome": "overturned", "answer": "经复核，身份证已补办，请携材料再次办理，予以受理"})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["outcome"]) == ("decided", "overturned")
    shown = wait_for(lambda: (v := query(s, number, password).json()["review"]) and v["state"] == "decided" and v,
                     timeout=15, message="the answer in the receipt query")
    assert shown["outcome"] == "overturned" and "予以受理" in shown["answer"] and shown["decided_at"]
    # overturning the return reopens the application in intake: received again, the window takes it up
    status = wait_for(lambda: (q := query(s, number, password).json())["status_code"] == "RECEIVED" and q,
                      timeout=15, message="intake to reopen the returned application")
    assert status["status"] == "received" and status["review"]["outcome"] == "overturned"
    r = s["clerk"].post(f"/intake/applications/{out['application']['id']}/notice", {})
    assert r.status_code == 200, r.text
    assert r.json()["notice"]["missing"] == ["居民身份证"] and r.json()["application"]["status"] == "supplement"


def test_c10_review_of_a_rejection_filed_at_the_window_decided_by_another_person(system):
    s = system
    s["clock"].set(START)
    receipt = apply(s, "RV-2", ["居民身份证", "收入证明"])["receipt"]
    number, password = receipt["receipt_no"], receipt["query_password"]
    case = wait_for(lambda: (r := s["boss"].get(f"/cases/by-receipt/{number}")).status_code == 200 and r.json(),
                    timeout=15, message="the case")
    url = f"/cases/{case['id']}"
    r = s["clerk"].post("/reviews", {"receipt_no": number, "reason": "收入已变化"})
    assert r.status_code == 409  # not rejected (yet): only a rejection or a return is reviewed
    assert s["clerk"].post(url + "/review", {"opinion": "reject"}).status_code == 200
    r = s["deputy"].post(url + "/decision", {"outcome": "rejected", "reason": "家庭收入超过标准"})
    assert r.status_code == 200, r.text

    assert s["clerk"].post("/reviews", {"reason": "x"}).status_code == 422  # receipt_no named
    assert s["other"].post("/reviews", {"receipt_no": number, "reason": "x"}).status_code == 404  # tenancy
    r = s["clerk"].post("/reviews", {"receipt_no": number, "reason": "申请人到窗口：收入已变化"})
    assert r.status_code == 201, r.text
    review = r.json()
    assert (review["channel"], review["subject"], review["case_id"]) == ("window", "rejection", case["id"])
    assert s["boss"].get(url).json()["state"] == "reconsideration"

    r = s["deputy"].post(f"/reviews/{review['id']}/decision", {"outcome": "overturned", "answer": "改判"})
    assert r.status_code == 422 and "person_id" in r.json()["details"]  # C10: not the one who rejected
    r = s["boss"].post(f"/reviews/{review['id']}/decision", {"outcome": "upheld", "answer": "维持：收入仍超过标准"})
    assert r.status_code == 200 and r.json()["decided_by"] != review["first_deciders"][0]
    assert s["boss"].get(url).json()["outcome"] == "rejected"
    shown = wait_for(lambda: (v := query(s, number, password).json()["review"]) and v["state"] == "decided" and v,
                     timeout=15, message="the answer in the receipt query")
    assert shown["outcome"] == "upheld" and shown["subject"] == "rejection"
    assert s["boss"].get(f"/reviews/{review['id']}").json()["answer"] == "维持：收入仍超过标准"
