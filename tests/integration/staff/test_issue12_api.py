"""Issue 12 through the gateway over real HTTP, with staff, notices and the gateway on the real
broker and PostgreSQL and one movable clock:

* S2 study sessions and meetings: a section head schedules one and records who came; an
  unexcused absence is deducted as an absence, a late arrival −1; a clerk may not record;
* S3 sick leave is approved only with its hospital certificate (county level or above);
* S3 a substitute's (顶岗) deduction is charged to the window they stand in for;
* S2 the month's home-unit report: JSON, CSV with a BOM, sent once through the outbox and
  delivered to the directors' inboxes by notices (N1), to be acknowledged;
* tenancy: another township sees none of it (404 / empty), its director is told nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.common.clock import FrozenClock
from tests.support.runtime import wait_for
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration
SH = ZoneInfo("Asia/Shanghai")
# Friday 28 March 2025, 09:00 in Shanghai: the townships are made then
CLOCK = FrozenClock(datetime(2025, 3, 28, 9, 0, tzinfo=SH))
CERT = {"issuer": "县人民医院", "issuer_level": "county", "issued_on": "2025-03-28", "document_ref": "scan/2025/0042.pdf"}


def at(*args):
    CLOCK.set(datetime(*args, tzinfo=SH))


def local(*args) -> str:
    return datetime(*args, tzinfo=SH).isoformat()


@pytest.fixture(scope="module")
def system(broker, module_database):
    at(2025, 3, 28, 9)
    with running_services(broker.uri, module_database, ["staff", "notices", "gateway"], clock=CLOCK) as containers:
        api = gateway_api(containers["gateway"])
        op = api.as_(operator_token(broker.uri))
        town, other = Township(api, op, "i12-a"), Township(api, op, "i12-b")
        win = town.boss.post("/windows", {"number": 1, "name": "民政"}).json()
        people = {}
        for key, roles, window, unit in [("a", ["clerk"], win["id"], "县民政局"), ("b", ["clerk"], win["id"], "县民政局"),
                                         ("c", ["clerk"], None, "县卫健局"), ("sub", ["clerk"], None, "县民政局"),
                                         ("head", ["section_head"], None, "县民政局"),
                                         ("inspector", ["inspector"], None, None)]:
            fields = {"badge_no": key.upper(), **({"window_id": window} if window else {}),
                      **({"home_unit": unit} if unit else {})}
            people[key] = town.person(f"{key.upper()}-i12", roles, **fields)
        assert town.boss.put(f"/windows/{win['id']}/ab-pair", {"a_person_id": people["a"][0]["id"],
                                                                "b_person_id": people["b"][0]["id"]}).status_code == 200
        stranger = other.person("外镇职员", ["clerk"], home_unit="县民政局")
        yield {"town": town, "other": other, "window": win, "stranger": stranger,
               "id": {k: p["id"] for k, (p, _) in people.items()}, "as": {k: c for k, (_, c) in people.items()}}


def scores(system, key, quarter="2025Q1"):
    r = system["town"].boss.get(f"/scores/{system['id'][key]}/{quarter}")
    assert r.status_code == 200, r.text
    return r.json()


def test_s2_a_session_records_who_came_and_deducts_an_unexcused_absence_and_lateness(system):
    at(2025, 3, 28, 9)
    head, clerk, ids = system["as"]["head"], system["as"]["a"], system["id"]
    body = {"kind": "study", "topic": "行政许可法学习", "starts_at": local(2025, 3, 28, 15),
            "ends_at": local(2025, 3, 28, 16), "location": "三楼会议室"}
    assert clerk.post("/meetings", body).status_code == 403
    bad = head.post("/meetings", {**body, "starts_at": local(2025, 3, 29, 15), "ends_at": local(2025, 3, 29, 16)})
    assert bad.status_code == 422 and "starts_at" in bad.json()["details"], bad.text  # a Saturday (C2a)
    r = head.post("/meetings", body)
    assert r.status_code == 201, r.text
    session = r.json()
    records = {"records": [{"person_id": ids["a"], "status": "present"}, {"person_id": ids["b"], "status": "late"},
                           {"person_id": ids["c"], "status": "absent"},
                           {"person_id": ids["sub"], "status": "absent", "excused": True, "reason": "县局培训"}]}
    early = head.post(f"/meetings/{session['id']}/attendance", records)
    assert early.status_code == 409, early.text  # not started yet
    at(2025, 3, 28, 16, 30)
    assert clerk.post(f"/meetings/{session['id']}/attendance", records).status_code == 403
    wrong = head.post(f"/meetings/{session['id']}/attendance",
                      {"records": [{"person_id": ids["a"], "status": "asleep"}]})
    assert wrong.status_code == 422 and "records" in wrong.json()["details"], wrong.text
    r = head.post(f"/meetings/{session['id']}/attendance", records)
    assert r.status_code == 200, r.text
    got = {a["person_id"]: (a["status"], a["excused"], a["points"]) for a in r.json()["attendance"]}
    assert got == {ids["a"]: ("present", False, 0), ids["b"]: ("late", False, -1), ids["c"]: ("absent", False, -3),
                   ids["sub"]: ("absent", True, 0)}
    assert [(e["rule_code"], e["points"], e["source"]) for e in scores(system, "c")] == [("absence_half", -3, "meeting")]
    assert [(e["rule_code"], e["points"]) for e in scores(system, "b")] == [("meeting_late", -1)]
    listed = clerk.get("/meetings?from=2025-03-01&to=2025-03-31")
    assert listed.status_code == 200 and [s["id"] for s in listed.json()] == [session["id"]]
    # tenancy: another township's director sees nothing of it and cannot record into it
    boss_b = system["other"].boss
    assert boss_b.get(f"/meetings/{session['id']}").status_code == 404
    assert boss_b.post(f"/meetings/{session['id']}/attendance", records).status_code == 404
    assert boss_b.get("/meetings").json() == []


def test_s3_sick_leave_is_approved_only_with_its_certificate(system):
    at(2025, 3, 28, 16, 40)
    c, head = system["as"]["c"], system["as"]["head"]
    r = c.post("/leaves", {"starts_at": local(2025, 3, 31, 8), "ends_at": local(2025, 3, 31, 10), "reason": "发烧",
                           "kind": "sick"})
    assert r.status_code == 201, r.text
    lv = r.json()
    assert (lv["kind"], lv["certificate"]) == ("sick", None)
    refused = head.post(f"/leaves/{lv['id']}/decision", {"approve": True})
    assert refused.status_code == 422 and "certificate" in refused.json()["details"], refused.text
    low = c.post(f"/leaves/{lv['id']}/certificate", {**CERT, "issuer_level": "township"})
    assert low.status_code == 422 and "certificate.issuer_level" in low.json()["details"], low.text
    assert system["other"].boss.post(f"/leaves/{lv['id']}/certificate", CERT).status_code == 404
    r = c.post(f"/leaves/{lv['id']}/certificate", CERT)
    assert r.status_code == 200, r.text
    assert r.json()["certificate"] == {**CERT, "recorded_by": system["id"]["c"]}
    r = head.post(f"/leaves/{lv['id']}/decision", {"approve": True})
    assert r.status_code == 200 and r.json()["state"] == "approved", r.text
    assert c.post(f"/leaves/{lv['id']}/certificate", CERT).status_code == 409  # one per leave


def test_s3_a_substitutes_deduction_is_charged_to_the_window_they_stand_in_for(system):
    at(2025, 3, 28, 16, 50)
    a, head, ids = system["as"]["a"], system["as"]["head"], system["id"]
    r = a.post("/leaves", {"starts_at": local(2025, 3, 31, 8), "ends_at": local(2025, 3, 31, 17, 30),
                           "reason": "探亲", "substitute_person_id": ids["sub"]})
    assert r.status_code == 201, r.text
    lv = r.json()
    assert head.post(f"/leaves/{lv['id']}/decision", {"approve": True}).status_code == 200
    at(2025, 3, 31, 11)
    r = system["as"]["inspector"].post("/scores", {"person_id": ids["sub"], "rule_code": "forbidden_language",
                                                    "reason": "使用忌语", "day": "2025-03-31"})
    assert r.status_code == 201, r.text
    assert (r.json()["window_id"], r.json()["substitute_leave_id"]) == (system["window"]["id"], lv["id"])
    ws = head.get("/window-scores/2025Q1")
    assert ws.status_code == 200, ws.text
    [w] = ws.json()["windows"]
    assert (w["number"], w["substitute_points"], w["substitute_violations"]) == (1, -1, 1)
    assert system["other"].boss.get("/window-scores/2025Q1").json()["windows"] == []


def test_s2_the_months_home_unit_report_is_sent_once_and_reaches_the_directors_inbox(system):
    town, boss = system["town"], system["town"].boss
    at(2025, 4, 1, 9)
    not_yet = boss.post("/home-unit-reports/2025-03/send")
    assert not_yet.status_code == 409, not_yet.text  # 28 and 31 March are not closed yet
    for day in ("2025-03-28", "2025-03-31"):
        r = boss.post(f"/attendance/days/{day}/close")
        assert r.status_code in (200, 409), r.text  # 409: the service's own sweep closed it first
    assert system["as"]["a"].get("/home-unit-reports/2025-03").status_code == 403
    assert boss.get("/home-unit-reports/2025-13").status_code == 422
    r = boss.get("/home-unit-reports/2025-03")
    assert r.status_code == 200, r.text
    units = {u["home_unit"]: {p["person_id"]: p for p in u["people"]} for u in r.json()["units"]}
    ids = system["id"]
    assert set(units) == {"县民政局", "县卫健局"}
    assert set(units["县卫健局"]) == {ids["c"]} and ids["inspector"] not in units["县民政局"]
    assert units["县卫健局"][ids["c"]]["sessions_absent_unexcused"] == 1
    csv = boss.get("/home-unit-reports/2025-03/csv")
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf"), csv.content[:20]
    assert csv.content.decode("utf-8-sig").splitlines()[0].startswith("派出单位,姓名")
    sent = boss.post("/home-unit-reports/2025-03/send")
    assert sent.status_code == 200, sent.text
    assert sorted(sent.json()["sent"]) == ["县卫健局", "县民政局"] and sent.json()["already_sent"] == []
    again = boss.post("/home-unit-reports/2025-03/send", headers={"Idempotency-Key": "another-send"})
    assert again.status_code == 200 and again.json()["sent"] == [], again.text

    def told():
        items = boss.get("/me/notices?per_page=100").json()["items"]
        return [n for n in items if n["source_event"] == "staff.home_unit_report_sent"]

    wait_for(lambda: len(told()) == 2, timeout=30, message="the directors to be told of both home units")
    notices = told()
    assert all(n["rule"] == "S2" and n["needs_ack"] for n in notices)
    health = next(n for n in notices if "县卫健局" in n["title"])
    assert "C-i12" in health["body"] and "2025-03" in health["title"]
    assert boss.post(f"/me/notices/{health['id']}/ack", {"note": "已通报"}).status_code == 200
    # tenancy: the other township's director is told nothing, and its report has only its own people
    other_boss = system["other"].boss
    assert not [n for n in other_boss.get("/me/notices?per_page=100").json()["items"]
                if n["source_event"] == "staff.home_unit_report_sent"]
    theirs = other_boss.get("/home-unit-reports/2025-03").json()["units"]
    assert [[p["person_id"] for p in u["people"]] for u in theirs] == [[system["stranger"][0]["id"]]]
