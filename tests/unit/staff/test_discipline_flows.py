"""Discipline use cases on a real unit of work (SQLite, frozen clock): attendance closing,
the 5-lates rule, proxy sign-in, holidays and make-up days, leave, scoring from events once,
objections, accountability, patrols, the scoreboard and honours (DOMAIN S1–S8)."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from services.common import events
from services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.staff import accountability, attendance, grades, honours, leave, patrols, roster, scoring
from services.staff import organisation as org
from services.staff.models import AttendanceDay, HomeUnitNotice, ScoreEntry
from services.staff.rules import RULES

from .conftest import local


def marks(world, key, day, *times):
    """Sign-in/out marks at local times like "08:05" (alternating in/out per half)."""
    with world.uow() as uow:
        for kind, hhmm in times:
            h, m = map(int, hhmm.split(":"))
            attendance.record_mark(uow, world.people["inspector"], world.people[key], kind,
                                   local(day.year, day.month, day.day, h, m).isoformat())


def full_day(world, key, day, am_in="08:00", pm_out="17:30"):
    marks(world, key, day, ("in", am_in), ("out", "12:00"), ("in", "14:30"), ("out", pm_out))


def close(world, day):
    with world.uow() as uow:
        return attendance.close_day(uow, day)


def statuses(world, key, day):
    with world.uow() as uow:
        rows = uow.scalars(select(AttendanceDay).where(AttendanceDay.person_id == world.people[key],
                                                       AttendanceDay.day == day))
        return {r.half: r.status for r in rows}


def entries(world, key):
    with world.uow() as uow:
        return sorted((e.rule_code, e.points) for e in uow.scalars(
            select(ScoreEntry).where(ScoreEntry.person_id == world.people[key])))


def test_a_day_is_classified_scored_and_absences_announced(world):
    day = date(2025, 3, 3)  # Monday
    world.at(2025, 3, 4, 9)
    full_day(world, "a", day)
    full_day(world, "b", day, am_in="08:21")                       # late (21 min)
    marks(world, "c", day, ("in", "08:00"), ("out", "12:00"))      # no afternoon at all: absent pm
    # d: nothing all day → a day's absence; head: only a sign-out in the morning → late
    marks(world, "head", day, ("out", "12:00"), ("in", "14:30"), ("out", "17:30"))
    summary = close(world, day)
    assert summary["working_day"] and summary["people"] == 5
    assert statuses(world, "a", day) == {"am": "on_time", "pm": "on_time"}
    assert statuses(world, "b", day) == {"am": "late", "pm": "on_time"}
    assert statuses(world, "c", day) == {"am": "on_time", "pm": "absent"}
    assert statuses(world, "d", day) == {"am": "absent", "pm": "absent"}
    assert statuses(world, "head", day)["am"] == "late"
    assert entries(world, "b") == [("late", -1)]
    assert entries(world, "c") == [("absence_half", -3)]
    assert entries(world, "d") == [("absence_day", -4)]   # a whole day: −4, not 2 × −3
    announced = {(e["person_id"], e["half"]) for e in world.events("staff.absence_recorded")}
    assert announced == {(world.people["c"], "pm"), (world.people["d"], "day")}
    with pytest.raises(Conflict):
        close(world, day)                                   # once only


def test_no_absence_on_a_holiday_and_attendance_on_a_make_up_day(world):
    world.at(2025, 2, 10, 9)
    assert close(world, date(2025, 2, 3))["working_day"] is False    # Spring Festival
    assert statuses(world, "a", date(2025, 2, 3)) == {}
    summary = close(world, date(2025, 2, 8))                          # Saturday make-up working day
    assert summary["working_day"] and summary["absent"] == 10
    assert statuses(world, "a", date(2025, 2, 8)) == {"am": "absent", "pm": "absent"}


def test_fifth_late_in_a_month_adds_a_days_absence(world):
    days = [date(2025, 3, d) for d in (3, 4, 5, 6, 7, 10)]
    world.at(2025, 3, 11, 9)
    for day in days:
        full_day(world, "a", day, am_in="08:30")  # late every morning
        close(world, day)
    got = entries(world, "a")
    assert got.count(("late", -1)) == 6
    assert got.count(("absence_day", -4)) == 1               # on the 5th late, not again on the 6th
    with world.uow() as uow:
        acc = list(uow.scalars(select(AttendanceDay).where(AttendanceDay.status == "accumulated")))
        assert [(r.day, r.person_id) for r in acc] == [(date(2025, 3, 7), world.people["a"])]


def test_the_count_restarts_each_calendar_month(world):
    world.at(2025, 4, 2, 9)
    for day in [date(2025, 3, 27), date(2025, 3, 28), date(2025, 3, 31), date(2025, 4, 1)]:
        marks(world, "b", day, ("in", "08:00"), ("out", "11:00"), ("in", "15:00"), ("out", "17:30"))  # 2 a day
        close(world, day)
    # March: 6 instances (one accumulated day); April 1: 2 instances (none)
    assert entries(world, "b").count(("absence_day", -4)) == 1


def test_proxy_sign_in_is_an_absence_for_both(world):
    day = date(2025, 3, 3)
    world.at(2025, 3, 4, 9)
    full_day(world, "a", day)
    full_day(world, "b", day)
    with world.uow() as uow:
        attendance.record_incident(uow, world.people["inspector"], "proxy", world.people["a"], day, "am",
                                   other_person_id=world.people["b"])
    close(world, day)
    assert statuses(world, "a", day)["am"] == statuses(world, "b", day)["am"] == "absent"
    assert entries(world, "a") == entries(world, "b") == [("absence_half", -3)]


def test_proxy_found_after_closing_still_counts_for_both(world):
    day = date(2025, 3, 3)
    world.at(2025, 3, 4, 9)
    full_day(world, "a", day)
    full_day(world, "b", day)
    close(world, day)
    with world.uow() as uow:
        attendance.record_incident(uow, world.people["inspector"], "proxy", world.people["a"], day, "pm",
                                   other_person_id=world.people["b"])
    assert entries(world, "a") == entries(world, "b") == [("absence_half", -3)]


@pytest.mark.parametrize("minutes, absent", [(60, False), (61, True)])
def test_away_without_leave_more_than_an_hour(world, minutes, absent):
    day = date(2025, 3, 3)
    world.at(2025, 3, 4, 9)
    full_day(world, "a", day)
    with world.uow() as uow:
        attendance.record_incident(uow, world.people["inspector"], "away", world.people["a"], day, "am",
                                   minutes=minutes)
    close(world, day)
    assert (statuses(world, "a", day)["am"] == "absent") is absent


def test_approved_leave_excuses_the_session_and_the_events_carry_the_schema_fields(world):
    world.at(2025, 3, 3, 7)
    with world.uow() as uow:
        lv = leave.request_leave(uow, world.people["a"], world.people["a"], local(2025, 3, 3, 8).isoformat(),
                                 local(2025, 3, 3, 12).isoformat(), "看病", world.people["b"])
    assert lv["level"] == "section_head" and lv["state"] == "requested"
    assert world.events("staff.leave_approved") == []
    with pytest.raises(Forbidden), world.uow() as uow:
        leave.decide_leave(uow, world.people["b"], ["clerk"], lv["id"], True)
    with world.uow() as uow:
        leave.decide_leave(uow, world.people["head"], ["section_head"], lv["id"], True)
    (ev,) = world.events("staff.leave_approved")
    events.parse("staff.leave_approved", ev)
    assert ev["leave_id"] == lv["id"] and ev["person_id"] == world.people["a"]
    assert ev["substitute_person_id"] == world.people["b"]
    assert datetime.fromisoformat(ev["starts_at"]) == local(2025, 3, 3, 8)
    world.at(2025, 3, 3, 12, 5)
    with world.uow() as uow:
        leave.return_from_leave(uow, world.people["a"], ["clerk"], lv["id"])
    (ret,) = world.events("staff.returned")
    assert ret["leave_id"] == lv["id"] and ret["person_id"] == world.people["a"]
    with pytest.raises(Conflict), world.uow() as uow:
        leave.return_from_leave(uow, world.people["a"], ["clerk"], lv["id"])
    world.at(2025, 3, 4, 9)
    marks(world, "a", date(2025, 3, 3), ("in", "14:30"), ("out", "17:30"))
    close(world, date(2025, 3, 3))
    assert statuses(world, "a", date(2025, 3, 3)) == {"am": "leave", "pm": "on_time"}
    assert entries(world, "a") == []


@pytest.mark.parametrize("end, level, needs", [
    (local(2025, 3, 3, 8, 30), "oral", {}),
    (local(2025, 3, 3, 10), "section_head", {}),
    (local(2025, 3, 5, 17, 30), "deputy_director", {"substitute": True, "endorsed": True}),
    (local(2025, 3, 7, 17, 30), "director", {"substitute": True, "endorsed": True}),
])
def test_leave_routing_and_what_each_length_needs(world, end, level, needs):
    world.at(2025, 3, 1, 9)
    args = dict(substitute_person_id=world.people["b"] if needs.get("substitute") else None,
                home_unit_endorsed=bool(needs.get("endorsed")))
    with world.uow() as uow:
        lv = leave.request_leave(uow, world.people["a"], world.people["a"], local(2025, 3, 3, 8).isoformat(),
                                 end.isoformat(), **args)
    assert lv["level"] == level
    assert (lv["state"] == "approved") is (level == "oral")
    if needs.get("endorsed"):
        with pytest.raises(ValidationFailed) as err, world.uow() as uow:
            leave.request_leave(uow, world.people["c"], world.people["c"], local(2025, 3, 3, 8).isoformat(),
                                end.isoformat(), substitute_person_id=world.people["d"])
        assert "home_unit_endorsed" in err.value.details


def test_half_a_day_or_more_needs_a_substitute_who_serves_at_most_a_month(world):
    world.at(2025, 3, 1, 9)
    with pytest.raises(ValidationFailed) as err, world.uow() as uow:
        leave.request_leave(uow, world.people["a"], world.people["a"], local(2025, 3, 3, 14, 30).isoformat(),
                            local(2025, 3, 3, 17, 30).isoformat())
    assert "substitute_person_id" in err.value.details
    with pytest.raises(ValidationFailed) as err, world.uow() as uow:
        leave.request_leave(uow, world.people["a"], world.people["a"], local(2025, 3, 3, 8).isoformat(),
                            local(2025, 4, 10, 17, 30).isoformat(), substitute_person_id=world.people["b"],
                            home_unit_endorsed=True)
    assert "ends_at" in err.value.details
    assert world.events("staff.leave_approved") == []    # nothing half-written


def _event(world, event_type, **fields):
    return events.build(event_type, world.township_id, datetime(2025, 3, 5, 2, tzinfo=timezone.utc), **fields)


def test_the_same_source_event_deducts_once(world):
    world.at(2025, 3, 6, 9)
    overdue = _event(world, "cases.case_overdue", case_id="c1", receipt_no="R1",
                     handler_person_id=world.people["a"], due_date="2025-03-04")
    complaint = _event(world, "complaints.complaint_verified", complaint_id="k1",
                       target_person_id=world.people["b"], category="attitude")
    for _ in range(2):
        with world.uow() as uow:
            scoring.on_case_overdue(uow, events.parse("cases.case_overdue", overdue))
            scoring.on_complaint_verified(uow, events.parse("complaints.complaint_verified", complaint))
    assert entries(world, "a") == [("overdue_case", -4)]
    assert entries(world, "b") == [("complaint_verified", -5)]


def test_events_about_unknown_people_are_not_scored(world):
    ev = _event(world, "intake.notice_violation", application_id="x", person_id=uuid.uuid4().hex, material="m")
    with world.uow() as uow:
        assert scoring.on_notice_violation(uow, events.parse("intake.notice_violation", ev)) is None
        assert list(uow.scalars(select(ScoreEntry))) == []


def test_manual_deduction_needs_a_reason_and_a_known_rule(world):
    world.at(2025, 3, 6, 9)
    with pytest.raises(ValidationFailed) as err, world.uow() as uow:
        scoring.manual_entry(uow, world.people["inspector"], world.people["a"], "forbidden_language", " ")
    assert "reason" in err.value.details
    with pytest.raises(ValidationFailed) as err, world.uow() as uow:
        scoring.manual_entry(uow, world.people["inspector"], world.people["a"], "nope", "x")
    assert "rule_code" in err.value.details
    with world.uow() as uow:
        e = scoring.manual_entry(uow, world.people["inspector"], world.people["a"], "praise_written", "锦旗")
    assert e["points"] == 2 and e["quarter"] == "2025Q1"


def test_a_director_changes_a_rule_at_run_time(world):
    world.at(2025, 3, 6, 9)
    with world.uow() as uow:
        scoring.update_rule(uow, "late", points=-2)
        RULES.update(uow, {"late_grace_minutes": 30})
    with pytest.raises(ValidationFailed), world.uow() as uow:
        scoring.update_rule(uow, "late", points=3)       # a deduction stays negative
    full_day(world, "a", date(2025, 3, 3), am_in="08:25")   # within 30 min now
    full_day(world, "b", date(2025, 3, 3), am_in="08:31")
    close(world, date(2025, 3, 3))
    assert entries(world, "a") == [] and entries(world, "b") == [("late", -2)]


def test_three_of_a_kind_in_a_month_notifies_the_home_unit_once(world):
    world.at(2025, 3, 20, 9)
    for i in range(4):
        with world.uow() as uow:
            scoring.manual_entry(uow, world.people["inspector"], world.people["a"], "badge", f"巡查{i}",
                                 day=f"2025-03-{10 + i}")
    with world.uow() as uow:
        notices = accountability.list_notices(uow)
    assert [(n["person_id"], n["kind"], n["cause"]) for n in notices] == [
        (world.people["a"], "notice", "badge:2025-03")]


def test_patrol_findings_are_announced_and_validated_before_anything_is_written(world):
    world.at(2025, 3, 6, 10)
    with pytest.raises(ValidationFailed) as err, world.uow() as uow:
        patrols.record_patrol(uow, world.people["inspector"], "am",
                              [{"person_id": world.people["a"], "rule_code": "badge"},
                               {"person_id": world.people["b"], "rule_code": "late"}])
    assert "findings[1].rule_code" in err.value.details
    with world.uow() as uow:
        assert patrols.list_patrols(uow) == []
        p = patrols.record_patrol(uow, world.people["inspector"], "am",
                                  [{"person_id": world.people["a"], "rule_code": "phone", "note": "刷视频"}])
    (ev,) = world.events("staff.patrol_finding")
    assert ev["rule_code"] == "phone" and ev["finding_id"] == p["findings"][0]["id"] and ev["note"] is None
    with world.uow() as uow:
        scoring.on_patrol_finding(uow, events.parse("staff.patrol_finding", ev))
    assert entries(world, "a") == [("phone", -3)]


def test_objection_within_two_working_days_of_publication(world):
    world.at(2025, 3, 10, 9)
    for d in range(3, 8):
        full_day(world, "a", date(2025, 3, d), am_in="08:40" if d == 5 else "08:00")
    with pytest.raises(Conflict), world.uow() as uow:
        attendance.publish_week(uow, "2025-03-03")                 # days not closed yet
    for d in range(3, 8):
        close(world, date(2025, 3, d))
    with world.uow() as uow:
        pub = attendance.publish_week(uow, "2025-03-03")          # Mon 10 Mar
        sheet = attendance.weekly_sheet(uow, "2025-03-03")
    assert pub["objection_until"] == "2025-03-12"                  # 2 working days later
    row = next(p for p in sheet["people"] if p["person_id"] == world.people["a"])
    late_id = row["days"]["2025-03-05"]["am"]["id"]
    assert row["late"] == 1
    with pytest.raises(NotFound), world.uow() as uow:
        attendance.object_to(uow, world.people["b"], late_id, "not mine")  # only one's own record
    world.at(2025, 3, 13, 9)
    with pytest.raises(Conflict), world.uow() as uow:
        attendance.object_to(uow, world.people["a"], late_id, "指纹机故障")
    world.at(2025, 3, 12, 17)
    with world.uow() as uow:
        obj = attendance.object_to(uow, world.people["a"], late_id, "指纹机故障")
    with world.uow() as uow:
        attendance.decide_objection(uow, world.people["director"], obj["id"], True)
    assert entries(world, "a") == []
    with world.uow() as uow:
        csv_text = attendance.weekly_csv(uow, "2025-03-03")
    assert csv_text.splitlines()[0].startswith("姓名,工号,窗口,2025-03-03 上午")


def test_accountability_heavier_for_the_second_fault_and_appeal_within_30_working_days(world):
    world.at(2025, 3, 6, 9)
    with world.uow() as uow:
        first = accountability.record_fault(uow, world.people["inspector"], world.people["a"], "attitude",
                                            "minor", "态度生硬", day="2025-03-06")
        second = accountability.record_fault(uow, world.people["inspector"], world.people["a"], "attitude",
                                             "minor", "再次态度生硬", day="2025-03-06")
    assert first["measure"] == "criticism" and second["measure"] == "public_criticism"
    assert second["removed_from_window"] is True
    # S6: 30 working days from the notification (Thu 6 Mar), Qingming (Fri 4 Apr) not counted
    assert first["notified_on"] == "2025-03-06" and first["appeal_until"] == "2025-04-18"
    world.at(2025, 4, 18, 16)
    with world.uow() as uow:
        assert accountability.appeal(uow, world.people["a"], first["id"], "情况说明")["appeal_state"] == "open"
    world.at(2025, 4, 21, 9)
    with pytest.raises(Conflict), world.uow() as uow:
        accountability.appeal(uow, world.people["a"], second["id"], "too late")


@pytest.mark.parametrize("fault_day, recorded, notified_on, until", [
    # the case: a fault of 6 Mar recorded (and notified) on 31 Mar → 30 working days from 31 Mar
    ("2025-03-06", (2025, 3, 31, 10), None, "2025-05-15"),
    ("2025-03-06", (2025, 3, 31, 10), "2025-03-31", "2025-05-15"),
    ("2025-09-19", (2025, 9, 19, 10), None, "2025-11-06"),   # National Day off, 28 Sep / 11 Oct make-up days count
    ("2025-12-31", (2026, 1, 5, 10), "2025-12-31", "2026-02-12"),  # notified earlier than recorded
])
def test_the_appeal_period_runs_from_the_notification_in_working_days(world, fault_day, recorded, notified_on, until):
    world.at(*recorded)
    with world.uow() as uow:
        case = accountability.record_fault(uow, world.people["inspector"], world.people["c"], "attitude", "minor",
                                           "态度生硬", day=fault_day, notified_on=notified_on)
    assert case["appeal_until"] == until
    last = date.fromisoformat(until)
    world.at(last.year, last.month, last.day, 17)
    with world.uow() as uow:
        assert accountability.appeal(uow, world.people["c"], case["id"], "情况说明")["appeal_state"] == "open"


@pytest.mark.parametrize("notified_on, field", [("2025-03-05", "notified_on"), ("2025-04-01", "notified_on")])
def test_a_notification_before_the_fault_or_in_the_future_is_refused(world, notified_on, field):
    world.at(2025, 3, 31, 10)
    with pytest.raises(ValidationFailed) as err, world.uow() as uow:
        accountability.record_fault(uow, world.people["inspector"], world.people["c"], "attitude", "minor", "x",
                                    day="2025-03-06", notified_on=notified_on)
    assert field in err.value.details


def test_removal_leaves_the_window_and_its_post_at_once_and_the_on_duty_list(world):
    """S6: public criticism removes A from the window at once: the A post is empty, B named as
    the one holding A's cases, the directors told; A is off the public on-duty list (T1)."""
    P = world.people
    world.at(2025, 3, 6, 9)
    with world.uow() as uow:
        names = [p["name"] for p in org.staff_on_duty(uow)]
    assert "A" in names and "B" in names
    with world.uow() as uow:
        fault = accountability.record_fault(uow, P["inspector"], P["a"], "attitude", "serious", "与群众争吵")
    assert fault["measure"] == "public_criticism" and fault["removed_from_window"]
    [removed] = world.events("staff.removed_from_window")
    events.parse("staff.removed_from_window", removed)
    assert (removed["person_id"], removed["window_id"], removed["partner_person_id"]) == (
        P["a"], world.windows["civil"], P["b"])
    assert removed["director_person_ids"] == [P["director"]]
    with world.uow() as uow:
        assert org.get_person(uow, P["a"])["window_id"] is None
        window = [w for w in org.list_windows(uow) if w["id"] == world.windows["civil"]][0]
        assert (window["a_person_id"], window["b_person_id"]) == (None, P["b"])
        names = [p["name"] for p in org.staff_on_duty(uow)]
    assert "A" not in names and "B" in names
    # a criticism alone does not remove
    with world.uow() as uow:
        accountability.record_fault(uow, P["inspector"], P["c"], "attitude", "minor", "态度生硬")
    assert len(world.events("staff.removed_from_window")) == 1


