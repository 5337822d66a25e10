"""The statutory working-day calendar (DOMAIN C2).

Sources, highest first:
1. a township's own overrides (a local holiday, a make-up day),
2. national overrides an operator loaded at run time (``NATIONAL`` scope) — e.g. next
   year's State Council schedule before the holiday package has it,
3. the maintained ``chinesecalendar`` package (holidays and make-up working days),
4. for a year nobody has data for: weekends only, and every answer that depends on such a
   day is *provisional* (C2: mark it, alert the operator, recompute when the year is loaded;
   nothing irreversible happens on a provisional deadline).

Counting follows 民法典 Art. 201: the start day is not counted; "N working days" ends at the
close of the N-th working day after it. Periods in calendar days that end on a non-working
day roll over to the next working day (Art. 203).
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

import chinese_calendar
from sqlalchemy import Boolean, Date, Integer, bindparam, event, literal, or_, select
from sqlalchemy.orm import Session

from .db import NATIONAL, CommonTables


@dataclass(frozen=True)
class Due:
    """A deadline: the last day of a period, and whether it rests on unknown years."""

    day: date
    provisional: bool = False


@dataclass
class WorkingCalendar:
    """One township's calendar as loaded. Answers are memoised: ``chinese_calendar.is_workday``
    scans its whole table on every call (about 0.1 ms), and recomputing 1,000 deadlines asks it
    some 30,000 times — load a calendar once and reuse it for many questions."""

    overrides: dict[date, bool] = field(default_factory=dict)
    loaded_years: frozenset[int] = frozenset()
    _days: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _years: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _working_ordinals: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def year_known(self, year: int) -> bool:
        known = self._years.get(year)
        if known is None:
            known = self._years[year] = year in self.loaded_years or _package_knows(year)
        return known

    def is_working_day(self, day: date) -> bool:
        working = self._days.get(day)
        if working is None:
            working = self._days[day] = self._working(day)
        return working

    def _working(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return _package_workday(day)

    def _year_index(self, year: int) -> list[int]:
        """The ordinals of the working days of ``year``, sorted (built once per calendar)."""
        days = self._working_ordinals.get(year)
        if days is None:
            first, last = date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal()
            working = self.is_working_day
            fromordinal = date.fromordinal
            days = self._working_ordinals[year] = [o for o in range(first, last) if working(fromordinal(o))]
        return days

    def _provisional_between(self, start: date, end: date) -> bool:
        """Whether a day in (start, end] is provisional: in a year nobody has data for, and not
        overridden (C2)."""
        for year in range(start.year, end.year + 1):
            if self.year_known(year):
                continue
            lo = max(start + timedelta(days=1), date(year, 1, 1))
            hi = min(end, date(year, 12, 31))
            if lo <= hi and sum(1 for d in self.overrides if lo <= d <= hi) < (hi - lo).days + 1:
                return True
        return False

    def is_provisional(self, day: date) -> bool:
        return day not in self.overrides and not self.year_known(day.year)

    def add_working_days(self, start: date, n: int) -> Due:
        """The close of the n-th working day after ``start`` (Art. 201); n=0 is ``start``."""
        if n < 0:
            raise ValueError("n must be >= 0")
        if n == 0:
            return Due(start, False)
        # a binary search in the year's working days, not a walk day by day: a deadline is
        # computed for every application and every recomputed case
        year = start.year
        days = self._year_index(year)
        i, remaining = bisect_right(days, start.toordinal()), n
        while i + remaining > len(days):
            remaining -= len(days) - i
            year, i = year + 1, 0
            if year > start.year + 1000:
                raise ValueError("no working days in a thousand years")
            days = self._year_index(year)
        end = date.fromordinal(days[i + remaining - 1])
        return Due(end, self._provisional_between(start, end))

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many of a period's days ``end`` has used."""
        if end <= start:
            return 0
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def hall_day(self, day: date) -> date:
        """C2a: the day the hall accepts what arrives on ``day`` — that day when it is a working
        day, else the next working day (受理顺延)."""
        return day if self.is_working_day(day) else self.next_working_day(day)

    def add_calendar_days(self, start: date, n: int) -> Due:
        """n calendar days after ``start``; a non-working last day rolls over (Art. 203)."""
        day = start + timedelta(days=n)
        provisional = self.is_provisional(day)
        while not self.is_working_day(day):
            day += timedelta(days=1)
            provisional = provisional or self.is_provisional(day)
        return Due(day, provisional)

    def unknown_years(self, start: date, end: date) -> list[int]:
        return [y for y in range(start.year, end.year + 1) if not self.year_known(y)]


