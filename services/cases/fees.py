"""Fees (统一收费, DOMAIN C8): collected at the township's fee window only, at the catalogue's
standard, with a receipt number.

The fee window is the one window staff's organisation marks ``fee_window`` (seed 004: 所有审批
收费一律集中到中心收费窗口统一收取); the person taking the fee must sit at it (their window in
the copy of the organisation, services/common/staffdir). Anyone else is refused (422, field
``window_id``, naming the fee window), with an audit entry on the case; a township with no fee
window marked refuses every fee (409) until a director marks one.

Any other amount is refused (422, field ``amount_cents``) *and* recorded as a fee violation
against the clerk (``cases.fee_violation``, scored in S4). Because the refusal must not roll
back its own record, :func:`collect_fee` returns the refusal and the entrypoint raises it
after the unit of work has committed.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.common.errors import Conflict, ValidationFailed, field_error
from services.contracts import cases as contract, shared

from .lifecycle import audit, get_case, require, today
from sqlalchemy import select

from .models import FeeViolationRecord, PersonCopy, WindowCopy


@dataclass
class FeeResult:
    record: dict | None = None
    refusal: ValidationFailed | None = None


def receipt_number(uow) -> str:
    from services.common.db import new_id

    return f"SF{today(uow):%Y%m%d}{new_id()[:10].upper()}"


def fee_window(uow) -> WindowCopy | None:
    """C8: the township's fee window in the copy of the organisation (None: none marked)."""
    return uow.session.scalar(select(WindowCopy).where(WindowCopy.fee_window.is_(True)).order_by(WindowCopy.id))


def knows_fee_window(uow, person_id: str | None) -> bool:
    """What the fee rule reads from the copy (else the service asks staff first): a fee window,
    and the person taking the fee."""
    return fee_window(uow) is not None and (not person_id or uow.session.get(PersonCopy, person_id) is not None)


def _label(window: WindowCopy) -> str:
    return " ".join(str(x) for x in (window.number, window.name) if x not in (None, "")) or window.id


def window_refusal(uow, person_id: str | None) -> ValidationFailed | None:
    """C8: None when ``person_id`` sits at the fee window; else the refusal naming it."""
    window = fee_window(uow)
    if window is None:
        raise Conflict("no window of this township is marked as the fee window: fees are taken only there "
                       "(C8 统一收费); a director marks one with PUT /windows/{id}/fee-window",
                       {"fee_window": ["none marked"]})
    person = uow.session.get(PersonCopy, person_id) if person_id else None
    at = person.window_id if person is not None else None
    if at == window.id:
        return None
    here = uow.session.get(WindowCopy, at) if at else None
    where = f"window {_label(here)}" if here is not None else "no window"
    return ValidationFailed(
        f"window_id: fees are taken only at the fee window ({_label(window)}), not at {where} (C8 统一收费)",
        {"window_id": [f"not the fee window: pay at window {_label(window)}"], "fee_window_id": window.id})


def collect_fee(uow, case_id: str, person_id: str, amount_cents) -> FeeResult:
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents < 0:
        raise field_error("amount_cents", "a whole, non-negative number of cents")
    case = get_case(uow, case_id)
    require(case, "collect_fee")
    wrong_window = window_refusal(uow, person_id)
    if wrong_window is not None:  # refused; kept on the case's trail
        audit(uow, case, "fee_refused", person_id, "not at the township's fee window (C8)",
              fee_window_id=wrong_window.details["fee_window_id"], attempted_cents=amount_cents)
        return FeeResult(refusal=wrong_window)
    if case.fee_paid_cents is not None:
        raise Conflict(f"the fee was already collected (receipt {case.fee_receipt_no})",
                       {"state": case.state, "action": "collect_fee"})
    if case.fee_cents == 0 and amount_cents == 0:
        raise Conflict("this item charges no fee: nothing to collect", {"state": case.state, "action": "collect_fee"})
    if amount_cents != case.fee_cents:
        uow.session.add(FeeViolationRecord(case_id=case.id, township_id=case.township_id, person_id=person_id,
                                           expected_cents=case.fee_cents, attempted_cents=amount_cents,
                                           at=uow.now()))
        audit(uow, case, "fee_refused", person_id, "amount differs from the catalogue's standard (C8)",
              expected_cents=case.fee_cents, attempted_cents=amount_cents)
        uow.emit("cases.fee_violation", case_id=case.id, person_id=person_id,
                 expected_cents=case.fee_cents, attempted_cents=amount_cents)
        return FeeResult(refusal=ValidationFailed(
            f"amount_cents: the catalogue's standard is {case.fee_cents} cents, not {amount_cents} "
            "(refused and recorded as a fee violation, C8)",
            {"amount_cents": [f"must be {case.fee_cents}"]}))
    case.fee_paid_cents, case.fee_paid_at = amount_cents, uow.now()
    case.fee_receipt_no = receipt_number(uow)
    audit(uow, case, "fee_collected", person_id, case.fee_basis, amount_cents=amount_cents,
          receipt_no=case.fee_receipt_no)
    return FeeResult(record=shared(contract.Fee).dump({"case_id": case.id, "amount_cents": amount_cents,
                                                 "fee_basis": case.fee_basis, "fee_receipt_no": case.fee_receipt_no,
                                                 "paid_at": case.fee_paid_at}))