@pytest.mark.parametrize("what, on_duty", [
    ("nothing", True),
    ("leave_now", False),          # approved leave covering now
    ("leave_returned", True),      # back early (销假)
    ("leave_tomorrow", True),
    ("away_90", False),            # away from the post more than an hour today
    ("away_30", True),
    ("proxy", False),              # signed in by someone else today
])
def test_on_duty_excludes_people_on_leave_or_absent_today(world, what, on_duty):
    P = world.people
    world.at(2025, 3, 6, 10)  # Thursday 10:00
    with world.uow() as uow:
        if what.startswith("leave"):
            start = local(2025, 3, 7 if what == "leave_tomorrow" else 6, 8)
            lv = leave.request_leave(uow, P["c"], P["c"], start.isoformat(),
                                     start.replace(hour=12).isoformat(), "看病", P["d"])
            leave.decide_leave(uow, P["head"], ["section_head"], lv["id"], True)
            if what == "leave_returned":
                leave.return_from_leave(uow, P["c"], ["clerk"], lv["id"])
        elif what.startswith("away"):
            attendance.record_incident(uow, P["inspector"], "away", P["c"], "2025-03-06", "am",
                                       minutes=int(what[-2:]))
        elif what == "proxy":
            attendance.record_incident(uow, P["inspector"], "proxy", P["c"], "2025-03-06", "am",
                                       other_person_id=P["d"])
    with world.uow() as uow:
        names = [p["name"] for p in org.staff_on_duty(uow)]
    assert ("C" in names) is on_duty
    assert ("D" in names) is (what != "proxy")  # the signer is absent too


