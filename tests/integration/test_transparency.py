"""Transparency through the gateway (T1, T2; issue 14): a hall with a known day, the published
statistics and rankings, per-person figures for managers only, CSV, promises and channels,
the red-flag window, the receipt timeline, and the pages and assets the gateway serves."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.common.clock import DEFAULT_TZ
from tests.support.hall import seed_hall
from tests.support.system import gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration

SERVICES = ["staff", "intake", "cases", "complaints", "gateway"]


def local_month(iso: str) -> str:
    return f"{datetime.fromisoformat(iso).astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m}"


@pytest.fixture(scope="module")
def hall(broker, module_database):
    with running_services(broker.uri, module_database, SERVICES) as c:
        api = gateway_api(c["gateway"])
        op = api.as_(operator_token(broker.uri))
        hall = seed_hall(api, op, "tp-hall", "青山镇")
        other = seed_hall(api, op, "tp-other", "绿水镇")  # the same day in another township
        yield {**hall, "api": api, "public": api.as_(None), "other": other,
               "month": local_month(hall["month"])}


def test_public_month_figures_equal_the_hall_and_rank_its_windows(hall):
    r = hall["public"].get(f"/public/townships/tp-hall/statistics?month={hall['month']}")
    assert r.status_code == 200, r.text
    body = r.json()
    # 3 received (never 6: the other township's identical day is not counted), 2 delivered on
    # time, 1 rated 5, 1 complaint verified against window 2
    want = dict(received=3, completed=2, on_time=2, late=0, on_time_rate=1.0, rated=1, satisfied=1,
                satisfaction=1.0, complaints_verified=1)
    assert {k: body["township"][k] for k in want} == want
    windows = {w["number"]: w for w in body["windows"]}
    assert set(windows) == {1, 2}
    assert (windows[1]["rank"], windows[1]["completed"], windows[1]["on_time_rate"]) == (1, 2, 1.0)
    assert (windows[2]["rank"], windows[2]["received"], windows[2]["complaints_verified"]) == (None, 1, 1)
    # published figures carry no person (T1 public, T2 internal)
    assert "people" not in body and "王晓燕" not in r.text and hall["clerks"][0]["id"] not in r.text


def test_todays_figures(hall):
    body = hall["public"].get("/public/townships/tp-hall/statistics/today").json()
    assert body["day"][:7] == hall["month"]
    assert (body["township"]["received"], body["township"]["completed"]) == (3, 2)


def test_managers_see_each_persons_figures_and_clerks_do_not(hall):
    r = hall["boss"].get(f"/statistics?month={hall['month']}")
    assert r.status_code == 200, r.text
    people = {p["name"]: p for p in r.json()["people"]}
    assert (people["王晓燕"]["completed"], people["王晓燕"]["on_time"], people["王晓燕"]["satisfied"]) == (2, 2, 1)
    assert (people["李俊"]["received"], people["李俊"]["complaints_verified"]) == (1, 1)
    assert hall["clerk_apis"][0].get("/statistics").status_code == 403
    assert hall["public"].get("/statistics").status_code == 401


@pytest.mark.parametrize("month, field", [("2025-13", "month"), ("march", "month")])
def test_a_bad_month_is_a_422_naming_it(hall, month, field):
    r = hall["public"].get(f"/public/townships/tp-hall/statistics?month={month}")
    assert r.status_code == 422 and field in r.json()["details"]


def test_csv_is_utf8_with_bom_public_without_people_internal_with(hall):
    public = hall["public"].get(f"/public/townships/tp-hall/statistics/csv?month={hall['month']}")
    assert public.status_code == 200 and public.headers["Content-Type"].startswith("text/csv")
    assert public.content.startswith("\ufeff".encode())
    text = public.content.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("范围,名次,窗口号") and lines[1].startswith("全镇,,,青山镇,3,2,2,0,0,100.0%")
    assert "王晓燕" not in text
    internal = hall["boss"].get(f"/statistics/csv?month={hall['month']}").content.decode("utf-8-sig")
    assert "个人,,,王晓燕" in internal


def test_promises_and_channels_are_published_and_are_settings(hall):
    body = hall["public"].get("/public/townships/tp-hall/notices").json()
    # the township's zone, in which the public pages show times (DOMAIN "Time"; issue 10)
    assert body["township"] == {"code": "tp-hall", "name": "青山镇", "timezone": DEFAULT_TZ}
    assert len(body["promises"]) == 5 and set(body["channels"]) == {"query", "rating", "complaint"}
    r = hall["boss"].patch("/settings/intake", {"changes": {"service_promises": ["当场办结即办件"]}})
    assert r.status_code == 200, r.text
    assert hall["public"].get("/public/townships/tp-hall/notices").json()["promises"] == ["当场办结即办件"]
    assert len(hall["public"].get("/public/townships/tp-other/notices").json()["promises"]) == 5
    bad = hall["boss"].patch("/settings/intake", {"changes": {"service_promises": []}})
    assert bad.status_code == 422


def test_red_flag_window_of_the_last_finished_quarter(hall):
    body = hall["public"].get("/public/townships/tp-hall/red-flag").json()
    assert body["quarter"][4] == "Q" and isinstance(body["red_flag_windows"], list)
    assert all(set(w) == {"number", "name"} for w in body["red_flag_windows"])
    # S7: the hall's windows were opened today, so none served the last finished quarter (before
    # the fix a clean new window — everyone at 100, nothing deducted — was its red-flag window)
    assert body["red_flag_windows"] == []


def test_receipt_timeline_and_the_same_answer_for_a_wrong_password_or_number(hall):
    receipt = hall["receipts"]["rated"]
    path = f"/public/townships/tp-hall/receipts/{receipt['receipt_no']}/timeline"
    body = hall["public"].post(path, {"password": receipt["query_password"]}).json()
    assert (body["status"], body["status_label"], body["rated"]) == ("delivered", "办结", True)
    assert [e["status_code"] for e in body["timeline"]] == ["RECEIVED", "ACCEPTED", "DECIDED", "COMPLETED"]
    assert all(set(e) == {"at", "status_code", "label"} for e in body["timeline"])  # no people, no notes
    wrong = hall["public"].post(path, {"password": "WRONG-PASSWORD"})
    unknown = hall["public"].post("/public/townships/tp-hall/receipts/NO-SUCH-NUMBER/timeline",
                                  {"password": receipt["query_password"]})
    assert wrong.status_code == unknown.status_code == 404 and wrong.json() == unknown.json()
    # another township's code does not reach this receipt
    other = hall["public"].post(f"/public/townships/tp-other/receipts/{receipt['receipt_no']}/timeline",
                                {"password": receipt["query_password"]})
    assert other.status_code == 404


@pytest.mark.parametrize("path, status, kind", [
    ("/public/townships/tp-hall/pages/guide", 200, "text/html"),
    ("/public/townships/tp-hall/pages/display", 200, "text/html"),
    ("/public/townships/no-such-town/pages/guide", 404, "text/html"),
    ("/public/townships/tp-hall/pages/admin", 404, "text/html"),
    ("/public/assets/app.css", 200, "text/css"),
    ("/public/assets/common.js", 200, "text/javascript"),
    ("/public/assets/404.html", 404, "application/json"),
    ("/public/assets/..%2Froutes%2Ftransparency.py", 404, "application/json"),
])
def test_pages_and_assets(hall, path, status, kind):
    r = hall["public"].get(path)
    assert r.status_code == status and r.headers["Content-Type"].startswith(kind), (r.status_code, r.headers)
    if kind == "text/html":
        assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        assert '<html lang="zh-CN">' in r.text