@lru_cache(maxsize=8192)
def _package_workday(day: date) -> bool:
    """``chinese_calendar``'s answer (weekends only for a year it does not know), memoised for
    the process: the package scans its whole table on every call (about 0.1 ms) and never
    changes while the process runs."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


@lru_cache(maxsize=256)
def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


def load_calendar(session, common: CommonTables, township_id: str | None) -> WorkingCalendar:
    """The calendar as this service's copy of the overrides says, for one township.

    The overrides and loaded years are read every time (one query), so a change is seen at
    once by every instance; the calendar built from them is shared by every call that reads
    the same content (``_built``): its memoised answers — a year's working days are 365
    questions — are computed once per process, not once per request (issue 9)."""
    memo = session.info.setdefault(MEMO, {})
    if township_id in memo:  # read once per unit of work (apply_calendar_change forgets it)
        return memo[township_id]
    rows = session.execute(_overrides_statement(common), {"township": township_id or NATIONAL}).all()
    overrides: dict[date, bool] = {}
    # national first, then the township's own on top
    for scope, day, working, _ in sorted((r for r in rows if r[3] is None), key=lambda r: r[0] != NATIONAL):
        overrides[day] = working
    cal = memo[township_id] = _built(frozenset(overrides.items()), frozenset(r[3] for r in rows if r[3] is not None))
    return cal


MEMO = "calendars"  # session.info key: the calendars read in this unit of work, by township


@event.listens_for(Session, "after_transaction_end")
def _forget_read_calendars(session, transaction) -> None:
    if transaction.parent is None:  # the unit of work's transaction, not a flush within it
        session.info.pop(MEMO, None)


@lru_cache(maxsize=64)
def _overrides_statement(common: CommonTables):
    """The one query of a township's overrides and loaded years (national and its own), built
    once per service: building and keying the statement cost more than running it."""
    days, years = common.calendar_days, common.calendar_years
    township = bindparam("township")
    return (select(days.c.scope, days.c.day, days.c.working, literal(None, Integer).label("year"))
            .where(or_(days.c.scope == NATIONAL, days.c.scope == township))
            .union_all(select(years.c.scope, literal(None, Date), literal(None, Boolean), years.c.year)
                       .where(or_(years.c.scope == NATIONAL, years.c.scope == township))))


@lru_cache(maxsize=1024)  # calendars of distinct content kept per process (a township's is one)
def _built(overrides: frozenset, loaded: frozenset) -> WorkingCalendar:
    """The one calendar of this content (the least recently used dropped past 1,024)."""
    return WorkingCalendar(dict(overrides), loaded)


def apply_calendar_change(session, common: CommonTables, change: dict, now: datetime) -> None:
    """Apply a ``staff.calendar_changed`` event to this service's copy.

    ``change``: scope, days (list of {day, working, note}), cleared (list of days),
    loaded_year (optional int: the year's schedule is now complete).
    """
    days, years = common.calendar_days, common.calendar_years
    scope = change["scope"]
    session.info.pop(MEMO, None)  # what this unit of work read before is no longer the calendar
    for cleared in change.get("cleared") or []:
        session.execute(
            days.delete().where(days.c.scope == scope, days.c.day == _as_date(cleared))
        )
    for entry in change.get("days") or []:
        day = _as_date(entry["day"])
        session.execute(days.delete().where(days.c.scope == scope, days.c.day == day))
        session.execute(
            days.insert().values(scope=scope, day=day, working=bool(entry["working"]), note=entry.get("note"))
        )
    year = change.get("loaded_year")
    if year:
        session.execute(years.delete().where(years.c.scope == scope, years.c.year == year))
        session.execute(years.insert().values(scope=scope, year=int(year), loaded_at=now))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
