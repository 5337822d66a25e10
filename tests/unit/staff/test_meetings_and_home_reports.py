"""Issue 12, S2: study sessions and meetings (who attended, who was absent and why; unexcused
absence = absence, late −1) and the monthly report to the home units (CSV and the outbox event
notices delivers) — rules as tables, then use cases on a real unit of work (SQLite, frozen
clock), tenancy included."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.staff import attendance, home_reports, leave, meetings, scoring
from services.staff import organisation as org
from services.staff.models import ScoreEntry
from services.staff.rules import RULES

from .conftest import local


# -- S2 sessions: the rules as tables ------------------------------------------------------------

@pytest.mark.parametrize("status,excused,on_leave,cost", [
    ("present", False, False, None),
    ("late", False, False, "late"),          # S2: a late arrival −1
    ("early", False, False, "late"),         # seed 000: an early departure too
    ("absent", False, False, "absence"),     # S2: missing one without leave counts as absence
    ("absent", True, False, None),           # excused (因故请假)
    ("absent", False, True, None),           # approved leave covers the session
    ("late", False, True, None),
])
def test_s2_what_a_session_record_costs(status, excused, on_leave, cost):
    assert meetings.outcome(status, excused, on_leave) == cost


@pytest.mark.parametrize("record,field", [
    ({"person_id": "p", "status": "present"}, None),
    ({"person_id": "p", "status": "absent", "excused": True, "reason": "县里开会"}, None),
    ({"person_id": "p", "status": "gone"}, "records.0.status"),
    ({"status": "present"}, "records.0.person_id"),
    ({"person_id": "p", "status": "late", "excused": True, "reason": "x"}, "records.0.excused"),
    ({"person_id": "p", "status": "absent", "excused": True}, "records.0.reason"),   # why, when excused
    ({"person_id": "p", "status": "absent", "excused": "yes"}, "records.0.excused"),
    ("p", "records.0"),
])
def test_s2_a_session_record_is_checked_field_by_field(record, field):
    problems = meetings.record_problems(record, 0)
    assert (list(problems) == [field]) if field else problems == {}


# -- S2 sessions: use cases ----------------------------------------------------------------------

def schedule(world, kind="study", day=(2025, 3, 3), start=(15, 0), end=(16, 0), by="head"):
    with world.uow() as uow:
        return meetings.schedule(uow, world.people[by], kind, "行政许可法学习",
                                 local(*day, *start).isoformat(), local(*day, *end).isoformat(), "三楼会议室")


def record(world, session_id, *rows, by="head"):
    with world.uow() as uow:
        return meetings.record_attendance(uow, world.people[by], session_id, [
            {"person_id": world.people[key], "status": status, **extra} for key, status, extra in rows])


def meeting_entries(world):
    with world.uow() as uow:
        return sorted((k, e.rule_code, e.points) for e in uow.scalars(select(ScoreEntry).where(
            ScoreEntry.source == "meeting")) for k, pid in world.people.items() if pid == e.person_id)


def test_s2_a_session_records_who_came_and_scores_unexcused_absence_as_absence_and_lateness(world):
    world.at(2025, 3, 3, 17, 30)
    s = schedule(world)
    assert (s["kind"], s["day"], s["attendance"]) == ("study", "2025-03-03", [])
    out = record(world, s["id"], ("a", "present", {}), ("b", "late", {}), ("c", "absent", {}),
                 ("d", "absent", {"excused": True, "reason": "到县局参加培训"}), ("head", "early", {}))
    got = {r["name"]: (r["status"], r["excused"], r["reason"], r["points"]) for r in out["attendance"]}
    assert got == {"A": ("present", False, None, 0), "B": ("late", False, None, -1),
                   "C": ("absent", False, None, -3), "D": ("absent", True, "到县局参加培训", 0),
                   "HEAD": ("early", False, None, -1)}
    # the same rules as attendance: absence_half (−3, 工作纪律), and the meeting lateness rule (−1)
    assert meeting_entries(world) == [("b", "meeting_late", -1), ("c", "absence_half", -3),
                                      ("head", "meeting_late", -1)]
    # a correction replaces the record and its deduction; nothing counts twice
    record(world, s["id"], ("c", "absent", {"excused": True, "reason": "病假"}), ("b", "late", {}))
    assert meeting_entries(world) == [("b", "meeting_late", -1), ("head", "meeting_late", -1)]


def test_s2_approved_leave_covering_the_session_excuses_the_absence(world):
    world.at(2025, 3, 3, 9)
    with world.uow() as uow:
        lv = leave.request_leave(uow, world.people["a"], world.people["a"], local(2025, 3, 3, 14, 30).isoformat(),
                                 local(2025, 3, 3, 16, 30).isoformat(), "看病")
        leave.decide_leave(uow, world.people["head"], ["section_head"], lv["id"], True)
    world.at(2025, 3, 3, 17)
    s = schedule(world)
    out = record(world, s["id"], ("a", "absent", {}))
    assert [(r["excused"], r["reason"], r["points"]) for r in out["attendance"]] == [(True, "请假（已批准）", 0)]
    assert meeting_entries(world) == []


def test_s2_the_absence_rule_is_data(world):
    """A township that deducts 2 for a missed session (seed 004) names its own rule."""
    world.at(2025, 3, 3, 17)
    with world.uow() as uow:
        scoring.update_rule(uow, "meeting_absent", points=-2, category="工作纪律", description="会议无故缺席")
        RULES.update(uow, {"meeting_absence_rule": "meeting_absent"})
    s = schedule(world, kind="meeting")
    record(world, s["id"], ("c", "absent", {}))
    assert meeting_entries(world) == [("c", "meeting_absent", -2)]


@pytest.mark.parametrize("day,start,end,field", [
    ((2025, 3, 8), (15, 0), (16, 0), "starts_at"),    # a Saturday: the hall is closed (C2a)
    ((2025, 3, 3), (16, 0), (15, 0), "ends_at"),
])
def test_s2_a_session_is_on_a_working_day_and_ends_after_it_starts(world, day, start, end, field):
    with pytest.raises(ValidationFailed) as err:
        schedule(world, day=day, start=start, end=end)
    assert field in err.value.details


def test_s2_nothing_is_recorded_before_a_session_starts_nor_half_a_list(world):
    world.at(2025, 3, 3, 9)
    s = schedule(world)
    with pytest.raises(Conflict):
        record(world, s["id"], ("a", "absent", {}))
    world.at(2025, 3, 3, 17)
    with pytest.raises(ValidationFailed) as err:
        record(world, s["id"], ("a", "absent", {}), ("b", "asleep", {}))
    assert "records.1.status" in err.value.details
    with world.uow() as uow:
        assert meetings.get_session(uow, s["id"])["attendance"] == []
    assert meeting_entries(world) == []


def other_township(world):
    with world.uow(None) as uow:
        made = org.create_township(uow, "hs", "花山镇", {"name": "吴主任"})
    tid = made["township"]["id"]
    with world.uow(tid) as uow:
        stranger = org.create_person(uow, "外镇", ["clerk"], home_unit="民政办")["id"]
    return tid, stranger


def test_s2_sessions_are_invisible_to_another_township_and_take_none_of_its_people(world):
    world.at(2025, 3, 3, 17)
    s = schedule(world)
    tid, stranger = other_township(world)
    with world.uow(tid) as uow:
        with pytest.raises(NotFound):
            meetings.get_session(uow, s["id"])
        assert meetings.list_sessions(uow) == []
    with world.uow() as uow:
        with pytest.raises(NotFound):
            meetings.record_attendance(uow, world.people["head"], s["id"],
                                       [{"person_id": stranger, "status": "absent"}])


# -- S2 monthly home-unit report: tables ----------------------------------------------------------

@pytest.mark.parametrize("rows,expected", [
    ([("am", "late", False), ("pm", "early", False)], dict(late=1, early=1)),
    ([("am", "late_early", False)], dict(late=1, early=1)),
    ([("am", "absent", False), ("pm", "absent", False)], dict(absent_halves=2)),
    ([("a1", "accumulated", False)], dict(accumulated_days=1)),
    ([("am", "leave", False), ("pm", "on_time", False)], dict(leave_halves=1)),
    ([("am", "absent", True)], {}),   # excused after an objection: on time
])
def test_s2_the_months_attendance_counts(rows, expected):
    base = dict(late=0, early=0, absent_halves=0, accumulated_days=0, leave_halves=0)
    assert home_reports.attendance_counts(rows) == {**base, **expected}


@pytest.mark.parametrize("month,quarter,expected", [
    ([-1, -3, 2], [("工作纪律", -1), ("工作纪律", -3), ("加分", 2)], dict(deducted=4, credits=2, quarter_score=98)),
    ([], [("工作纪律", -25)], dict(deducted=0, credits=0, quarter_score=80)),   # S4: the category's cap (20)
])
def test_s2_the_months_scores(month, quarter, expected):
    assert home_reports.score_counts(month, quarter, {"工作纪律": 20}, 100) == expected


# -- S2 monthly home-unit report: use cases -------------------------------------------------------

def close_month(world, first: date, last: date):
    day = first
    while day <= last:
        with world.uow() as uow:
            if attendance.load_calendar(uow.session, uow.common, uow.township_id).is_working_day(day):
                attendance.close_day(uow, day)
        day += timedelta(days=1)


@pytest.fixture
def month_world(world):
    """March 2025: c and d come from another home unit; a is late once, a study session is
    missed by c; a and b were at work every day (the others are absent on the days closed)."""
    world.at(2025, 3, 3, 9)
    with world.uow() as uow:
        for key in ("c", "d"):
            org.update_person(uow, world.people[key], home_unit="县卫健局")
        org.update_person(uow, world.people["head"], home_unit="=HYPERLINK(\"http://x\")")
    world.at(2025, 3, 3, 17)
    s = schedule(world)
    record(world, s["id"], ("a", "late", {}), ("c", "absent", {}), ("d", "present", {}))
    with world.uow() as uow:
        scoring.manual_entry(uow, world.people["inspector"], world.people["b"], "praise_written", "锦旗")
    return world


def unit_rows(report, unit):
    [u] = [u for u in report["units"] if u["home_unit"] == unit]
    return {r["name"]: r for r in u["people"]}


def test_s2_each_home_unit_gets_its_peoples_month(month_world):
    w = month_world
    with w.uow() as uow:
        report = home_reports.month_reports(uow, "2025-03")
    assert sorted(u["home_unit"] for u in report["units"]) == ["=HYPERLINK(\"http://x\")", "县卫健局", "民政办"]
    civil, health = unit_rows(report, "民政办"), unit_rows(report, "县卫健局")
    assert sorted(civil) == ["A", "B"] and sorted(health) == ["C", "D"]  # the inspector's attendance is not kept
    assert (civil["A"]["sessions_late"], civil["A"]["deducted"], civil["A"]["quarter_score"]) == (1, 1, 99)
    assert (civil["B"]["credits"], civil["B"]["quarter_score"]) == (2, 102)
    assert (health["C"]["sessions_absent_unexcused"], health["C"]["deducted"]) == (1, 3)
    assert health["D"]["sessions_attended"] == 1
    with w.uow() as uow:
        only = home_reports.month_reports(uow, "2025-03", "县卫健局")
    assert [u["home_unit"] for u in only["units"]] == ["县卫健局"]


def test_s2_the_csv_is_formula_safe(month_world):
    with month_world.uow() as uow:
        text = home_reports.month_csv(uow, "2025-03")
    lines = text.splitlines()
    assert lines[0].startswith("派出单位,姓名,工号,窗口,迟到")
    assert "'=HYPERLINK" in text and not any(line.lstrip('"').startswith("=") for line in lines)  # csvsafe
    assert any(line.startswith("县卫健局,C,B03,2,") for line in lines)


def test_s2_a_month_is_sent_once_when_over_and_closed_through_the_outbox(month_world):
    w = month_world
    with w.uow() as uow:
        with pytest.raises(Conflict, match="not over"):
            home_reports.send(uow, "2025-03")
    w.at(2025, 4, 1, 9)
    with w.uow() as uow:
        with pytest.raises(Conflict) as err:
            home_reports.send(uow, "2025-03")
    assert "2025-03-31" in err.value.details["month"]
    close_month(w, date(2025, 3, 3), date(2025, 3, 31))
    with w.uow() as uow:
        sent = home_reports.send(uow, "2025-03", w.people["director"])
    assert sorted(sent["sent"]) == ["=HYPERLINK(\"http://x\")", "县卫健局", "民政办"] and sent["already_sent"] == []
    events = w.units.outbox("staff.home_unit_report_sent")
    assert len(events) == 3
    health = next(e for e in events if e["home_unit"] == "县卫健局")
    assert health["month"] == "2025-03" and {p["person_id"] for p in health["people"]} == {
        w.people["c"], w.people["d"]}
    assert all(set(p) == set(home_reports.EVENT_FIELDS) for p in health["people"])  # ids and figures only
    with w.uow() as uow:
        again = home_reports.send(uow, "2025-03")
        assert again["sent"] == [] and len(again["already_sent"]) == 3
        assert all(u["sent_at"] for u in home_reports.month_reports(uow, "2025-03")["units"])
    assert len(w.units.outbox("staff.home_unit_report_sent")) == 3


def test_s2_the_sweep_sends_last_months_reports_by_itself_once_its_days_are_closed(month_world):
    from services.staff import sweep

    w = month_world
    w.at(2025, 4, 1, 9)
    close_month(w, date(2025, 3, 3), date(2025, 3, 30))  # the 31st is still open
    assert sweep.sweep(w.units.sweep_run())["home_unit_reports"] == 3  # the sweep closed the 31st first
    assert sweep.sweep(w.units.sweep_run())["home_unit_reports"] == 0
    assert len(w.units.outbox("staff.home_unit_report_sent")) == 3


def test_s2_another_townships_report_has_none_of_these_people(month_world):
    tid, stranger = other_township(month_world)
    with month_world.uow(tid) as uow:
        report = home_reports.month_reports(uow, "2025-03")
    assert [[r["person_id"] for r in u["people"]] for u in report["units"]] == [[stranger]]


def test_s2_a_session_missed_without_leave_is_half_a_day_of_absence_in_the_year_tally(world):
    from services.staff import yeartally

    world.at(2025, 3, 3, 17)
    s = schedule(world)
    record(world, s["id"], ("c", "absent", {}), ("d", "absent", {"excused": True, "reason": "病假"}),
           ("b", "late", {}))
    with world.uow() as uow:
        days = yeartally.year_days(uow, 2025)
    assert days[world.people["c"]]["absence_days"] == 0.5
    assert world.people["d"] not in days and world.people["b"] not in days
