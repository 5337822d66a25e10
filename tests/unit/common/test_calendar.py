"""The working-day calendar on real dates (DOMAIN C2; issue 2)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.calendar import Due, WorkingCalendar

CAL = WorkingCalendar()
D = date.fromisoformat


@pytest.mark.parametrize("day, working", [
    # 2025 Spring Festival: 28 Jan – 4 Feb off; Sun 26 Jan and Sat 8 Feb worked (make-up days)
    ("2025-01-24", True), ("2025-01-25", False), ("2025-01-26", True), ("2025-01-27", True),
    ("2025-01-28", False), ("2025-01-31", False), ("2025-02-04", False), ("2025-02-05", True),
    ("2025-02-08", True), ("2025-02-09", False),
    # 2025 National Day + Mid-Autumn: 1–8 Oct off; Sun 28 Sep and Sat 11 Oct worked
    ("2025-09-27", False), ("2025-09-28", True), ("2025-09-30", True), ("2025-10-01", False),
    ("2025-10-08", False), ("2025-10-09", True), ("2025-10-11", True), ("2025-10-12", False),
    # 2026: New Year 1–3 Jan off, Sun 4 Jan worked; Spring Festival 15–23 Feb off, 14 and 28 Feb
    # worked; Labour Day 1–5 May off, Sat 9 May worked; National Day 1–7 Oct, Sat 10 Oct worked
    ("2026-01-02", False), ("2026-01-04", True), ("2026-02-14", True), ("2026-02-16", False),
    ("2026-02-23", False), ("2026-02-24", True), ("2026-02-28", True), ("2026-05-04", False),
    ("2026-05-09", True), ("2026-10-07", False), ("2026-10-08", True), ("2026-10-10", True),
    # ordinary weekdays and weekends
    ("2026-03-02", True), ("2026-03-07", False), ("2026-03-08", False),
])
def test_is_working_day_on_real_dates(day, working):
    assert CAL.is_working_day(D(day)) is working
    assert CAL.is_provisional(D(day)) is False


@pytest.mark.parametrize("start, n, due", [
    # DOMAIN C2's example: accepted Fri 24 Jan 2025, 3 working days → Wed 5 Feb 2025
    ("2025-01-24", 3, "2025-02-05"),
    ("2025-01-24", 1, "2025-01-26"),  # the make-up Sunday counts
    ("2025-01-27", 1, "2025-02-05"),  # acceptance day not counted; the holiday is skipped
    ("2025-02-07", 1, "2025-02-08"),  # Saturday make-up day
    ("2025-09-26", 2, "2025-09-29"),  # Sun 28 Sep worked
    ("2025-09-30", 1, "2025-10-09"),  # across National Day
    ("2025-09-30", 2, "2025-10-10"),
    ("2025-09-30", 3, "2025-10-11"),  # Sat 11 Oct worked
    ("2026-02-13", 5, "2026-02-27"),  # 14 Feb worked, 15–23 off, 24–27
    ("2026-03-06", 5, "2026-03-13"),  # plain weeks
    ("2026-03-06", 0, "2026-03-06"),  # immediate: the same day
])
def test_add_working_days_follows_art_201(start, n, due):
    assert CAL.add_working_days(D(start), n) == Due(D(due), False)


@pytest.mark.parametrize("start, n, due", [
    ("2025-09-20", 15, "2025-10-09"),  # 5 Oct falls in the holiday → next working day (Art. 203)
    ("2026-03-01", 6, "2026-03-09"),   # Sat 7 Mar → Mon 9 Mar
    ("2026-03-02", 7, "2026-03-09"),   # a Monday: no roll-over
])
def test_calendar_day_periods_roll_over_art_203(start, n, due):
    assert CAL.add_calendar_days(D(start), n).day == D(due)


def test_working_days_between_counts_the_days_used():
    assert CAL.working_days_between(D("2025-01-24"), D("2025-02-05")) == 3
    assert CAL.working_days_between(D("2025-02-05"), D("2025-01-24")) == 0


def test_year_without_data_counts_weekends_only_and_is_provisional():
    due = CAL.add_working_days(D("2026-12-28"), 5)
    # 29, 30, 31 Dec 2026 (known), then Fri 1 Jan 2027 and Mon 4 Jan 2027 (weekends only)
    assert due == Due(D("2027-01-04"), True)
    assert CAL.add_working_days(D("2026-12-28"), 3) == Due(D("2026-12-31"), False)
    assert CAL.is_provisional(D("2027-03-01")) and CAL.is_working_day(D("2027-03-01"))
    assert CAL.unknown_years(D("2026-12-01"), D("2027-02-01")) == [2027]


def test_operator_loaded_year_and_overrides_change_the_answer():
    loaded = WorkingCalendar(overrides={D("2027-01-01"): False, D("2027-02-06"): True},
                             loaded_years=frozenset({2027}))
    assert loaded.add_working_days(D("2026-12-28"), 5) == Due(D("2027-01-05"), False)
    assert loaded.is_working_day(D("2027-02-06"))  # a Saturday made a working day
    local = WorkingCalendar(overrides={D("2026-03-03"): False})  # a local holiday on a Tuesday
    assert not local.is_working_day(D("2026-03-03"))
    assert local.add_working_days(D("2026-03-02"), 1) == Due(D("2026-03-04"), False)
    assert CAL.add_working_days(D("2026-03-02"), 1) == Due(D("2026-03-03"), False)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 1)), st.integers(0, 30))
def test_add_working_days_invariants(start, n):
    due = CAL.add_working_days(start, n)
    assert due.day >= start
    assert CAL.working_days_between(start, due.day) == n
    if n:
        assert CAL.is_working_day(due.day)
        # one day earlier would not be enough
        assert CAL.working_days_between(start, due.day - timedelta(days=1)) == n - 1


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 11, 1)), st.integers(1, 10), st.integers(1, 10))
def test_add_working_days_composes(start, a, b):
    first = CAL.add_working_days(start, a).day
    assert CAL.add_working_days(first, b).day == CAL.add_working_days(start, a + b).day


def _walk(cal: WorkingCalendar, start: date, n: int) -> Due:
    """C2 / 民法典 Art. 201 by definition: walk day by day, count working days."""
    day, provisional, counted = start, False, 0
    while counted < n:
        day += timedelta(days=1)
        provisional = provisional or cal.is_provisional(day)
        if cal.is_working_day(day):
            counted += 1
    return Due(day, provisional)


@settings(max_examples=300, deadline=None)
@given(start=st.dates(date(2023, 10, 1), date(2031, 3, 1)), n=st.integers(0, 400),
       overrides=st.dictionaries(st.dates(date(2024, 1, 1), date(2032, 12, 31)), st.booleans(), max_size=20),
       loaded=st.frozensets(st.integers(2027, 2032), max_size=3))
def test_add_working_days_by_index_equals_the_day_by_day_count(start, n, overrides, loaded):
    """The indexed count (a binary search in each year's working days, issue 9) answers exactly
    what counting day by day does, across year ends, overrides and unknown (provisional) years."""
    assert WorkingCalendar(overrides, loaded).add_working_days(start, n) == _walk(WorkingCalendar(overrides, loaded), start, n)


# -- issue 9: the loaded calendar is read every time and built once per content ----------------

def test_a_calendar_is_read_at_every_load_and_built_once_per_content():
    """Every load reads the copy (a change made by another instance is seen at once), and loads
    of the same content share one calendar and its memoised answers."""
    from datetime import datetime, timezone

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from sqlalchemy import MetaData

    from services.common.calendar import apply_calendar_change, load_calendar
    from services.common.db import NATIONAL, CommonTables

    common = CommonTables(MetaData())
    engine = create_engine("sqlite://")
    common.calendar_days.metadata.create_all(engine)
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with Session(engine) as session:
        first = load_calendar(session, common, "t1")
        assert load_calendar(session, common, "t1") is first
        assert first.add_working_days(date(2025, 3, 3), 1).day == date(2025, 3, 4)
        apply_calendar_change(session, common, {"scope": "t1", "days": [{"day": "2025-03-04", "working": False}]}, now)
        changed = load_calendar(session, common, "t1")
        assert changed is not first and changed.add_working_days(date(2025, 3, 3), 1).day == date(2025, 3, 5)
        assert load_calendar(session, common, "t2") is first  # another township: its own content, here the same
        apply_calendar_change(session, common, {"scope": NATIONAL, "loaded_year": 2031}, now)
        assert load_calendar(session, common, "t2").year_known(2031)
        assert first.loaded_years == frozenset()  # a shared calendar is never changed in place


def test_a_calendar_read_in_a_unit_of_work_is_read_again_in_the_next():
    """Read once per unit of work; another transaction's change is seen by the next one."""
    from datetime import datetime, timezone

    from sqlalchemy import MetaData, create_engine, event
    from sqlalchemy.orm import Session

    from services.common.calendar import apply_calendar_change, load_calendar
    from services.common.db import CommonTables

    common = CommonTables(MetaData())
    engine = create_engine("sqlite:///file:cal?mode=memory&cache=shared&uri=true")
    common.calendar_days.metadata.create_all(engine)
    queries = []
    event.listen(engine, "before_cursor_execute", lambda *a: queries.append(a[2]))
    reader = Session(engine)
    with reader.begin():
        first = load_calendar(reader, common, "t1")
        load_calendar(reader, common, "t1")
        assert len([q for q in queries if "calendar_days" in q]) == 1
    with Session(engine) as writer, writer.begin():
        apply_calendar_change(writer, common, {"scope": "t1", "days": [{"day": "2025-03-04", "working": False}]},
                              datetime(2025, 1, 1, tzinfo=timezone.utc))
    with reader.begin():
        assert load_calendar(reader, common, "t1").is_working_day(date(2025, 3, 4)) is False
        assert first.is_working_day(date(2025, 3, 4)) is True
    reader.close()
