"""What the complaints service answers: complaints and petitions (P1–P6), follow-ups of low
ratings (C9), the public outcome statistics (T1). The complainant's identity and personal data
in free text are shown only to the roles that need them (P2): the service decides per viewer,
and the schema lets no other key through."""
from __future__ import annotations

from marshmallow import fields

from . import Bool, Computed, Day, Id, Int, IsoDate, IsoDateTime, Many, Moment, One, Out, Ref, Str


class DelayNotice(Out):
    reason = Str(metadata={"description": "redacted unless the viewer sees identity (P2)"})
    told_via = Str()
    told_at = Moment()


class Complainant(Out):
    name = Str()
    phone = Str(null=True)
    address = Str(null=True)


class Complaint(Out):
    """A complaint or a petition as one viewer may see it: ``complainant`` is null and free
    text redacted unless the viewer's role sees identity (P2); petition fields only on petitions."""

    id = Id()
    number = Str()
    kind = Str(metadata={"description": "complaint or petition"})
    channel = Str()
    received_at = Moment()
    target_person_id = Ref()
    target_window_id = Ref()
    category = Str()
    content = Str()
    complex = Bool()
    several_units = Bool()
    major = Bool()
    due_on = Day()
    due_provisional = Bool()
    escalated = Bool()
    escalated_at = Moment(null=True)
    state = Str()
    outcome = Str(null=True)
    finding = Str(null=True)
    concluded_at = Moment(null=True)
    replied_at = Moment(null=True)
    reply_form = Str(null=True)
    closed_at = Moment(null=True)
    overdue = Bool()
    tracking = Bool()
    delay_notices = Many(DelayNotice)
    complainant = One(Complainant, null=True)
    # petitions only
    persons = fields.Integer()
    collective = fields.Boolean()
    reception_requested = fields.Boolean()
    reception_due_on = IsoDate(allow_none=True)
    reception_at = IsoDateTime(allow_none=True)
    reception_overdue = fields.Boolean()
    # only for the roles that see identity
    reply_summary = fields.String(allow_none=True)


class PublicComplaintReceipt(Out):
    """What an online complainant is told: the number to quote, the answer's due date."""

    number = Str()
    due_on = Day()
    received_at = Moment()


class FollowUp(Out):
    """A follow-up of a low rating (C9): call back, rectify, close."""

    id = Id()
    case_id = Id()
    receipt_no = Str()
    rating = Int()
    handler_person_id = Id()
    window_id = Ref()
    comment = Str(null=True)
    opened_at = Moment()
    due_on = Day()
    due_provisional = Bool()
    state = Str()
    called_back_at = Moment(null=True)
    callback_note = Str(null=True)
    rectified_at = Moment(null=True)
    rectification = Str(null=True)
    closed_at = Moment(null=True)
    overdue = Computed(lambda f: f.overdue_at is not None, {"type": "boolean"})


class OutcomeMonth(Out):
    month = Str(metadata={"example": "2025-03"})
    received = Int()
    closed = Int()
    verified = Int()
    not_verified = Int()
    answered_on_time = Int()


class WindowRef(Out):
    number = Int()
    name = Str()


class PublicOutcome(Out):
    month = Str()
    category = Str()
    outcome = Str()
    window = One(WindowRef, null=True)
    state = Str()
    concluded_on = Day(null=True)


class PublicOutcomes(Out):
    """T1: complaints by month and their outcomes, without identities."""

    months = Many(OutcomeMonth)
    outcomes = Many(PublicOutcome)
