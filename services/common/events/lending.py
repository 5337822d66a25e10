"""Events published by ``services/lending``."""
from marshmallow import fields

from .base import Envelope, register


@register("lending.item_lent")
class ItemLent(Envelope):
    loan_id = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    due_at = fields.DateTime(required=True)
    lent_by = fields.String(allow_none=True, load_default=None)  # L2: the post that lent it (the others are told)


@register("lending.item_returned")
class ItemReturned(Envelope):
    loan_id = fields.String(required=True)
    item_id = fields.String(required=True)
    condition = fields.String(required=True)  # good, damaged, lost


@register("lending.loan_overdue")
class LoanOverdue(Envelope):
    loan_id = fields.String(required=True)
    item_id = fields.String(required=True)
    due_at = fields.DateTime(required=True)
    assigned_person_id = fields.String(allow_none=True, load_default=None)  # L4: the guard on duty


@register("lending.reminder_escalated")
class ReminderEscalated(Envelope):
    """L4: the phone reminder for an overdue loan was not done in time; the security manager
    takes it over. No borrower data."""

    task_id = fields.String(required=True)
    loan_id = fields.String(required=True)
    item_id = fields.String(required=True)
    assigned_person_id = fields.String(allow_none=True, load_default=None)
