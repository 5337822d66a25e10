"""Deadlines in statutory working days (DOMAIN C2, C3, C11, C12).

Pure functions on a ``services.common.calendar.WorkingCalendar``; no database, no clock.
A deadline is always recomputed from its inputs, never nudged:

    due = clock start + (promised + extension + paused) working days   (民法典 Art. 201)

so a calendar change (a year loaded, a local holiday) gives the same answer as if the
calendar had been known from the start.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.common.calendar import Due, WorkingCalendar
from services.common.errors import Conflict, field_error


@dataclass(frozen=True)
class DeadlineInputs:
    clock_started_on: date
    promised_days: int
    extension_days: int = 0
    paused_days: int = 0

    @property
    def total_days(self) -> int:
        return self.promised_days + self.extension_days + self.paused_days


def due(cal: WorkingCalendar, inputs: DeadlineInputs) -> Due:
    """The close of the last working day of the period (C2). An immediate case (0 days) is
    due the day it starts. ``provisional`` when any counted day lies in a year without data."""
    result = cal.add_working_days(inputs.clock_started_on, inputs.total_days)
    provisional = result.provisional or cal.is_provisional(result.day)
    return Due(result.day, provisional)


def clock_start(cal: WorkingCalendar, accepted_on: date, accepted_local_date: date) -> date:
    """The day the period counts from.

    C12 deemed acceptance: ``accepted_on`` (the day the materials arrived when the supplement
    notice came late) may be earlier than the day the acceptance was recorded. C2a: what is
    received on a day the hall is closed is accepted on the next working day, so the clock
    starts there — never later than the hall day of the day it was recorded."""
    start = cal.hall_day(accepted_on)
    if start > cal.hall_day(accepted_local_date):
        raise field_error("accepted_on", "after the day the acceptance was recorded")
    return start


def check_extension(days: int, promised_days: int, already_extended: int, max_days: int | None) -> None:
    """C3: one extension at most, by at most the item's promised days (or the setting)."""
    if already_extended:
        raise Conflict("the case was already extended once (C3 allows one extension)")
    limit = max_days if max_days is not None else promised_days
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise field_error("days", "a positive number of working days")
    if days > limit:
        raise field_error("days", f"at most {limit} working days (C3: the item's promised days)")


def paused_working_days(cal: WorkingCalendar, started_on: date, ended_on: date) -> int:
    """C11: working days inside a pause, added to the deadline. The start day is not counted
    (the clock ran that day, Art. 201 style); the end day is (the clock resumes the day after)."""
    if ended_on < started_on:
        raise field_error("ended_on", "before the pause started")
    return cal.working_days_between(started_on, ended_on)


def reminder_due(cal: WorkingCalendar, today: date, due_day: date, working_days_before: int) -> bool:
    """C5: a reminder goes out once at most ``working_days_before`` working days remain."""
    return today <= due_day and cal.working_days_between(today, due_day) <= working_days_before


def is_overdue(today: date, due_day: date) -> bool:
    """C5: undecided after the promise date (the whole due day is still in time)."""
    return today > due_day
