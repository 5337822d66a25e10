"""S2 Year tally (考勤年度汇总): leave and absence days per person per year, and the rule that
forfeits the year's assessment award (考核奖, seed 000 请销假制度 三): sick and personal leave
over 90 days in the year (``year_leave_max_days``), or 30 days of absence or more
(``year_absence_forfeit_days``). Shown on the year-end board (``yearend``) and on its own.

What is counted:

* leave days — every approved leave (approved, or returned: 销假 ends it early) of the year,
  measured as S3 measures leave (``leave.working_overlap``: the overlap with the sessions of
  working days, ``leave_day_hours`` to a day), the part inside the year only. Every leave
  recorded here is sick or personal leave (official business is not leave), so all of it
  counts;
* absence days — the closed attendance (S2): an absent half-day is half a day, each day added
  by the 5-lates rule (累计旷工) a whole day; a half-day excused on objection does not count.
  Days left open for want of calendar data (C2) have no absence yet, so none counts. A study
  session or meeting missed without leave (``meetings``) counts as an absent half-day.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from services.common.calendar import load_calendar
from services.common.errors import field_error

from . import meetings, periods
from .attendance import expected_people
from .leave import working_overlap
from .models import AttendanceDay, Leave, Person
from .rules import RULES

ABSENCE_DAYS = {"absent": 0.5, "accumulated": 1.0}  # S2: a half-day absent; a day added by 5 lates


# -- pure rules -----------------------------------------------------------------------

def forfeits(leave_days: float, absence_days: float, settings: dict) -> list[str]:
    """Why the year's assessment award is forfeited (S2; empty: it is not)."""
    why = []
    if leave_days > settings["year_leave_max_days"]:
        why.append("leave")
    if absence_days >= settings["year_absence_forfeit_days"]:
        why.append("absence")
    return why


def absence_days(statuses) -> float:
    """Days of absence from (status, excused) pairs of closed half-days (S2)."""
    return sum(ABSENCE_DAYS.get(status, 0.0) for status, excused in statuses if not excused)


# -- the tally ------------------------------------------------------------------------

def parse_year(year) -> int:
    try:
        value = int(year)
    except (TypeError, ValueError):
        value = 0
    if not 2000 <= value <= 2100:
        raise field_error("year", "a year like 2025")
    return value


def year_days(uow, year: int, settings: dict | None = None) -> dict[str, dict]:
    """person id → {leave_days, absence_days, award_forfeited, forfeit_reasons} for the year."""
    settings = settings or RULES.load(uow)
    tz = periods.township_tz(uow)
    lo = periods.at_local(date(year, 1, 1), "00:00", tz)
    hi = periods.at_local(date(year + 1, 1, 1), "00:00", tz)
    calendar = load_calendar(uow.session, uow.common, uow.township_id)
    leave: dict[str, float] = {}
    for lv in uow.scalars(select(Leave).where(Leave.state.in_(("approved", "returned")),
                                              Leave.starts_at < hi, Leave.ends_at > lo)):
        ended = periods.leave_end(lv)  # 销假 ends it early
        start, end = max(lv.starts_at, lo), min(ended, hi - timedelta(microseconds=1))
        if end > start:
            leave[lv.person_id] = leave.get(lv.person_id, 0.0) + working_overlap(start, end, tz, calendar,
                                                                                settings)[1]
    statuses: dict[str, list] = {}
    for row in uow.scalars(select(AttendanceDay).where(AttendanceDay.day >= date(year, 1, 1),
                                                       AttendanceDay.day <= date(year, 12, 31),
                                                       AttendanceDay.status.in_(tuple(ABSENCE_DAYS)))):
        statuses.setdefault(row.person_id, []).append((row.status, row.excused))
    # S2: a study session or meeting missed without leave counts as absence (按旷工论处), half a day
    for pid, c in meetings.counts(uow, date(year, 1, 1), date(year, 12, 31)).items():
        if c["absent_unexcused"]:
            statuses.setdefault(pid, []).extend([("absent", False)] * c["absent_unexcused"])
    out = {}
    for pid in set(leave) | set(statuses):
        days_leave, days_absent = round(leave.get(pid, 0.0), 4), absence_days(statuses.get(pid, []))
        why = forfeits(days_leave, days_absent, settings)
        out[pid] = {"leave_days": days_leave, "absence_days": days_absent, "award_forfeited": bool(why),
                    "forfeit_reasons": why}
    return out


def tally(uow, year) -> dict:
    """The year's tally for every kept person (S2 attendance roles) and anyone with leave or
    absence in the year, ordered by badge number."""
    year = parse_year(year)
    settings = RULES.load(uow)
    days = year_days(uow, year, settings)
    people = {p.id: p for p in uow.scalars(select(Person))}
    ids = {p.id for p in expected_people(uow, settings)} | set(days)
    empty = {"leave_days": 0.0, "absence_days": 0.0, "award_forfeited": False, "forfeit_reasons": []}
    rows = [{"person_id": pid, "name": people[pid].name, "badge_no": people[pid].badge_no, **days.get(pid, empty)}
            for pid in ids if pid in people]
    rows.sort(key=lambda r: (r["badge_no"] or "", r["name"], r["person_id"]))
    return {"year": year, "leave_max_days": settings["year_leave_max_days"],
            "absence_forfeit_days": settings["year_absence_forfeit_days"], "rows": rows}
