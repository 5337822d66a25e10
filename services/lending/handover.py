"""Shift handover (交接班, DOMAIN L5; seed 000 4.3.2 交接班时应清楚存、借状态和去向的记录): the
record states what is in stock and what is lent to whom, and is accepted only when it
reconciles with the ledger; otherwise it is refused with every difference named."""
from __future__ import annotations

from sqlalchemy import select

from services.common.errors import field_error
from services.contracts.lending import Handover as HandoverOut

from .models import Handover, Item, Loan
from .rules import reconcile, refuse_unless_reconciled
from services.contracts import shared


def ledger(uow) -> tuple[dict, dict]:
    """({item_id: label} in stock, {item_id: (label, borrower)} lent) by the ledger."""
    in_stock = {i.id: i.label for i in uow.scalars(select(Item).where(Item.state == "in_stock"))}
    lent = {}
    rows = uow.session.execute(
        select(Item, Loan).join(Loan, Loan.id == Item.current_loan_id).where(Item.state == "lent")
    ).all()
    for item, loan in rows:
        lent[item.id] = (item.label, loan.borrower_name)
    return in_stock, lent


def record_handover(uow, from_person_id: str | None, to_person_id: str, in_stock, lent, note=None) -> dict:
    if not to_person_id:
        raise field_error("to_person_id", "required: who takes over")
    if not isinstance(in_stock, list) or not all(isinstance(x, str) for x in in_stock):
        raise field_error("in_stock", "a list of item ids")
    if not isinstance(lent, list) or not all(isinstance(x, dict) and isinstance(x.get("item_id"), str) for x in lent):
        raise field_error("lent", "a list of {item_id, borrower_name}")
    stock_ledger, lent_ledger = ledger(uow)
    refuse_unless_reconciled(reconcile(stock_ledger, lent_ledger, in_stock, lent))
    items = {i.id: i for i in uow.scalars(select(Item).where(Item.id.in_(list(lent_ledger))))}
    h = Handover(at=uow.now(), from_person_id=from_person_id, to_person_id=to_person_id,
                 in_stock=sorted(in_stock),
                 lent=[{"item_id": k, "loan_id": items[k].current_loan_id, "borrower_name": v[1]}
                       for k, v in sorted(lent_ledger.items())],
                 note=note)
    uow.session.add(h)
    uow.session.flush()
    return shared(HandoverOut).dump(h)


def guard_on_duty(uow) -> str | None:
    """Who took over at the latest handover (the guard the reminders go to, L4)."""
    latest = uow.session.scalar(select(Handover).order_by(Handover.at.desc()).limit(1))
    return latest.to_person_id if latest else None


def list_handovers(uow, limit: int = 50) -> list[dict]:
    return shared(HandoverOut, many=True).dump(uow.scalars(select(Handover).order_by(Handover.at.desc()).limit(limit)))
