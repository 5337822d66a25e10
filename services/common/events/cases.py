"""Events published by ``services/cases``."""
from marshmallow import fields

from . import Envelope, register


@register("cases.case_transitioned")
class CaseTransitioned(Envelope):
    """One per C1 transition, with its C13 status code."""

    case_id = fields.String(required=True)
    application_id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    from_state = fields.String(allow_none=True, load_default=None)
    to_state = fields.String(required=True)
    status_code = fields.String(required=True)  # C13
    by_person_id = fields.String(allow_none=True, load_default=None)
    reason = fields.String(allow_none=True, load_default=None)
    due_date = fields.Date(allow_none=True, load_default=None)
    provisional = fields.Boolean(load_default=False)


@register("cases.case_overdue")
class CaseOverdue(Envelope):
    """C5: undecided after the promise date; counts once against the handler on the due date."""

    case_id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    handler_person_id = fields.String(required=True)
    window_id = fields.String(allow_none=True, load_default=None)
    due_date = fields.Date(required=True)


@register("cases.case_tacitly_approved")
class CaseTacitlyApproved(Envelope):
    case_id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    handler_person_id = fields.String(required=True)
    due_date = fields.Date(required=True)


@register("cases.fee_violation")
class FeeViolation(Envelope):
    """C8: a charge other than the catalogue's standard was attempted (refused)."""

    case_id = fields.String(required=True)
    person_id = fields.String(required=True)
    expected_cents = fields.Integer(required=True)
    attempted_cents = fields.Integer(required=True)


@register("cases.rating_submitted")
class RatingSubmitted(Envelope):
    """C9: the applicant's rating 1–5; 1–2 opens a follow-up in complaints."""

    case_id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    rating = fields.Integer(required=True)
    handler_person_id = fields.String(required=True)
    window_id = fields.String(allow_none=True, load_default=None)
    comment = fields.String(allow_none=True, load_default=None)


@register("cases.handler_unavailable")
class HandlerUnavailable(Envelope):
    """C7: both the A and the B post of a window are away; the director is alerted."""

    window_id = fields.String(allow_none=True, load_default=None)
    person_ids = fields.List(fields.String(), required=True)
    open_cases = fields.Integer(required=True)
