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
    target_department_id = Ref(metadata={"description": "P7: the department whose work it is about"})
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
    reported_upward_at = Moment(null=True, metadata={
        "description": "P7: a major complaint first reported to the discipline inspection body above"})
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
    reception_booked_on = IsoDate(allow_none=True, metadata={"description": "P5: booked to the leader on duty"})
    reception_leader_id = fields.String(allow_none=True, metadata={"description": "P5: the leader on duty booked"})
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
    subject = Str(metadata={"description": "case (a window's handling, C9) | agent (a village agent, I6)"})
    case_id = Ref()
    application_id = Ref(metadata={"description": "an agent's follow-up: the application the agent brought"})
    agent_id = Ref(metadata={"description": "an agent's follow-up: the village agent rated (I6)"})
    receipt_no = Str()
    rating = Int()
    handler_person_id = Id(metadata={"description": "the case's handler, or the village agent's person"})
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


# -- P5 leader on duty ---------------------------------------------------------------------------

class DutyDay(Out):
    day = Day()
    person_id = Id()
    name = Str()


class DutyRoster(Out):
    """P5: a month's duty roster of the township's leaders (one a day); ``missing_days`` are the
    working days still without a leader (publishing needs none)."""

    month = Str(metadata={"example": "2026-12"})
    state = Str(metadata={"description": "draft or published"})
    updated_at = Moment()
    published_at = Moment(null=True)
    days = Many(DutyDay)
    missing_days = fields.List(IsoDate(), required=True)


class LeaderName(Out):
    name = Str()


class PublicDutyDay(Out):
    day = Day()
    name = Str()


class LeaderOnDuty(Out):
    """P5 / T1: today's leader on duty at the centre (name only; null when none is rostered) and
    this month's published roster (公示)."""

    date = Day()
    leader = One(LeaderName, null=True)
    roster_published = Bool()
    next_month_published = Bool()
    month = Many(PublicDutyDay)


# -- P7 forwarding -------------------------------------------------------------------------------

class Forwarding(Out):
    """P7: a complaint forwarded to a department, its answer and the centre's check. Free text is
    redacted unless the viewer's role sees identity (P2)."""

    id = Id()
    complaint_id = Id()
    number = Str()
    department_id = Id()
    department_name = Str(null=True)
    round = Int()
    instructions = Str(null=True)
    forwarded_at = Moment()
    due_on = Day()
    due_provisional = Bool()
    state = Str(metadata={"description": "forwarded, answered, accepted or returned"})
    answer = Str(null=True)
    answered_at = Moment(null=True)
    checked_at = Moment(null=True)
    check_note = Str(null=True)
    passed_on_at = Moment(null=True)
    overdue = Bool()


class UpwardReport(Out):
    """P7: a major complaint reported to the discipline inspection body above (seed 000)."""

    id = Id()
    complaint_id = Id()
    number = Str()
    reported_to = Str()
    reference = Str(null=True)
    summary = Str()
    reported_at = Moment()
