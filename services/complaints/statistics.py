"""Verified complaints per window and person for a local month (DOMAIN T1, P4): the figure
complaints owns in the monthly statistics, joined with cases' figures in the gateway. Counts
only — never a complainant (P2). A complaint counts in the month it was verified, for the
window it names, else the window of the person it names (the read copy of staff's
organisation)."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from services.common.clock import local_date
from services.common.months import month_of, parse_month, utc_span

from . import orgcopy
from .models import Complaint
from .rules import RULES


def verified_counts(uow, month: str | None = None, per_person: bool = False) -> dict:
    tz = RULES.load(uow)["timezone"]
    month = month or month_of(local_date(uow.now(), tz))
    first, last = parse_month(month)
    start, end = utc_span(first, last, tz)
    windows: Counter = Counter()
    people: Counter = Counter()
    total = 0
    stmt = select(Complaint).where(Complaint.outcome == "verified", Complaint.concluded_at >= start,
                                   Complaint.concluded_at < end)
    for c in uow.scalars(stmt):
        total += 1
        window_id = c.target_window_id
        if window_id is None and c.target_person_id:
            person = orgcopy.person(uow, c.target_person_id)
            window_id = person.window_id if person else None
        if window_id:
            windows[window_id] += 1
        if c.target_person_id:
            people[c.target_person_id] += 1
    result = {"month": month, "total": total, "windows": dict(windows)}
    if per_person:
        result["people"] = dict(people)
    return result
