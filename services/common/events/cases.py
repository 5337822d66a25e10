"""Events published by ``services/cases``."""
from marshmallow import fields

from .base import Envelope, register


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
    status_label = fields.String(allow_none=True, load_default=None)  # C13 label, e.g. 已受理
    kind = fields.String(allow_none=True, load_default=None)  # the case's kind after the move (I5)
    outcome = fields.String(allow_none=True, load_default=None)  # approved / rejected / tacitly_approved
    # the case's n-th transition: orders two moves made in the same instant (delivery order is not
    # guaranteed, and timestamps tie); absent in events published before it existed
    seq = fields.Integer(allow_none=True, load_default=None)


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
    comment = fields.String(allow_none=True, load_default=None)  # long digit runs masked
    follow_up = fields.Boolean(load_default=False)  # 1–2: complaints opens a follow-up (P6)
    channel = fields.String(allow_none=True, load_default=None)  # online / paper / kiosk / phone


@register("cases.handler_unavailable")
class HandlerUnavailable(Envelope):
    """C7: both the A and the B post of a window are away; the director is alerted."""

    window_id = fields.String(allow_none=True, load_default=None)
    person_ids = fields.List(fields.String(), required=True)
    open_cases = fields.Integer(required=True)
    director_person_ids = fields.List(fields.String(), load_default=list)  # whom to alert


# -- added by the cases service (C2/C3/C5/C7/C11, I5) ----------------------------------

@register("cases.deadline_changed")
class DeadlineChanged(Envelope):
    """A case's promised date moved: extension (C3), end of a special procedure (C11), or a
    calendar change (C2: a provisional deadline recomputed when its year is loaded)."""

    case_id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    due_date = fields.Date(required=True)
    provisional = fields.Boolean(load_default=False)
    reason = fields.String(allow_none=True, load_default=None)


@register("cases.case_reminder")
class CaseReminder(Envelope):
    """C5 催办: the deadline is near; sent once per deadline to the person holding the case."""

    case_id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    holder_person_id = fields.String(required=True)
    window_id = fields.String(allow_none=True, load_default=None)
    due_date = fields.Date(required=True)
    provisional = fields.Boolean(load_default=False)


@register("cases.case_reassigned")
class CaseReassigned(Envelope):
    """C7: a case moved between a window's A and B posts (away, or back after 销假)."""

    case_id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    from_person_id = fields.String(required=True)
    to_person_id = fields.String(required=True)
    window_id = fields.String(allow_none=True, load_default=None)
    reason = fields.String(allow_none=True, load_default=None)


@register("cases.escalation_silent")
class EscalationSilent(Envelope):
    """I5: the upper level has not answered an escalated case within the silence period
    (default 15 calendar days, Art. 203 roll-over); an explanation must be put on record."""

    case_id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    holder_person_id = fields.String(required=True)
    escalated_on = fields.Date(required=True)
    silent_since = fields.Date(required=True)


@register("cases.immediate_target_missed")
class ImmediateTargetMissed(Envelope):
    """I5: an immediate case (即办件) is still open past its target (default 30 minutes);
    flagged once, for the director(s)."""

    case_id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    holder_person_id = fields.String(required=True)
    window_id = fields.String(allow_none=True, load_default=None)
    target_at = fields.DateTime(required=True)
    director_person_ids = fields.List(fields.String(), load_default=list)


# -- C10 review (复核) ---------------------------------------------------------------------

@register("cases.review_changed")
class ReviewChanged(Envelope):
    """C10: a review of a rejection or a return was asked for (``pending``) or decided; intake
    keeps it for the applicant's receipt query. ``answer``: long digit runs masked."""

    review_id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    subject = fields.String(required=True)  # rejection | return
    case_id = fields.String(allow_none=True, load_default=None)
    application_id = fields.String(allow_none=True, load_default=None)
    state = fields.String(required=True)  # pending | decided
    outcome = fields.String(allow_none=True, load_default=None)  # upheld | overturned
    answer = fields.String(allow_none=True, load_default=None)
    due_date = fields.Date(required=True)
    provisional = fields.Boolean(load_default=False)
    requested_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True, load_default=None)


@register("cases.review_reminder")
class ReviewReminder(Envelope):
    """C10: a review's deadline is near (or passed: ``overdue``); its possible deciders (the
    roles of the setting, not the first deciders) are told, the directors too when overdue."""

    review_id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    subject = fields.String(required=True)
    due_date = fields.Date(required=True)
    provisional = fields.Boolean(load_default=False)
    overdue = fields.Boolean(load_default=False)
    decider_person_ids = fields.List(fields.String(), load_default=list)