def test_two_public_criticisms_in_a_year_return_the_person(world):
    world.at(2025, 3, 6, 9)
    with world.uow() as uow:
        measures = [accountability.record_fault(uow, None, world.people["b"], "argument", "minor", "争吵")["measure"]
                    for _ in range(3)]
        assert measures == ["criticism", "public_criticism", "public_criticism"]
        kinds = {(n.kind, n.cause) for n in uow.scalars(select(HomeUnitNotice))}
    assert ("return", "public_criticism:2025") in kinds


def test_scoreboard_veto_honours_and_return_flag(world):
    world.at(2025, 7, 2, 9)
    P = world.people
    # Q1 and Q2 heavy deductions for d: two 不称职 quarters in a row
    with world.uow() as uow:
        for q_day in ("2025-03-10", "2025-06-10"):
            for code in ("bribery", "fee_violation", "overdue_case", "overdue_case", "overdue_case",
                         "overdue_case", "overdue_case", "overdue_case", "overdue_case", "argument",
                         "complaint_verified", "complaint_verified", "eating", "eating", "eating", "eating",
                         "eating"):
                scoring.manual_entry(uow, P["inspector"], P["d"], code, "x", day=q_day)
        scoring.manual_entry(uow, P["inspector"], P["a"], "praise_media", "报道", day="2025-06-01")
    vc = _event(world, "complaints.complaint_verified", complaint_id="k9", target_person_id=P["b"])
    vc["occurred_at"] = "2025-06-02T02:00:00+00:00"
    with world.uow() as uow:
        scoring.on_complaint_verified(uow, events.parse("complaints.complaint_verified", vc))
        board = grades.scoreboard(uow, "2025Q2")
        hon = honours.honours(uow, "2025Q2")
        csv_text = grades.scoreboard_csv(uow, "2025Q2")
    rows = {r["person_id"]: r for r in board["rows"]}
    assert rows[P["a"]]["centre_score"] == 105 and rows[P["a"]]["grade"] == "优秀"
    assert rows[P["b"]]["centre_score"] == 95 and rows[P["b"]]["grade"] == "称职" and rows[P["b"]]["vetoed"]
    assert rows[P["d"]]["grade"] == "不称职" and rows[P["d"]]["return_to_home_unit"]
    assert rows[P["d"]]["year_deducted"] > 60 and not rows[P["d"]]["award_eligible"]
    assert hon["service_models"][0]["person_id"] == P["a"]
    assert P["b"] not in [r["person_id"] for r in hon["advanced_individuals"]]
    assert "不称职" in csv_text
    with world.uow() as uow:
        assert grades.close_quarter(uow, "2025Q2")["returned"] == [P["d"]]
        assert grades.close_quarter(uow, "2025Q2")["returned"] == []


