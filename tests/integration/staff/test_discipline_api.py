"""Staff discipline (issue #4) through the gateway over real HTTP, with the staff service on
the real broker and PostgreSQL: duplicates of source events deduct once, leave announces
staff.leave_approved / staff.returned, attendance and its CSV, patrols scored through their
own event, roles, tenancy and errors (DOMAIN S1–S8, T2)."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from kombu import Connection, Exchange, Queue

from services.common import events
from services.common.calendar import WorkingCalendar
from services.common.metrics import find_metrics
from services.staff.periods import quarter_of
from tests.support.runtime import wait_for
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration
SH = ZoneInfo("Asia/Shanghai")


def past_working_day(min_back=3) -> date:
    cal, day = WorkingCalendar(), datetime.now(SH).date() - timedelta(days=min_back)
    while not cal.is_working_day(day):
        day -= timedelta(days=1)
    return day


@pytest.fixture(scope="module")
def system(broker, module_database):
    with running_services(broker.uri, module_database, ["staff", "gateway"]) as containers:
        api = gateway_api(containers["gateway"])
        op = api.as_(operator_token(broker.uri))
        town, other_town = Township(api, op, "disc-a"), Township(api, op, "disc-b")
        a, b, boss = town.record, other_town.record, town.boss
        win = boss.post("/windows", {"number": 1, "name": "民政"}).json()
        people, tokens = {}, {}
        for key, roles, window in [("a", ["clerk"], win["id"]), ("b", ["clerk"], win["id"]),
                                   ("head", ["section_head"], None), ("inspector", ["inspector"], None)]:
            body = {"name": key.upper(), "roles": roles, "badge_no": key.upper()}
            if window:
                body["window_id"] = window
            people[key] = boss.post("/people", body).json()["id"]
            tokens[key] = town.sign_in_as(people[key]).token
        assert boss.put(f"/windows/{win['id']}/ab-pair",
                        {"a_person_id": people["a"], "b_person_id": people["b"]}).status_code == 200
        yield {"api": api, "boss": boss, "a": a, "b": b, "people": people, "window": win,
               "as": {k: api.as_(t) for k, t in tokens.items()}, "amqp": broker.uri, "staff": containers["staff"]}


def publish(amqp, source, fact, body):
    exchange = Exchange(f"{source}.events", type="topic", durable=True)
    with Connection(amqp) as conn:
        conn.Producer().publish(body, exchange=exchange, routing_key=fact, declare=[exchange], serializer="json")


def duplicates(system, event_type):
    reg = find_metrics(system["staff"]).registry
    return reg.get_sample_value("events_duplicate_total", {"service": "staff", "event_type": event_type}) or 0


def test_the_same_case_overdue_or_complaint_verified_delivered_twice_deducts_once(system):
    township_id, P, boss = system["a"]["township"]["id"], system["people"], system["boss"]
    due = past_working_day()
    now = datetime.now(timezone.utc)
    overdue = events.build("cases.case_overdue", township_id, now, case_id=uuid.uuid4().hex, receipt_no="QS-1",
                           handler_person_id=P["a"], due_date=due.isoformat())
    complaint = events.build("complaints.complaint_verified", township_id, now, complaint_id=uuid.uuid4().hex,
                             target_person_id=P["b"], category="attitude")
    for _ in range(2):
        publish(system["amqp"], "cases", "case_overdue", overdue)
        publish(system["amqp"], "complaints", "complaint_verified", complaint)
    wait_for(lambda: duplicates(system, "cases.case_overdue") >= 1
             and duplicates(system, "complaints.complaint_verified") >= 1, timeout=15,
             message="both duplicates to be received and skipped")
    a = boss.get(f"/scores/{P['a']}/{quarter_of(due)}").json()
    b = boss.get(f"/scores/{P['b']}/{quarter_of(now.astimezone(SH).date())}").json()
    assert [(e["rule_code"], e["points"]) for e in a] == [("overdue_case", -4)]
    assert [(e["rule_code"], e["points"]) for e in b] == [("complaint_verified", -5)]
    board = boss.get(f"/scoreboard/{quarter_of(now.astimezone(SH).date())}").json()
    row_b = next(r for r in board["rows"] if r["person_id"] == P["b"])
    assert row_b["vetoed"] is True


def test_leave_approval_and_return_are_announced_with_the_schema_fields(system):
    P, clerk, head = system["people"], system["as"]["a"], system["as"]["head"]
    exchange = Exchange("staff.events", type="topic", durable=True)
    with Connection(system["amqp"]) as conn:
        queue = Queue("test-discipline-leave-" + uuid.uuid4().hex[:6], exchange=exchange,
                      routing_key="*", auto_delete=True)
        bound = queue(conn.default_channel)
        bound.declare()
        bound.bind_to(exchange=exchange, routing_key="leave_approved")
        bound.bind_to(exchange=exchange, routing_key="returned")
        future = WorkingCalendar().next_working_day(datetime.now(SH).date() + timedelta(days=30))
        start = datetime(future.year, future.month, future.day, 14, 30, tzinfo=SH)
        body = {"starts_at": start.isoformat(), "ends_at": start.replace(hour=17, minute=30).isoformat(),
                "reason": "体检"}
        r = clerk.post("/leaves", body)
        assert r.status_code == 422 and "substitute_person_id" in r.json()["details"]
        r = clerk.post("/leaves", {**body, "substitute_person_id": P["b"]})
        assert r.status_code == 201, r.text
        lv = r.json()
        assert clerk.post(f"/leaves/{lv['id']}/decision", {"approve": True}).status_code == 403
        r = head.post(f"/leaves/{lv['id']}/decision", {"approve": True})
        assert r.status_code == 200 and r.json()["state"] == "approved"
        assert head.post(f"/leaves/{lv['id']}/decision", {"approve": True}).status_code == 409
        assert clerk.post(f"/leaves/{lv['id']}/return").status_code == 200
        got = {}

        def received():
            msg = bound.get(no_ack=True)
            if msg is not None:
                got[msg.payload["event_type"]] = msg.payload
            return len(got) == 2

        wait_for(received, timeout=15, message="leave_approved and returned on staff.events")
    approved = events.parse("staff.leave_approved", got["staff.leave_approved"])
    assert approved["leave_id"] == lv["id"] and approved["person_id"] == P["a"]
    assert approved["substitute_person_id"] == P["b"] and approved["starts_at"] == start
    returned = events.parse("staff.returned", got["staff.returned"])
    assert returned["leave_id"] == lv["id"] and returned["person_id"] == P["a"]
    other = system["api"].as_(system["b"]["director_token"])
    assert other.post(f"/leaves/{lv['id']}/return").status_code == 404


def test_attendance_marks_close_weekly_sheet_and_csv(system):
    P, inspector, clerk = system["people"], system["as"]["inspector"], system["as"]["a"]
    day = past_working_day(min_back=8)
    at = lambda h, m: datetime(day.year, day.month, day.day, h, m, tzinfo=SH).isoformat()  # noqa: E731
    for kind, hhmm in [("in", (8, 25)), ("out", (12, 0)), ("in", (14, 30)), ("out", (17, 30))]:
        r = inspector.post("/attendance/marks", {"person_id": P["a"], "kind": kind, "at": at(*hhmm)})
        assert r.status_code == 201, r.text
    assert clerk.post("/attendance/marks", {"person_id": P["b"], "kind": "in", "at": at(8, 0)}).status_code == 403
    r = inspector.post("/attendance/marks", {"person_id": P["a"], "kind": "sideways", "at": "yesterday"})
    assert r.status_code == 422 and set(r.json()["details"]) == {"kind", "at"}
    r = inspector.post("/attendance/incidents", {"kind": "proxy", "person_id": P["b"], "day": day.isoformat(),
                                                 "half": "pm", "other_person_id": P["head"]})
    assert r.status_code == 201, r.text
    r = inspector.post(f"/attendance/days/{day.isoformat()}/close")
    assert r.status_code == 200, r.text
    assert inspector.post(f"/attendance/days/{day.isoformat()}/close").status_code == 409
    monday = day - timedelta(days=day.weekday())
    sheet = clerk.get(f"/attendance/weeks/{monday.isoformat()}").json()
    rows = {p["person_id"]: p for p in sheet["people"]}
    assert rows[P["a"]]["days"][day.isoformat()]["am"]["status"] == "late"        # 25 min after 08:00
    assert rows[P["b"]]["days"][day.isoformat()]["pm"]["status"] == "absent"
    assert rows[P["head"]]["days"][day.isoformat()]["pm"]["status"] == "absent"   # the proxy signer too
    r = clerk.get(f"/attendance/weeks/{monday.isoformat()}/csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    assert "迟到" in r.content.decode("utf-8-sig").splitlines()[0]
    assert clerk.get("/attendance/weeks/2025-03-04").status_code == 422            # not a Monday
    assert system["api"].get(f"/attendance/weeks/{monday.isoformat()}").status_code == 401  # T2: internal


def test_a_patrol_finding_is_scored_through_its_own_event_once(system):
    P, inspector, boss = system["people"], system["as"]["inspector"], system["boss"]
    day = past_working_day(1)  # C2a: no finding for a day the hall was closed (today may be Sunday)
    r = inspector.post("/patrols", {"half": "am", "day": day.isoformat(),
                                    "findings": [{"person_id": P["head"], "rule_code": "badge", "note": "未佩戴工作牌"}]})
    assert r.status_code == 201, r.text
    quarter = quarter_of(day)
    def badge_scored():
        found = [e for e in boss.get(f"/scores/{P['head']}/{quarter}").json() if e["rule_code"] == "badge"]
        return found or None

    scores = wait_for(badge_scored, timeout=15, message="the patrol finding to be scored")
    assert [(e["rule_code"], e["source"]) for e in scores if e["rule_code"] == "badge"] == [
        ("badge", "staff.patrol_finding")]
    r = inspector.post("/patrols", {"half": "noon", "findings": [{"person_id": P["a"], "rule_code": "late"}]})
    assert r.status_code == 422 and {"half", "findings"} <= set(r.json()["details"])


def test_rules_are_data_scoreboard_csv_and_honours(system):
    boss, clerk, P = system["boss"], system["as"]["a"], system["people"]
    r = boss.patch("/settings/staff", {"changes": {"late_grace_minutes": 30}})
    assert r.status_code == 200 and r.json()["settings"]["late_grace_minutes"] == 30
    assert boss.patch("/settings/staff", {"changes": {"late_grace_minutes": -3}}).status_code == 422
    assert clerk.put("/score-rules/late", {"points": -2}).status_code == 403
    r = boss.put("/score-rules/late", {"points": -2})
    assert r.status_code == 200 and r.json()["points"] == -2
    assert boss.put("/score-rules/late", {"points": 2}).status_code == 422
    r = system["as"]["inspector"].post("/scores", {"person_id": P["a"], "rule_code": "praise_written",
                                                   "reason": "群众送锦旗"})
    assert r.status_code == 201 and r.json()["points"] == 2
    quarter = quarter_of(datetime.now(SH).date())
    r = clerk.get(f"/scoreboard/{quarter}/csv")
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    assert "综合得分" in r.content.decode("utf-8-sig")
    r = clerk.get(f"/honours/{quarter}")
    assert r.status_code == 200 and "tie_rule" in r.json()
    assert clerk.get("/scoreboard/2025Q5").status_code == 422
    roster = {p["person_id"]: p for p in clerk.get("/roster").json()}
    assert roster[P["a"]]["post"] == "A" and roster[P["a"]]["partner_person_id"] == P["b"]


def test_s4_the_director_arranges_duty_on_a_closed_day_only(system):
    """S4/C2a: only work the director arranged on a closed day is overtime; the arrangement is a
    record (who, which day, by whom), for leaders only, on a closed day, once, per township."""
    boss, api, people = system["boss"], system["api"], system["people"]
    cal, day = WorkingCalendar(), datetime.now(SH).date() + timedelta(days=1)
    while cal.is_working_day(day):
        day += timedelta(days=1)
    monday = day
    while not cal.is_working_day(monday):
        monday += timedelta(days=1)
    body = {"person_id": people["a"], "day": day.isoformat(), "note": "周末专班"}
    assert system["as"]["a"].post("/attendance/arranged-duties", body).status_code == 403   # a clerk cannot
    r = boss.post("/attendance/arranged-duties", body)
    assert r.status_code == 201, r.text
    duty = r.json()
    assert (duty["person_id"], duty["day"], duty["note"]) == (people["a"], day.isoformat(), "周末专班")
    assert duty["arranged_by"]
    assert boss.post("/attendance/arranged-duties", body).status_code == 409              # once per person and day
    bad = boss.post("/attendance/arranged-duties", {**body, "day": monday.isoformat()})
    assert bad.status_code == 422 and "day" in bad.text                                   # the hall is open then
    listed = boss.get(f"/attendance/arranged-duties?day={day.isoformat()}").json()
    assert [d["id"] for d in listed] == [duty["id"]]
    other = api.as_(system["b"]["director_token"])
    assert other.get("/attendance/arranged-duties").json() == []                          # not another township's
    assert other.post("/attendance/arranged-duties", body).status_code == 404             # nor its people
