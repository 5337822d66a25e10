"""Public, anonymised complaint outcomes (DOMAIN T1, P2): counts per month and the outcome of
each concluded complaint — never the complainant's identity, never the content (which may
name them), only the window concerned, the category and the outcome."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from services.common.clock import local_date
from services.contracts.complaints import PublicOutcomes

from . import orgcopy
from .models import Complaint
from .rules import RULES
from services.contracts import shared

MAX_MONTHS = 24


def outcomes(uow, months: int = 12) -> dict:
    rules = RULES.load(uow)
    tz = rules["timezone"]
    today = local_date(uow.now(), tz)
    first_month = _month_back(today.year, today.month, max(1, min(months, MAX_MONTHS)) - 1)
    per_month: dict[str, dict] = defaultdict(lambda: {
        "received": 0, "closed": 0, "verified": 0, "not_verified": 0, "answered_on_time": 0})
    listed = []
    stmt = select(Complaint).where(Complaint.kind == "complaint").order_by(Complaint.received_at)
    for c in uow.scalars(stmt):
        received_on = local_date(c.received_at, tz)
        month = f"{received_on:%Y-%m}"
        if month < first_month:
            continue
        m = per_month[month]
        m["received"] += 1
        if c.state == "closed":
            m["closed"] += 1
        if c.outcome:
            m[c.outcome] += 1
        if c.replied_at is not None and local_date(c.replied_at, tz) <= c.due_on:
            m["answered_on_time"] += 1
        if c.outcome:
            w = orgcopy.window(uow, c.target_window_id)
            listed.append({
                "month": month, "category": c.category, "outcome": c.outcome,
                "window": {"number": w.number, "name": w.name} if w else None,
                "state": c.state,
                "concluded_on": local_date(c.concluded_at, tz) if c.concluded_at else None,
            })
    return shared(PublicOutcomes).dump({
        "months": [{"month": k, **v} for k, v in sorted(per_month.items())],
        "outcomes": listed[-200:],
    })


def _month_back(year: int, month: int, back: int) -> str:
    index = year * 12 + (month - 1) - back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