def test_ratings_and_peer_reviews_feed_the_composite(world):
    world.at(2025, 3, 20, 9)
    P = world.people
    for i, r in enumerate([5, 4, 1]):
        ev = _event(world, "cases.rating_submitted", case_id=f"c{i}", receipt_no="R", rating=r,
                    handler_person_id=P["a"])
        with world.uow() as uow:
            scoring.on_rating_submitted(uow, events.parse("cases.rating_submitted", ev))
            scoring.on_rating_submitted(uow, events.parse("cases.rating_submitted", ev))   # once per case
    with world.uow() as uow:
        grades.submit_peer_review(uow, P["b"], P["a"], "2025Q1", "较好")
        with pytest.raises(Conflict):
            grades.submit_peer_review(uow, P["b"], P["a"], "2025Q1", "好")
        with pytest.raises(ValidationFailed):
            grades.submit_peer_review(uow, P["a"], P["a"], "2025Q1", "好")
    with world.uow() as uow:
        row = next(r for r in grades.scoreboard(uow, "2025Q1")["rows"] if r["person_id"] == P["a"])
    assert row["ratings"] == pytest.approx((95 + 90 + 50) / 3) and row["ratings_count"] == 3
    assert row["composite"] == pytest.approx(0.6 * 100 + 0.2 * (235 / 3) + 0.2 * 90)


