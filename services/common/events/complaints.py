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
    case_id = fields.String(allow_none=True, load_default=None)  # None: a village agent's rating (I6)
    handler_person_id = fields.String(required=True)  # or the village agent's person
    window_id = fields.String(allow_none=True, load_default=None)
    due_date = fields.Date(required=True)
    subject = fields.String(load_default="case")  # case | agent
    application_id = fields.String(allow_none=True, load_default=None)
    agent_id = fields.String(allow_none=True, load_default=None)


@register("complaints.overdue")
class ComplaintOverdue(Envelope):
    """P3 / P5 / P6: a complaint, petition, reception or follow-up passed its deadline
    (once per item and deadline). No complainant identity."""

    item_id = fields.String(required=True)
    item_kind = fields.String(required=True)  # complaint, petition, reception, follow_up
    due_date = fields.Date(required=True)
    target_person_id = fields.String(allow_none=True, load_default=None)


@register("complaints.duty_roster_missing")
class DutyRosterMissing(Envelope):
    """P5: next month's leader duty roster is not published — ``stage`` reminder (the month's end
    is near) or overdue (the month ended without it). Once per township, month and stage."""

    month = fields.String(required=True)  # YYYY-MM of the roster that is missing
    deadline = fields.Date(required=True)  # the last day of the month before
    stage = fields.String(required=True)  # reminder, overdue


@register("complaints.reception_booked")
class ReceptionBooked(Envelope):
    """P5: a petition's leader reception is booked to the leader on duty that day. No identity."""

    complaint_id = fields.String(required=True)
    number = fields.String(required=True)
    leader_person_id = fields.String(required=True)
    day = fields.Date(required=True)
    persons = fields.Integer(load_default=1)


@register("complaints.complaint_forwarded")
class ComplaintForwarded(Envelope):
    """P7: a complaint about a department's work is forwarded to it, to answer by ``due_date``.
    ``department_person_ids``: who in the department answers (its heads, else all its people).
    No complainant identity (P2)."""

    forwarding_id = fields.String(required=True)
    complaint_id = fields.String(required=True)
    number = fields.String(required=True)
    department_id = fields.String(required=True)
    department_person_ids = fields.List(fields.String(), load_default=list)
    due_date = fields.Date(required=True)
    round = fields.Integer(load_default=1)


@register("complaints.forwarding_answered")
class ForwardingAnswered(Envelope):
    """P7: the department answered; the complaint officer checks the answer."""

    forwarding_id = fields.String(required=True)
    complaint_id = fields.String(required=True)
    number = fields.String(required=True)
    department_id = fields.String(required=True)


@register("complaints.forwarding_overdue")
class ForwardingOverdue(Envelope):
    """P7: a department has not answered a forwarded complaint by its deadline (once per forwarding)."""

    forwarding_id = fields.String(required=True)
    complaint_id = fields.String(required=True)
    number = fields.String(required=True)
    department_id = fields.String(required=True)
    department_person_ids = fields.List(fields.String(), load_default=list)
    due_date = fields.Date(required=True)
