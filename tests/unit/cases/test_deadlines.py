"""Working-day deadlines (DOMAIN C2, C3, C5, C11, C12) across the 2025–2026 holidays and
make-up days, and into 2027 (no holiday data yet: provisional)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from services.cases import deadlines
from services.cases.deadlines import DeadlineInputs
from services.common.calendar import WorkingCalendar
from services.common.errors import Conflict, ValidationFailed

CAL = WorkingCalendar()
D = date.fromisoformat


@pytest.mark.parametrize("start, days, due, provisional, why", [
    ("2025-01-24", 3, "2025-02-05", False, "C2's example: Sun 26 Jan make-up day, Spring Festival off"),
    ("2025-01-24", 0, "2025-01-24", False, "an immediate case is due the day it starts"),
    ("2025-04-30", 1, "2025-05-06", False, "Labour Day 1–5 May 2025 off"),
    ("2025-09-30", 1, "2025-10-09", False, "National Day + Mid-Autumn 1–8 Oct 2025 off"),
    ("2025-09-30", 3, "2025-10-11", False, "Sat 11 Oct 2025 is a make-up working day"),
    ("2025-12-31", 1, "2026-01-04", False, "New Year 2026: 1–3 Jan off, Sun 4 Jan a make-up day"),
    ("2026-02-13", 1, "2026-02-14", False, "Sat 14 Feb 2026 is a make-up day before Spring Festival"),
    ("2026-02-13", 2, "2026-02-24", False, "Spring Festival 15–23 Feb 2026 off"),
    ("2026-09-30", 1, "2026-10-08", False, "National Day 1–7 Oct 2026 off"),
    ("2026-12-28", 3, "2026-12-31", False, "inside 2026: firm"),
    ("2026-12-28", 4, "2027-01-01", True, "runs into 2027 (no data): weekends only, provisional"),
    ("2026-12-30", 5, "2027-01-06", True, "provisional: rests on unknown 2027 days"),
])
def test_due_dates_count_statutory_working_days(start, days, due, provisional, why):
    result = deadlines.due(CAL, DeadlineInputs(D(start), days))
    assert (result.day, result.provisional) == (D(due), provisional), why


def test_a_loaded_2027_makes_the_deadline_firm_and_moves_it():
    # the operator loads 2027 (1 Jan a holiday): the same inputs give a firm, later date
    loaded = WorkingCalendar({D("2027-01-01"): False}, frozenset({2027}))
    result = deadlines.due(loaded, DeadlineInputs(D("2026-12-28"), 4))
    assert (result.day, result.provisional) == (D("2027-01-04"), False)


@pytest.mark.parametrize("inputs, due", [
    (DeadlineInputs(D("2025-01-24"), 3, extension_days=3), "2025-02-08"),  # C3: 6, 7, Sat 8 Feb (make-up)
    (DeadlineInputs(D("2025-01-24"), 3, paused_days=2), "2025-02-07"),  # C11: paused days added
    (DeadlineInputs(D("2025-01-24"), 3, 3, 2), "2025-02-11"),
])
def test_extension_and_pauses_add_working_days(inputs, due):
    assert deadlines.due(CAL, inputs).day == D(due)


@pytest.mark.parametrize("accepted_on, recorded_on, start", [
    ("2025-03-03", "2025-03-03", "2025-03-03"),
    ("2025-03-03", "2025-03-12", "2025-03-03"),  # C12: notice late → counts from the day materials arrived
    ("2025-03-04", "2025-03-03", None),  # a period never starts after it was recorded
    # C2a: received on a closed day → accepted (and counted from) the next working day
    ("2025-04-12", "2025-04-12", "2025-04-14"),  # Sat → Mon
    ("2025-04-13", "2025-04-13", "2025-04-14"),  # Sun → Mon
    ("2025-04-14", "2025-04-12", "2025-04-14"),  # intake already moved it to Monday
    ("2025-04-15", "2025-04-12", None),  # but not past the next working day
    ("2025-10-01", "2025-10-01", "2025-10-09"),  # National Day + Mid-Autumn: Thu 9 Oct (11 Oct is a make-up day)
    ("2025-09-28", "2025-09-28", "2025-09-28"),  # a make-up working Sunday (调休上班日) is a hall day
    ("2027-01-02", "2027-01-02", "2027-01-04"),  # a year without data: weekends only
])
def test_clock_start_c12_backwards_and_c2a_to_the_next_hall_day(accepted_on, recorded_on, start):
    if start:
        assert deadlines.clock_start(CAL, D(accepted_on), D(recorded_on)) == D(start)
    else:
        with pytest.raises(ValidationFailed) as err:
            deadlines.clock_start(CAL, D(accepted_on), D(recorded_on))
        assert "accepted_on" in err.value.details


@pytest.mark.parametrize("received, kind, promised, due", [
    ("2025-04-12", "promised", 3, "2025-04-17"),  # C2a: received Sat 12 Apr → accepted Mon 14 → Thu 17
    ("2025-04-13", "promised", 3, "2025-04-17"),
    ("2025-04-11", "promised", 3, "2025-04-16"),  # received on Friday: counts from Friday
    ("2025-04-12", "immediate", 0, "2025-04-14"),  # an immediate case is due the day it is accepted
    ("2025-01-25", "immediate", 0, "2025-01-26"),  # Sat 25 Jan 2025 → Sun 26 Jan is a make-up working day
])
def test_what_arrives_on_a_closed_day_counts_from_the_next_working_day(received, kind, promised, due):
    start = deadlines.clock_start(CAL, D(received), D(received))
    assert deadlines.due(CAL, DeadlineInputs(start, promised)).day == D(due)


@pytest.mark.parametrize("days, promised, already, max_days, error", [
    (3, 3, 0, None, None),
    (1, 5, 0, None, None),
    (4, 3, 0, None, ValidationFailed),  # more than the item's promised days (C3)
    (5, 3, 0, 5, None),  # the township's setting allows more
    (0, 3, 0, None, ValidationFailed),
    (2, 3, 2, None, Conflict),  # one extension at most
])
def test_extension_limits(days, promised, already, max_days, error):
    if error is None:
        deadlines.check_extension(days, promised, already, max_days)
    else:
        with pytest.raises(error):
            deadlines.check_extension(days, promised, already, max_days)


@pytest.mark.parametrize("start, end, days", [
    ("2025-03-03", "2025-03-03", 0),  # started and ended the same day
    ("2025-03-03", "2025-03-07", 4),  # Mon → Fri: Tue–Fri
    ("2025-01-24", "2025-02-05", 3),  # across Spring Festival: 26, 27 Jan, 5 Feb
    # 28 Sep and 11 Oct 2025 are make-up days: 28, 29, 30 Sep, 9, 10, 11, 13 Oct
    ("2025-09-26", "2025-10-13", 7),
])
def test_working_days_inside_a_pause(start, end, days):
    assert deadlines.paused_working_days(CAL, D(start), D(end)) == days


@pytest.mark.parametrize("today, due, before, remind", [
    ("2025-02-04", "2025-02-05", 1, True),  # the last working day before
    ("2025-02-05", "2025-02-07", 1, False),  # two working days left
    ("2025-02-03", "2025-02-05", 1, True),  # 3–4 Feb are still Spring Festival: one day left
    ("2025-01-27", "2025-02-05", 1, True),  # holiday in between: only 5 Feb is left
    ("2025-02-05", "2025-02-05", 1, True),  # due today
    ("2025-02-06", "2025-02-05", 1, False),  # overdue: no reminder, C5 takes over
    ("2025-02-05", "2025-02-07", 2, True),  # a township asking for two days
])
def test_reminder_window(today, due, before, remind):
    assert deadlines.reminder_due(CAL, D(today), D(due), before) is remind


@pytest.mark.parametrize("today, due, overdue", [
    ("2025-02-05", "2025-02-05", False), ("2025-02-06", "2025-02-05", True), ("2025-02-04", "2025-02-05", False)])
def test_overdue_only_after_the_due_day(today, due, overdue):
    assert deadlines.is_overdue(D(today), D(due)) is overdue


@settings(max_examples=150, deadline=None)
@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 11, 30)), st.integers(1, 20))
def test_due_is_the_nth_working_day_after_the_start(start, n):
    result = deadlines.due(CAL, DeadlineInputs(start, n))
    assert CAL.is_working_day(result.day)
    assert CAL.working_days_between(start, result.day) == n
    assert CAL.working_days_between(start, result.day - timedelta(days=1)) == n - 1
    assert not result.provisional
