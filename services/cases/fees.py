"""Fees (统一收费, DOMAIN C8): collected at the catalogue's standard, with a receipt number.

Any other amount is refused (422, field ``amount_cents``) *and* recorded as a fee violation
against the clerk (``cases.fee_violation``, scored in S4). Because the refusal must not roll
back its own record, :func:`collect_fee` returns the refusal and the entrypoint raises it
after the unit of work has committed.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.common.errors import Conflict, ValidationFailed, field_error

from .lifecycle import audit, get_case, require, today
from .models import FeeViolationRecord


@dataclass
class FeeResult:
    record: dict | None = None
    refusal: ValidationFailed | None = None


def receipt_number(uow) -> str:
    from services.common.db import new_id

    return f"SF{today(uow):%Y%m%d}{new_id()[:10].upper()}"


def collect_fee(uow, case_id: str, person_id: str, amount_cents) -> FeeResult:
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents < 0:
        raise field_error("amount_cents", "a whole, non-negative number of cents")
    case = get_case(uow, case_id)
    require(case, "collect_fee")
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
    return FeeResult(record={"case_id": case.id, "amount_cents": amount_cents, "fee_basis": case.fee_basis,
                             "fee_receipt_no": case.fee_receipt_no, "paid_at": case.fee_paid_at.isoformat()})
