"""Events published by ``services/complaints``."""
from marshmallow import fields

from .base import Envelope, register


@register("complaints.complaint_verified")
class ComplaintVerified(Envelope):
    """P4: a complaint was investigated and verified against a person or window.

    Carries no complainant identity (P2)."""

    complaint_id = fields.String(required=True)
    target_person_id = fields.String(allow_none=True, load_default=None)
    target_window_id = fields.String(allow_none=True, load_default=None)
    category = fields.String(allow_none=True, load_default=None)  # e.g. attitude, argument, bribery


@register("complaints.leadership_alerted")
class LeadershipAlerted(Envelope):
    """P3 / P5: a major complaint or a collective petition — leadership is told at once.

    Carries no complainant identity (P2): the number of people only."""

    complaint_id = fields.String(required=True)
    number = fields.String(required=True)
    kind = fields.String(required=True)  # complaint, petition
    reason = fields.String(required=True)  # major_complaint, collective_petition
    persons = fields.Integer(load_default=1)


@register("complaints.follow_up_opened")
class FollowUpOpened(Envelope):
    """P6 / C9: a low rating opened a follow-up (call back, rectify within N working days)."""

    follow_up_id = fields.String(required=True)
    case_id = fields.String(required=True)
    handler_person_id = fields.String(required=True)
    window_id = fields.String(allow_none=True, load_default=None)
    due_date = fields.Date(required=True)


@register("complaints.overdue")
class ComplaintOverdue(Envelope):
    """P3 / P5 / P6: a complaint, petition, reception or follow-up passed its deadline
    (once per item and deadline). No complainant identity."""

    item_id = fields.String(required=True)
    item_kind = fields.String(required=True)  # complaint, petition, reception, follow_up
    due_date = fields.Date(required=True)
    target_person_id = fields.String(allow_none=True, load_default=None)
