"""The overdue sweep (P3, P5, P6): each complaint, petition, leader reception and follow-up
past its deadline is marked overdue exactly once, even with several instances sweeping
(each row claimed with ``services.common.db.claim``), and announced without identity."""
from __future__ import annotations

from sqlalchemy import func, select

from services.common.clock import local_date
from services.common.db import claim

from . import duty, forwarding
from .models import Complaint, FollowUp, Forwarding
from .rules import RULES, is_overdue

BATCH = 200


def _today(uow, township_id: str, cache: dict):
    if township_id not in cache:
        cache[township_id] = local_date(uow.now(), RULES.load(uow, township_id)["timezone"])
    return cache[township_id]


def find_due(run) -> list[tuple]:
    """(township_id, (model, id, deadline column)) of every item whose deadline has ended, not
    yet marked (the oldest ``BATCH`` of each kind; the next sweep takes the rest)."""
    found, days = [], {}
    with run.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Complaint.id, Complaint.township_id, Complaint.due_on)
            .where(Complaint.overdue_at.is_(None), Complaint.state.in_(("open", "concluded")))
            .order_by(Complaint.due_on).limit(BATCH)
        ).all()
        found += [(t, (Complaint, i, "overdue_at")) for i, t, d in rows if is_overdue(d, _today(uow, t, days))]
        rows = uow.session.execute(
            select(Complaint.id, Complaint.township_id, Complaint.reception_due_on)
            .where(Complaint.reception_overdue_at.is_(None), Complaint.reception_at.is_(None),
                   Complaint.reception_due_on.is_not(None), Complaint.state != "closed")
            .order_by(Complaint.reception_due_on).limit(BATCH)
        ).all()
        found += [(t, (Complaint, i, "reception_overdue_at")) for i, t, d in rows if is_overdue(d, _today(uow, t, days))]
        rows = uow.session.execute(
            select(FollowUp.id, FollowUp.township_id, FollowUp.due_on)
            .where(FollowUp.overdue_at.is_(None), FollowUp.state == "open")
            .order_by(FollowUp.due_on).limit(BATCH)
        ).all()
        found += [(t, (FollowUp, i, "overdue_at")) for i, t, d in rows if is_overdue(d, _today(uow, t, days))]
        found += forwarding.find_overdue(uow, lambda t: _today(uow, t, days), BATCH)  # P7
    return found


def mark(uow, item: tuple) -> bool:
    """Claim one item (atomic conditional update); only the winner announces it."""
    model, ident, column = item
    if model is Forwarding:
        return forwarding.mark_overdue(uow, ident)
    if not claim(uow.session, model, ident, expected={column: None}, updates={column: uow.now()}):
        return False
    row = uow.session.get(model, ident)
    uow.session.refresh(row)
    if model is FollowUp:
        kind, due, target = "follow_up", row.due_on, row.handler_person_id
    elif column == "reception_overdue_at":
        kind, due, target = "reception", row.reception_due_on, None
    else:
        kind, due, target = row.kind, row.due_on, row.target_person_id
    uow.emit("complaints.overdue", township_id=row.township_id, item_id=row.id, item_kind=kind,
             due_date=due.isoformat(), target_person_id=target)
    return True


def sweep(run) -> dict:
    """One pass (``services.common.sweep``); how many items this instance marked overdue."""
    return {"overdue": run.each("overdue", find_due(run), mark),
            "duty_roster": run.each("duty_roster", duty.find_alerts(run), duty.alert)}  # P5


def open_counts(uow):
    """Gauge: open complaints and petitions per township."""
    rows = uow.session.execute(
        select(Complaint.township_id, func.count()).where(Complaint.state != "closed")
        .group_by(Complaint.township_id)
    ).all()
    return [(t, n) for t, n in rows]


def open_follow_up_counts(uow):
    rows = uow.session.execute(
        select(FollowUp.township_id, func.count()).where(FollowUp.state != "closed")
        .group_by(FollowUp.township_id)
    ).all()
    return [(t, n) for t, n in rows]


def overdue_counts(uow):
    rows = uow.session.execute(
        select(Complaint.township_id, func.count())
        .where(Complaint.state != "closed", Complaint.overdue_at.is_not(None))
        .group_by(Complaint.township_id)
    ).all()
    return [(t, n) for t, n in rows]
