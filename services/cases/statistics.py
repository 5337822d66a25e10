"""Statistics of cases (DOMAIN T1 政务公开): received, completed, on time, working days to
completion and satisfaction, per township, window and (for managers) person, for a local month
or day. The figures come from the cases and ratings this service owns; verified complaints
are counted by complaints and joined in the gateway (docs/DEVELOPING.md, "Statistics").

Definitions, each a period of the township's local days:
- **received**: cases whose application was accepted (``accepted_at``) in the period;
- **completed**: cases delivered (办结, C13 ``COMPLETED``) in the period;
- **on time**: a completed case never counted overdue (C5) — the same fact that costs its
  handler points, so a tacitly approved case (C6) is late, and an escalated case is late only
  if it was forwarded late (I5); **late** = completed − on time; ``tacit_approved`` counts the
  completed cases approved by silence;
- **working days to completion**: from the day the case's clock started to the day it was
  delivered, counted as C2 counts (the start day not counted), less the working days of special
  procedures (C11); an immediate case done the same day takes 0;
- **satisfaction** (好差评, C9): of the ratings given in the period, the share of 4 and 5.
A case counts for its window and for its handler (the A post responsible for it, C7).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import and_, or_, select

from services.common.tenancy import AUDITORS
from services.common.clock import local_date
from services.common.errors import field_error
from services.common.months import month_of, parse_month, utc_span

from .lifecycle import calendar, timezone_of, today
from .models import Case, WindowCopy

PERSON_DETAIL_ROLES = AUDITORS
COUNTS = ("received", "completed", "on_time", "late", "tacit_approved", "rated", "satisfied")


class Tally:
    """The counts of one group (township, window or person) and its derived figures."""

    def __init__(self):
        self.counts = dict.fromkeys(COUNTS, 0)
        self.days: list[int] = []

    def add(self, key: str) -> None:
        self.counts[key] += 1

    def figures(self) -> dict:
        c = self.counts
        return {
            **c,
            "on_time_rate": round(c["on_time"] / c["completed"], 4) if c["completed"] else None,
            "avg_working_days": round(sum(self.days) / len(self.days), 2) if self.days else None,
            "satisfaction": round(c["satisfied"] / c["rated"], 4) if c["rated"] else None,
        }


def period(uow, month: str | None = None, day: str | None = None) -> tuple[dict, date, date]:
    """The period asked for: a month ``YYYY-MM``, a day (``YYYY-MM-DD`` or ``today``), or by
    default the township's current month."""
    if month is not None and day is not None:
        raise field_error("day", "ask for a month or a day, not both")
    if day is not None:
        if day == "today":
            one = today(uow)
        else:
            try:
                one = date.fromisoformat(day) if isinstance(day, str) else None
            except ValueError:
                one = None
            if one is None:
                raise field_error("day", "a day as YYYY-MM-DD, or today")
        return {"day": one.isoformat()}, one, one
    if month is None:
        month = month_of(today(uow))
    first, last = parse_month(month)
    return {"month": month}, first, last


def statistics(uow, month: str | None = None, day: str | None = None, per_person: bool = False) -> dict:
    """The township's figures, every window's (its windows with no case included, at zero),
    and with ``per_person`` every handler's."""
    label, first, last = period(uow, month, day)
    tz = timezone_of(uow)
    start, end = utc_span(first, last, tz)

    def within(column):
        return and_(column >= start, column < end)

    township = Tally()
    windows: dict = defaultdict(Tally)
    people: dict = defaultdict(Tally)
    cal = None
    stmt = select(Case).where(or_(within(Case.accepted_at), within(Case.delivered_at), within(Case.rated_at)))
    for case in uow.scalars(stmt):
        groups = [township, windows[case.window_id] if case.window_id else None,
                  people[case.handler_person_id] if per_person else None]
        groups = [g for g in groups if g is not None]
        if start <= case.accepted_at < end:
            for g in groups:
                g.add("received")
        if case.delivered_at is not None and start <= case.delivered_at < end:
            on_time = case.overdue_at is None  # C5, C6
            spent = None
            if case.clock_started_on is not None:
                cal = cal or calendar(uow)
                delivered_on = local_date(case.delivered_at, tz)
                spent = max(0, cal.working_days_between(case.clock_started_on, delivered_on)
                            - (case.paused_days or 0))  # C2, C11
            for g in groups:
                g.add("completed")
                g.add("on_time" if on_time else "late")
                if case.outcome == "tacitly_approved":
                    g.add("tacit_approved")
                if spent is not None:
                    g.days.append(spent)
        if case.rated_at is not None and case.rating is not None and start <= case.rated_at < end:
            for g in groups:
                g.add("rated")
                if case.rating >= 4:  # C9: 满意 and 非常满意
                    g.add("satisfied")

    known = {w.id: w for w in uow.scalars(select(WindowCopy))}
    window_rows = []
    for window_id in set(known) | set(windows):
        w = known.get(window_id)
        window_rows.append({"window_id": window_id, "number": w.number if w else None,
                            "name": w.name if w else None, **windows[window_id].figures()})
    window_rows.sort(key=lambda r: (r["number"] is None, r["number"] or 0, r["window_id"]))
    result = {
        **label, "from": first.isoformat(), "to": last.isoformat(), "timezone": tz,
        "township": township.figures(), "windows": window_rows,
    }
    if per_person:
        result["people"] = sorted(
            ({"person_id": pid, **tally.figures()} for pid, tally in people.items()),
            key=lambda r: r["person_id"])
    return result
