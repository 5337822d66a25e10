"""Issue 12 through the gateway over real HTTP (staff and gateway on the real broker and
PostgreSQL): the one-time-notice ladder fed by ``intake.notice_violation`` (S6/I3), the year
tally (S2) and the year-end board with its CSV and closing (S5), roles and tenancy.

The clock is real: 2025 is over, the current year is not."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from kombu import Connection, Exchange

from services.common import events
from tests.support.runtime import wait_for
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def system(broker, module_database):
    with running_services(broker.uri, module_database, ["staff", "gateway"]) as containers:
        api = gateway_api(containers["gateway"])
        op = api.as_(operator_token(broker.uri))
        town, other = Township(api, op, "year-a"), Township(api, op, "year-b")
        win = town.boss.post("/windows", {"number": 1, "name": "民政"}).json()
        a, a_api = town.person("王晓燕", ["clerk"], window_id=win["id"], badge_no="A1")
        b, _ = town.person("李俊", ["clerk"], window_id=win["id"], badge_no="B1")
        sub, _ = town.person("顶岗", ["clerk"], badge_no="S1")
        _, inspector = town.person("曹建华", ["inspector"])
        stranger, _ = other.person("外镇", ["clerk"], badge_no="X1")
        yield {"api": api, "town": town, "other": other, "boss": town.boss, "a": a, "a_api": a_api, "b": b,
               "sub": sub, "inspector": inspector, "stranger": stranger, "amqp": broker.uri}


def publish_violation(s, person_id, event_id=None):
    body = events.build("intake.notice_violation", s["town"].id, datetime.now(timezone.utc),
                        application_id=uuid.uuid4().hex, person_id=person_id, material="户口簿",
                        reason="not_on_first_notice")
    if event_id:
        body["event_id"] = event_id
    exchange = Exchange("intake.events", type="topic", durable=True)
    with Connection(s["amqp"]) as conn:
        conn.Producer().publish(body, exchange=exchange, routing_key="notice_violation", declare=[exchange],
                                serializer="json")
    return body["event_id"]


def test_s6_the_one_time_notice_ladder_from_intakes_events(system):
    s, boss = system, system["boss"]
    first = publish_violation(s, s["a"]["id"])

    def ladder():
        r = boss.get("/faults")
        assert r.status_code == 200, r.text
        return [f["measure"] for f in sorted(r.json(), key=lambda f: f["facts"])
                if f["person_id"] == s["a"]["id"] and f["kind"] == "one_time_notice"]

    wait_for(lambda: ladder() == ["oral_warning"], timeout=15, message="the first step")
    publish_violation(s, s["a"]["id"], event_id=first)                      # redelivered: no second step
    publish_violation(s, s["a"]["id"])
    wait_for(lambda: len(ladder()) == 2, timeout=15, message="the second step")
    publish_violation(s, s["a"]["id"])
    wait_for(lambda: len(ladder()) == 3, timeout=15, message="the third step")
    assert ladder() == ["oral_warning", "admonition_talk", "efficiency_warning"]   # facts say 第1次, 第2次, 第3次
    own = s["a_api"].get("/faults").json()                                   # the clerk sees their own record
    assert {f["measure"] for f in own} == {"oral_warning", "admonition_talk", "efficiency_warning"}
    assert all(f["appeal_until"] for f in own)
    other = s["api"].as_(s["other"].director_token).get("/faults").json()
    assert other == []                                                      # tenancy


def test_s6_two_violations_handled_at_once_take_two_steps(system):
    """The handlers run concurrently; the person's row is locked while the step is counted."""
    s, boss = system, system["boss"]
    for _ in range(2):
        publish_violation(s, s["sub"]["id"])

    def measures():
        return sorted(f["measure"] for f in boss.get("/faults").json()
                      if f["person_id"] == s["sub"]["id"] and f["kind"] == "one_time_notice")

    wait_for(lambda: len(measures()) == 2, timeout=15, message="both steps")
    assert measures() == ["admonition_talk", "oral_warning"]


def test_s2_the_year_tally_forfeits_the_award_over_the_leave_bar(system):
    s, boss = system, system["boss"]
    r = boss.patch("/settings/staff", {"changes": {"year_leave_max_days": 2}})
    assert r.status_code == 200, r.text
    r = boss.post("/leaves", {"starts_at": "2025-03-03T08:00:00+08:00", "ends_at": "2025-03-05T17:30:00+08:00",
                              "reason": "病假", "substitute_person_id": s["sub"]["id"], "home_unit_endorsed": True,
                              "person_id": s["b"]["id"]})
    assert r.status_code == 201, r.text
    assert boss.post(f"/leaves/{r.json()['id']}/decision", {"approve": True}).status_code == 200
    r = boss.get("/year-tally/2025")
    assert r.status_code == 200, r.text
    rows = {row["person_id"]: row for row in r.json()["rows"]}
    b = rows[s["b"]["id"]]
    assert b["leave_days"] == 3 and b["award_forfeited"] and b["forfeit_reasons"] == ["leave"]
    assert rows[s["a"]["id"]]["award_forfeited"] is False
    assert s["stranger"]["id"] not in rows                                  # tenancy
    r = boss.get("/year-tally/next-year")
    assert r.status_code == 422 and "year" in r.json()["details"]


def test_s5_the_year_end_board_json_csv_and_closing(system):
    s, boss = system, system["boss"]
    r = s["inspector"].post("/faults", {"person_id": s["b"]["id"], "kind": "bribery", "severity": "grave",
                                        "facts": "收受财物", "day": "2025-11-12"})
    assert r.status_code == 201 and r.json()["measure"] == "sanction", r.text
    r = boss.get("/year-end/2025")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["final"] is True and data["quarters"] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    rows = {row["person_id"]: row for row in data["rows"]}
    a, b = rows[s["a"]["id"]], rows[s["b"]["id"]]
    assert a["quarter_mean"] == 100 and a["year_score"] == 100 + a["honour_points"] and a["grade"] == "优秀"
    assert a["honour_points"] == 3 * len(a["honours"]) and a["assessment_award"] is True
    assert b["return_causes"] == ["sanction"] and b["assessment_award"] is False      # the leave bar (S2)
    assert b["award_forfeit_reasons"] == ["leave"] and b["leave_days"] == 3
    assert s["stranger"]["id"] not in rows
    r = boss.get("/year-end/2025/csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode()) and r.content.decode("utf-8-sig").startswith("名次,姓名,工号")
    assert s["a_api"].post("/year-end/2025/close").status_code == 403                  # clerks may not
    r = boss.post("/year-end/2025/close")
    assert r.status_code == 200 and r.json() == {"year": 2025, "returned": []}        # b's return was recorded at once
    notices = boss.get("/home-unit-notices").json()
    assert any(n["person_id"] == s["b"]["id"] and n["cause"].startswith("sanction:") for n in notices)
    this_year = datetime.now(SH).year
    assert boss.post(f"/year-end/{this_year}/close").status_code == 409               # not over yet
    theirs = s["api"].as_(s["other"].director_token).get("/year-end/2025").json()
    assert [row["person_id"] for row in theirs["rows"]] == [s["stranger"]["id"]]      # tenancy
