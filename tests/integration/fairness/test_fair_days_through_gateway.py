"""Issue 11 through the gateway (real HTTP, real broker and PostgreSQL): the hall's days (C2a)
and unknown years (C2).

* an application received on a Sunday is accepted on Monday and counted from there;
* attendance of days in a year without calendar data is left open — no absence, deduction or
  hand-over — and settled by the ``staff.calendar_changed`` event when the operator loads the
  year; the provisional deadline of a case running into that year is recomputed by the same
  event; while anything is pending, the gauges the alerts watch say so.

Clocks: staff runs on its own frozen clock (it issues the tokens, checked against real time, so
it starts at real now and moves on only after every token is issued); intake and cases share a
frozen clock in April 2025, later moved to the end of 2026."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import requests

from services.common.clock import FrozenClock
from tests.support.runtime import http_port, wait_for
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration
SH = ZoneInfo("Asia/Shanghai")
APPLICANT = {"name": "李秀兰", "phone": "13812345678", "id_no": "110101199003071234"}


@pytest.fixture(scope="module")
def system(broker, module_database):
    staff_clock = FrozenClock(datetime.now(timezone.utc))
    work_clock = FrozenClock(datetime(2025, 4, 13, 11, 0, tzinfo=SH))  # Sunday 13 Apr 2025
    with running_services(broker.uri, module_database, ["staff"], clock=staff_clock) as staff, \
            running_services(broker.uri, module_database, ["intake", "cases"], clock=work_clock,
                             SWEEP_INTERVAL=0.3) as work, \
            running_services(broker.uri, module_database, ["gateway"]) as gw:
        api = gateway_api(gw["gateway"])
        op = api.as_(operator_token(broker.uri))
        town = Township(api, op, "fair-days")
        dept = town.boss.post("/departments", {"name": "民政办"}).json()
        window = town.boss.post("/windows", {"number": 1, "name": "民政窗口", "department_id": dept["id"]}).json()
        a, a_api = town.person("王晓燕", ["clerk"], window_id=window["id"])
        b, b_api = town.person("李俊", ["clerk"], window_id=window["id"])
        _, inspector = town.person("曹建华", ["inspector"])
        c, _ = town.person("张敏", ["clerk"], window_id=window["id"], badge_no="Z9")
        assert town.boss.put(f"/windows/{window['id']}/ab-pair",
                             {"a_person_id": a["id"], "b_person_id": b["id"]}).status_code == 200
        for code, kind, days in (("MZ-010", "promised", 3), ("MZ-011", "immediate", 0), ("MZ-012", "promised", 5)):
            r = town.boss.post("/intake/items", {
                "code": code, "name": f"事项{code}", "legal_basis": "《社会救助暂行办法》",
                "window_id": window["id"], "department_id": dept["id"],
                "materials": [{"name": "申请书", "main": True}], "default_kind": kind, "promised_days": days})
            assert r.status_code == 201, r.text
        yield {"api": api, "op": op, "town": town, "a": a, "a_api": a_api, "b": b, "c": c, "inspector": inspector,
               "amqp": broker.uri,
               "staff_clock": staff_clock, "work_clock": work_clock, "staff": staff["staff"],
               "cases": work["cases"]}


def apply(s, code):
    r = s["a_api"].post("/intake/applications", {"item_code": code, "applicant": APPLICANT,
                                                 "materials_brought": ["申请书"]})
    assert r.status_code == 201, r.text
    return r.json()["receipt"]


def case_of(s, receipt_no, **expect):
    def found():
        r = s["town"].boss.get(f"/cases/by-receipt/{receipt_no}")
        return r.status_code == 200 and all(r.json().get(k) == v for k, v in expect.items()) and r.json()
    return wait_for(found, timeout=15, message=f"case {receipt_no} with {expect}")


def gauge(container, name, township_id) -> float:
    text = requests.get(f"http://127.0.0.1:{http_port(container)}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(f'{name}{{township_id="{township_id}"}}'):
            return float(line.split()[-1])
    return 0.0


def test_an_application_received_on_a_sunday_is_accepted_and_counted_from_monday(system):
    """C2a: received Sun 13 Apr 2025 → accepted Mon 14 Apr; 3 working days → Thu 17 Apr; an
    immediate case is due on Monday and counts as overdue only after Monday."""
    promised = apply(system, "MZ-010")
    assert (promised["received_on"], promised["accepted_on"], promised["promised_date"]) == \
        ("2025-04-13", "2025-04-14", "2025-04-17")
    assert "顺延至 2025-04-14 受理" in promised["promise"]
    immediate = apply(system, "MZ-011")
    assert (immediate["accepted_on"], immediate["promised_date"]) == ("2025-04-14", "2025-04-14")
    case = case_of(system, promised["receipt_no"], state="in_review")
    assert (case["clock_started_on"], case["due_date"], case["deemed_accepted"]) == ("2025-04-14", "2025-04-17", False)
    quick = case_of(system, immediate["receipt_no"], state="in_review")
    assert quick["due_date"] == "2025-04-14" and quick["target_at"].startswith("2025-04-14T00:30")  # 08:30 local
    # Monday evening: nothing overdue yet (the sweep runs every 0.3 s)
    system["work_clock"].set(datetime(2025, 4, 14, 22, 0, tzinfo=SH))
    time.sleep(1.0)  # several sweeps (every 0.3 s) on the new time
    swept = system["town"].boss.get("/cases?overdue=true")
    assert swept.status_code == 200 and swept.json() == []
    # Tuesday: the immediate case is overdue, counted for Monday (its due day), not the Sunday
    system["work_clock"].set(datetime(2025, 4, 15, 9, 0, tzinfo=SH))
    case_of(system, immediate["receipt_no"], overdue=True, target_missed=True)
    assert [c["id"] for c in system["town"].boss.get("/cases?past_target=true").json()] == [quick["id"]]
    assert system["town"].boss.get(f"/cases/{case['id']}").json()["overdue"] is False
    scores = wait_for(lambda: system["town"].boss.get(f"/scores/{system['a']['id']}/2025Q2").json() or None,
                      timeout=15, message="the overdue deduction")
    assert [(e["rule_code"], e["day"]) for e in scores] == [("overdue_case", "2025-04-14")]


def test_days_of_an_unloaded_year_stay_open_until_the_year_is_loaded(system):
    """C2: 1 and 4 Jan 2027 closed before 2027 is loaded → no absence, deduction or hand-over;
    the operator loads 2027 (1 Jan a holiday) → the event settles both days: an absence for
    Monday 4 Jan only; and a case accepted on 28 Dec 2026 gets its firm deadline."""
    s, boss, tid = system, system["town"].boss, system["town"].id
    # a 5-day case accepted Mon 28 Dec 2026 runs into 2027: provisional (weekends only → 4 Jan)
    s["work_clock"].set(datetime(2026, 12, 28, 10, 0, tzinfo=SH))
    receipt = apply(s, "MZ-012")
    assert receipt["promised_provisional"] is True and receipt["promised_date"] == "2027-01-04"
    case = case_of(s, receipt["receipt_no"], state="in_review")
    assert case["provisional"] is True and case["due_date"] == "2027-01-04"
    assert gauge(s["cases"], "cases_provisional_deadlines", tid) >= 1
    # staff's clock moves to Tue 5 Jan 2027 (every token is issued already)
    s["staff_clock"].set(datetime(2027, 1, 5, 9, 0, tzinfo=SH))
    for day in ("2027-01-01", "2027-01-04"):
        r = s["inspector"].post(f"/attendance/days/{day}/close")
        assert r.status_code == 200, r.text
        assert r.json()["provisional"] is True and r.json()["absent"] == 0
        assert s["inspector"].post(f"/attendance/days/{day}/close").status_code == 409
    assert boss.get(f"/scores/{s['b']['id']}/2027Q1").json() == []
    assert gauge(s["staff"], "staff_attendance_days_open", tid) == 2
    # the operator loads 2027
    r = s["op"].put("/calendar/national", {"days": [{"day": "2027-01-01", "working": False, "note": "元旦"}],
                                           "loaded_year": 2027})
    assert r.status_code == 200, r.text
    scores = wait_for(lambda: boss.get(f"/scores/{s['b']['id']}/2027Q1").json() or None, timeout=15,
                      message="the settled absence")
    assert [(e["rule_code"], e["points"], e["day"]) for e in scores] == [("absence_day", -4, "2027-01-04")]
    sheet = boss.get("/attendance/weeks/2026-12-28").json()
    assert sheet["closed_days"] == ["2027-01-01"] and "2027-01-01" not in sheet["working_days"]
    assert gauge(s["staff"], "staff_attendance_days_open", tid) == 0
    firm = case_of(s, receipt["receipt_no"], provisional=False)
    assert firm["due_date"] == "2027-01-05"  # 29, 30, 31 Dec, (元旦 off), 4, 5 Jan

    def applicant_sees():  # the receipt query (no login) shows the firm date too
        r = s["api"].post(f"/public/townships/{s['town'].code}/receipts/{receipt['receipt_no']}",
                          {"password": receipt["query_password"]})
        return r.status_code == 200 and r.json()["due_date"] == "2027-01-05" and not r.json()["due_provisional"]
    wait_for(applicant_sees, timeout=15, message="the applicant's status to show the firm date")
    assert any(t["action"] == "deadline_changed" for t in firm["trail"])
    wait_for(lambda: gauge(s["cases"], "cases_provisional_deadlines", tid) == 0, timeout=10)


def test_an_escalated_case_waiting_on_the_county_past_its_promise_deducts_nothing(system):
    """I5: the escalated case promises its forwarding date (3 working days); forwarded in time,
    it waits on the county for weeks without being overdue or deducting from anyone; one not
    forwarded by its promise is overdue for the clerk (C5)."""
    s, boss = system, system["town"].boss
    s["work_clock"].set(datetime(2025, 5, 6, 10, 0, tzinfo=SH))  # Tue 6 May 2025
    r = boss.post("/intake/items", {
        "code": "ES-020", "name": "林木采伐许可", "legal_basis": "《森林法》", "level": "county",
        "materials": [{"name": "申请书", "main": True}], "default_kind": "promised", "promised_days": 20})
    assert r.status_code == 201, r.text
    waiting, late = apply(s, "ES-020"), apply(s, "ES-020")
    assert waiting["kind"] == "escalated" and waiting["promised_date"] == "2025-05-09"  # forward by Fri 9 May
    assert "前报送上级" in waiting["promise"]
    case = case_of(s, waiting["receipt_no"], state="escalated")
    other = case_of(s, late["receipt_no"], state="escalated")
    assert case["due_date"] == "2025-05-09" and case["forwarded"] is False
    s["work_clock"].set(datetime(2025, 5, 8, 15, 0, tzinfo=SH))
    r = s["a_api"].post(f"/cases/{case['id']}/forward", {"note": "已报县林业局"})
    assert r.status_code == 200 and r.json()["escalated_on"] == "2025-05-08", r.text
    assert s["a_api"].post(f"/cases/{case['id']}/forward", {}).status_code == 409
    # six weeks later the county is still silent
    s["work_clock"].set(datetime(2025, 6, 20, 10, 0, tzinfo=SH))
    case_of(s, late["receipt_no"], overdue=True)               # never forwarded: overdue (C5)

    def flagged():  # I5: the silence rule still runs (15 calendar days from forwarding)
        got = boss.get(f"/cases/{case['id']}").json()
        return got if got["silence_flagged_at"] else None
    silent = wait_for(flagged, timeout=15, message="the county's silence flagged")
    assert silent["overdue"] is False and silent["overdue_person_id"] is None and silent["state"] == "escalated"

    def deductions():
        found = [e for e in boss.get(f"/scores/{s['a']['id']}/2025Q2").json()
                 if e["rule_code"] == "overdue_case" and e["day"] == "2025-05-09"]
        return found or None
    assert len(wait_for(deductions, timeout=15, message="the late forwarding's deduction")) == 1
    time.sleep(1.0)  # more sweeps: still one (the forwarded case never deducts)
    assert len(deductions()) == 1
    assert boss.get("/cases?overdue=true").json() and all(
        c["id"] != case["id"] for c in boss.get("/cases?overdue=true").json())


def test_honours_exclude_the_year_vetoed_and_those_past_the_60_point_bar(system):
    """S5/S7: in Q1 2027 clerk A loses 70 more points (74 in the year, over 60) and clerk B has a
    verified complaint; in Q2 both have a clean quarter (composite 100) yet neither is 优秀 nor
    honoured; clerk C, with the same clean quarter, is."""
    from services.common import events as ev
    from tests.integration.cases.support import publish

    s, boss, inspector = system, system["town"].boss, system["inspector"]
    s["staff_clock"].set(datetime(2027, 3, 15, 9, 0, tzinfo=SH))  # Monday
    for _ in range(7):
        r = inspector.post("/scores", {"person_id": s["a"]["id"], "rule_code": "bribery", "reason": "吃拿卡要",
                                       "day": "2027-03-15"})
        assert r.status_code == 201, r.text
    body = ev.build("complaints.complaint_verified", s["town"].id, datetime(2027, 3, 15, 2, 0, tzinfo=timezone.utc),
                    complaint_id="k-fair-1", target_person_id=s["b"]["id"], category="attitude")
    publish(s["amqp"], "complaints.complaint_verified", None, None, body=body)
    wait_for(lambda: any(e["rule_code"] == "complaint_verified"
                         for e in boss.get(f"/scores/{s['b']['id']}/2027Q1").json()), timeout=15)
    s["staff_clock"].set(datetime(2027, 7, 1, 9, 0, tzinfo=SH))
    rows = {r["person_id"]: r for r in boss.get("/scoreboard/2027Q2").json()["rows"]}
    a, b, c = rows[s["a"]["id"]], rows[s["b"]["id"]], rows[s["c"]["id"]]
    assert a["composite"] == b["composite"] == c["composite"] == 100
    assert (a["year_deducted"], a["award_eligible"], a["grade"]) == (74, False, "称职")  # 70 + 元月4日 absence
    assert (b["vetoed"], b["year_complaints"], b["grade"]) == (True, 1, "称职")
    assert (c["award_eligible"], c["vetoed"], c["grade"]) == (True, False, "优秀")
    hon = boss.get("/honours/2027Q2").json()
    honoured = [p["person_id"] for p in hon["service_models"] + hon["advanced_individuals"]]
    assert honoured == [s["c"]["id"]]


def test_removal_from_the_window_takes_effect_at_once(system):
    """S6: a serious fault (public criticism) removes clerk A from the window at once: A leaves
    the A post, B holds A's open cases, the directors are told (event), A is off the public
    on-duty list, and a case A would receive is held by B."""
    s, boss, town = system, system["town"].boss, system["town"]
    public = s["api"].get(f"/public/townships/{town.code}/staff-on-duty").json()
    assert "王晓燕" in [p["name"] for p in public]
    held = [c for c in boss.get(f"/cases?holder={s['a']['id']}").json() if c["state"] not in ("decided", "delivered")]
    assert held, "A holds open cases from the earlier tests"
    r = s["inspector"].post("/faults", {"person_id": s["a"]["id"], "kind": "argument", "severity": "serious",
                                        "facts": "与办事群众争吵"})
    assert r.status_code == 201, r.text
    fault = r.json()
    assert fault["measure"] == "public_criticism" and fault["removed_from_window"] is True
    assert fault["notified_on"] == "2027-07-01" and fault["appeal_until"] == "2027-08-12"  # 30 working days
    window = [w for w in boss.get("/windows").json() if w["number"] == 1][0]
    assert (window["a_person_id"], window["b_person_id"]) == (None, s["b"]["id"])
    assert "王晓燕" not in [p["name"] for p in s["api"].get(f"/public/townships/{town.code}/staff-on-duty").json()]

    def moved():
        now = {c["id"]: c["holder_person_id"] for c in boss.get("/cases?limit=500").json()}
        return all(now[c["id"]] == s["b"]["id"] for c in held)
    wait_for(moved, timeout=15, message="A's open cases held by B")
    r = s["a_api"].post("/intake/applications", {"item_code": "MZ-010", "applicant": APPLICANT,
                                                 "materials_brought": ["申请书"]})
    if r.status_code == 201:  # the token still works (accounts may refuse it): the case goes to B
        case = case_of(s, r.json()["receipt"]["receipt_no"], state="in_review")
        assert case["holder_person_id"] == s["b"]["id"]
    else:
        assert r.status_code in (401, 403), r.text


def test_an_appeal_lowering_the_measure_below_removal_puts_the_person_back(system):
    """S6: A appeals the public criticism; the decision lowers it to criticism (no removal), so
    A is back at window 1 on the A post and on the public on-duty list, on record."""
    s, boss, town = system, system["town"].boss, system["town"]
    fault = [f for f in boss.get("/faults").json() if f["person_id"] == s["a"]["id"] and f["removed_from_window"]][0]
    a_api = s["api"].signed_in(*s["a_api"].credentials)   # the removal made A's old token stale
    r = a_api.post(f"/faults/{fault['id']}/appeal", {"reason": "对方先辱骂，已有录像"})
    assert r.status_code == 200, r.text
    r = boss.post(f"/faults/{fault['id']}/appeal-decision", {"upheld": False, "revised_measure": "criticism"})
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["removed_from_window"] is False and decided["restored_at"]
    window = [w for w in boss.get("/windows").json() if w["number"] == 1][0]
    assert decided["removed_window_id"] == window["id"]
    assert (window["a_person_id"], window["b_person_id"]) == (s["a"]["id"], s["b"]["id"])
    assert "王晓燕" in [p["name"] for p in s["api"].get(f"/public/townships/{town.code}/staff-on-duty").json()]
    assert a_api.get("/faults").status_code == 401   # the return changed A's rights too (access_changed)