def test_another_townships_records_answer_404(world):
    world.at(2025, 3, 6, 9)
    with world.uow() as uow:
        lv = leave.request_leave(uow, world.people["a"], world.people["a"], local(2025, 3, 7, 8).isoformat(),
                                 local(2025, 3, 7, 9).isoformat())
    with world.uow(None) as uow:
        from services.staff import organisation as org
        other = org.create_township(uow, "other", "别镇", {"name": "X"})["township"]["id"]
    with world.uow(other) as uow:
        with pytest.raises(NotFound):  # deciding another township's leave: not found, not forbidden
            leave.decide_leave(uow, None, ["director"], lv["id"], True)
        with pytest.raises(NotFound):
            scoring.manual_entry(uow, None, world.people["a"], "badge", "x")
        assert roster.roster(uow) == [r for r in roster.roster(uow) if r["name"] == "X"]


def test_roster_shows_post_partner_and_masks_phones(world):
    with world.uow() as uow:
        rows = {r["person_id"]: r for r in roster.roster(uow)}
    a = rows[world.people["a"]]
    assert a["post"] == "A" and a["partner_person_id"] == world.people["b"] and a["window"] == 1
    assert a["department"] == "民政办" and a["home_unit"] == "民政办" and a["phone"] == "138****1234"


