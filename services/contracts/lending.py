"""What the lending service answers: items (L1), loans and returns (L2, L3), compensation,
overdue reminders (L4), the ledger and shift handovers (L5). The borrower's phone and address
are shown in full only to guards and the security manager, who call the borrower (L4)."""
from __future__ import annotations

from marshmallow import fields

from . import (Bool, Computed, Id, Int, Many, MaskedAddress, MaskedPhone, Moment, One, Out, Ref, Str)


class Item(Out):
    id = Id()
    kind = Str()
    label = Str()
    spec = Str(null=True)
    eligibility = Str()
    deposit_cents = Int()
    loan_days = Int()
    usage_notes = Str(null=True)
    max_load_kg = Int(null=True)
    replacement_value_cents = Int()
    state = Str()
    current_loan_id = Ref()


class Compensation(Out):
    id = Id()
    loan_id = Id()
    item_id = Id()
    condition = Str()
    amount_cents = Int()
    deposit_applied_cents = Int()
    deposit_refund_cents = Int()
    balance_due_cents = Int()
    state = Str()


class Loan(Out):
    """A loan; ``phone`` masked and ``address`` hidden unless the caller calls borrowers (L4, P2).
    The ID was shown and only its masked number recorded (L2)."""

    id = Id()
    item_id = Id()
    item_label = Str(null=True)
    borrower_name = Str()
    registered_resident = Bool()
    id_type = Str()
    id_number = Str(attribute="id_number_masked", metadata={"description": "masked (110***********1234)"})
    phone = MaskedPhone(required=True)
    address = MaskedAddress(required=True)
    purpose = Str()
    signature = Str()
    lent_at = Moment()
    lent_by = Ref()
    due_at = Moment()
    deposit_cents = Int()
    state = Str()
    returned_at = Moment(null=True)
    received_by = Ref()
    condition = Str(null=True, metadata={"description": "good, worn, damaged or lost (L3)"})
    damage_cause = Str(null=True, metadata={"description": "borrower (charged at the original price), wear or "
                                                           "other (not charged) (L3)"})
    return_note = Str(null=True)
    conditions = Str(null=True, metadata={"description": "usage conditions shown at lending (L1)"})
    conditions_acknowledged_at = Moment(null=True, metadata={"description": "the borrower acknowledged them (L1)"})
    overdue = Computed(lambda loan: loan.overdue_at is not None, {"type": "boolean"})


class LoanDetail(Loan):
    compensation = One(Compensation, null=True)


class Returned(Out):
    loan = One(Loan)
    compensation = One(Compensation, null=True)


class ReminderTask(Out):
    id = Id()
    loan_id = Id()
    assigned_person_id = Ref()
    created_at = Moment()
    escalate_at = Moment()
    state = Str()
    escalated_at = Moment(null=True)
    done_at = Moment(null=True)
    note = Str(null=True)


class Handover(Out):
    id = Id()
    at = Moment()
    from_person_id = Ref()
    to_person_id = Id()
    in_stock = fields.List(fields.String(), required=True)
    lent = fields.List(fields.Dict(), required=True, metadata={"description": "{item_id, borrower_name}"})
    note = Str(null=True)


class StockLine(Out):
    item_id = Id()
    label = Str()


class LentLine(Out):
    item_id = Id()
    label = Str()
    borrower_name = Str()


class LedgerState(Out):
    """What a handover must state, by the ledger (L5)."""

    in_stock = Many(StockLine)
    lent = Many(LentLine)
