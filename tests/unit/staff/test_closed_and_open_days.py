"""C2a and C2 in staff discipline: nothing counts against a person for a day the hall was
closed (no late, absence or patrol finding; work on it is overtime, an S4 credit), and a day
of a year without calendar data is left open — no absence, deduction or hand-over — until the
year is loaded, when it is settled as the loaded calendar says (announced by an event)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from services.common import events
from services.common.errors import Conflict, ValidationFailed
from services.staff import attendance, organisation as org, patrols, scoring
from services.staff.models import AttendanceDay, ScoreEntry

from .conftest import local
from .test_discipline_flows import close, entries, full_day, marks, statuses


@pytest.mark.parametrize("day, working", [
    (date(2025, 4, 12), False),   # Saturday
    (date(2025, 4, 13), False),   # Sunday
    (date(2025, 10, 1), False),   # National Day
    (date(2025, 9, 28), True),    # a make-up working Sunday (调休上班日)
    (date(2025, 4, 14), True),    # Monday
])
def test_patrol_findings_and_absences_only_for_days_the_hall_was_open(world, day, working):
    world.at(2025, 10, 20, 9)
    finding = [{"person_id": world.people["a"], "rule_code": "badge"}]
    with world.uow() as uow:
        if working:
            assert patrols.record_patrol(uow, world.people["inspector"], "am", finding, day=day.isoformat())
        else:
            with pytest.raises(ValidationFailed) as err:
                patrols.record_patrol(uow, world.people["inspector"], "am", finding, day=day.isoformat())
            assert "day" in err.value.details
    with world.uow() as uow:
        call = lambda: attendance.record_incident(uow, world.people["inspector"], "away", world.people["b"],  # noqa: E731
                                                  day.isoformat(), "am", minutes=90)
        if working:
            call()
        else:
            with pytest.raises(ValidationFailed):
                call()
    with world.uow() as uow:
        call = lambda: scoring.manual_entry(uow, world.people["inspector"], world.people["c"], "dress",  # noqa: E731
                                            "衣冠不整", day.isoformat())
        if working:
            call()
        else:
            with pytest.raises(ValidationFailed):
                call()
        # a credit on a closed day is fine (e.g. praise received)
        scoring.manual_entry(uow, world.people["inspector"], world.people["d"], "praise_written", "表扬信",
                             day.isoformat())


@pytest.mark.parametrize("arranged, credited", [
    (True, True),     # the director arranged A's Sunday duty: overtime, +2 (S4 holiday_overtime)
    (False, False),   # A just came in: no arrangement, nothing earned and nothing lost
])
def test_s4_work_on_a_sunday_is_overtime_only_when_the_director_arranged_it(world, arranged, credited):
    sunday = date(2025, 4, 13)
    world.at(2025, 4, 11, 9)
    if arranged:
        with world.uow() as uow:
            duty = attendance.arrange_duty(uow, world.people["director"], world.people["a"], sunday.isoformat(),
                                           "不动产登记周末专班")
        assert (duty["person_id"], duty["day"], duty["arranged_by"]) == (
            world.people["a"], "2025-04-13", world.people["director"])
    world.at(2025, 4, 14, 9)
    full_day(world, "a", sunday, am_in="09:10")  # would be late on a working day
    summary = close(world, sunday)
    assert summary["working_day"] is False and summary["absent"] == 0
    assert summary["overtime"] == (1 if credited else 0)
    assert statuses(world, "a", sunday) == ({"am": "overtime", "pm": "overtime"} if credited else {})
    assert statuses(world, "b", sunday) == {}                      # not there: nothing recorded
    assert entries(world, "a") == ([("holiday_overtime", 2)] if credited else [])  # never a late
    assert world.events("staff.absence_recorded") == []


@pytest.mark.parametrize("day, problem", [
    ("2025-04-14", ValidationFailed),   # a Monday: the hall is open, no arrangement needed
    ("2025-04-06", Conflict),           # a Sunday whose attendance is already closed
    ("2025-04-13", Conflict),           # arranged twice for the same person and day
])
def test_s4_an_arranged_duty_is_for_a_closed_day_not_yet_settled_once_per_person(world, day, problem):
    world.at(2025, 4, 11, 9)
    close(world, date(2025, 4, 6))
    with world.uow() as uow:
        attendance.arrange_duty(uow, world.people["director"], world.people["a"], "2025-04-13")
    with pytest.raises(problem), world.uow() as uow:
        attendance.arrange_duty(uow, world.people["director"], world.people["a"], day)


def test_a_day_of_an_unloaded_year_is_left_open_then_settled_when_the_year_is_loaded(world):
    new_year = date(2027, 1, 1)   # 元旦 2027: no holiday data for 2027 (C2)
    monday = date(2027, 1, 4)
    world.at(2027, 1, 5, 9)
    full_day(world, "a", monday, am_in="08:40")                     # late on Monday
    for day in (new_year, monday):
        summary = close(world, day)
        assert summary["provisional"] is True and summary["absent"] == 0
        with pytest.raises(Conflict):
            close(world, day)                                      # open, not closable again
    # nothing irreversible while open: no absence, no deduction, no hand-over
    assert entries(world, "b") == [] and entries(world, "a") == []
    assert world.events("staff.absence_recorded") == []
    with world.uow() as uow:
        assert attendance.open_days(uow) == [new_year, monday]
        assert attendance.settle_open_days(uow)["settled"] == []   # still unknown: stays open
    # the operator loads 2027: 1 Jan a holiday, the rest as weekends say
    with world.uow(None) as uow:
        org.change_calendar(uow, "*", [{"day": "2027-01-01", "working": False, "note": "元旦"}], (), 2027)
    with world.uow() as uow:
        result = attendance.settle_open_days(uow)
    assert result == {"settled": ["2027-01-01", "2027-01-04"], "working_days": ["2027-01-04"], "absences": 8}
    assert statuses(world, "a", new_year) == {} and statuses(world, "b", new_year) == {}
    assert statuses(world, "a", monday) == {"am": "late", "pm": "on_time"}
    assert entries(world, "a") == [("late", -1)]
    assert entries(world, "b") == [("absence_day", -4)]             # Monday only, not 元旦
    absences = world.events("staff.absence_recorded")
    assert {e["day"] for e in absences} == {"2027-01-04"}
    [settled] = world.events("staff.attendance_settled")
    events.parse("staff.attendance_settled", settled)
    assert settled["days"] == ["2027-01-01", "2027-01-04"]
    with world.uow() as uow:
        assert attendance.settle_open_days(uow)["settled"] == []   # once
        assert attendance.open_days(uow) == []


def test_a_year_loaded_as_all_holiday_settles_without_absences(world):
    day = date(2027, 2, 8)  # a Monday of an unloaded year
    world.at(2027, 2, 9, 9)
    assert close(world, day)["provisional"]
    with world.uow(None) as uow:
        org.change_calendar(uow, "*", [{"day": day.isoformat(), "working": False, "note": "春节"}], (), 2027)
    with world.uow() as uow:
        assert attendance.settle_open_days(uow) == {"settled": [day.isoformat()], "working_days": [],
                                                     "absences": 0}
        assert list(uow.scalars(select(ScoreEntry))) == []
        assert list(uow.scalars(select(AttendanceDay))) == []


def test_the_nightly_sweep_leaves_unknown_days_open_and_settles_them_as_a_backstop(world):
    """C2: the attendance sweep closes the past week; days of 2027 stay open; once the year is
    loaded (its event lost, say), the next sweep settles them."""
    from services.staff import sweep

    world.at(2027, 1, 6, 9)  # Wednesday: the sweep looks at 30 Dec 2026 … 5 Jan 2027
    result = sweep.sweep(world.units.sweep_run())
    assert result["days_closed"] == 7 and result["days_settled"] == 0
    with world.uow() as uow:
        assert [d.isoformat() for d in attendance.open_days(uow)] == [
            "2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04", "2027-01-05"]
    assert world.events("staff.absence_recorded") and all(
        e["day"] < "2027-01-01" for e in world.events("staff.absence_recorded"))  # 2026 closed normally
    with world.uow(None) as uow:
        org.change_calendar(uow, "*", [{"day": "2027-01-01", "working": False, "note": "元旦"}], (), 2027)
    assert sweep.sweep(world.units.sweep_run())["days_settled"] == 5
    with world.uow() as uow:
        assert attendance.open_days(uow) == []
    assert {e["day"] for e in world.events("staff.absence_recorded") if e["day"] >= "2027"} == {
        "2027-01-04", "2027-01-05"}