def test_the_veto_lasts_the_year_and_the_60_point_bar_bars_honours_from_then_on(world):
    """S5/S7: a verified complaint in Q1 bars 优秀 and honours in Q1–Q4 of that year, not the
    next; 70 points deducted in Q1 (more than 60) → no 优秀 and no honours in Q2 either."""
    P = world.people
    world.at(2025, 3, 20, 9)
    with world.uow() as uow:  # c: 70 points in Q1 (before category caps)
        for code in ("bribery", "fee_violation", "bribery", "fee_violation", "bribery", "fee_violation",
                     "bribery"):
            scoring.manual_entry(uow, P["inspector"], P["c"], code, "x", day="2025-03-10")
    vc = _event(world, "complaints.complaint_verified", complaint_id="k-q1", target_person_id=P["b"])
    vc["occurred_at"] = "2025-03-12T02:00:00+00:00"
    with world.uow() as uow:
        scoring.on_complaint_verified(uow, events.parse("complaints.complaint_verified", vc))
    world.at(2026, 4, 2, 9)
    for quarter, b_vetoed in (("2025Q2", True), ("2025Q4", True), ("2026Q1", False)):
        with world.uow() as uow:
            rows = {r["person_id"]: r for r in grades.scoreboard(uow, quarter)["rows"]}
            hon = honours.honours(uow, quarter)
        honoured = [r["person_id"] for r in hon["service_models"] + hon["advanced_individuals"]]
        b, c = rows[P["b"]], rows[P["c"]]
        assert b["composite"] >= 90 and c["composite"] >= 90         # a clean quarter for both
        assert b["vetoed"] is b_vetoed and (b["grade"] == "称职") is b_vetoed
        assert (P["b"] in honoured) is not b_vetoed
        c_barred = quarter.startswith("2025")
        assert c["award_eligible"] is not c_barred and (c["grade"] == "称职") is c_barred
        assert (P["c"] in honoured) is not c_barred
