"""What the cases service answers: the case (C1–C13), its audit trail, departments'
opinions, pauses, fees (C8) and ratings (C9)."""
from __future__ import annotations

from marshmallow import fields

from . import Bool, Computed, Day, Id, Int, Many, Moment, Obj, Out, Ref, Str, Strings


class Case(Out):
    id = Id()
    application_id = Id()
    receipt_no = Str()
    item_code = Str()
    item_version = Int()
    item_name = Str()
    kind = Str()
    original_kind = Str()
    state = Str()
    outcome = Str(null=True)
    window_id = Ref()
    handler_person_id = Id()
    holder_person_id = Id()
    accepted_at = Moment()
    accepted_on = Day()
    deemed_accepted = Bool()
    clock_started_on = Day(null=True)
    promised_days = Int()
    extension_days = Int()
    paused_days = Int()
    due_date = Day(null=True)
    provisional = Bool(metadata={"description": "the due date rests on a calendar not yet published (C3)"})
    target_at = Moment(null=True)
    tacit_allowed = Bool()
    departments = Strings()
    major = Bool()
    proxy = Bool()
    mandate_no = Str(null=True)
    reviewer_person_id = Ref()
    review_opinion = Str(null=True)
    approver_person_id = Ref()
    decision_reason = Str(null=True)
    decided_at = Moment(null=True)
    delivered_at = Moment(null=True)
    escalated_on = Day(null=True, metadata={"description": "escalated case: the day it was forwarded (I5)"})
    forwarded = Computed(lambda case: case.escalated_on is not None if case.kind == "escalated" else None,
                         {"type": "boolean", "nullable": True,
                          "description": "escalated case forwarded: it waits for the upper level and its delay "
                                         "counts against nobody here; its due_date is the forwarding promise (I5)"})
    target_missed = Computed(lambda case: case.target_flagged_at is not None,
                             {"type": "boolean", "description": "immediate case still open past its target (I5)"})
    upper_answered_on = Day(null=True)
    silence_flagged_at = Moment(null=True)
    silence_explanation = Str(null=True)
    overdue = Computed(lambda case: case.overdue_at is not None, {"type": "boolean"})
    overdue_person_id = Ref()
    fee_cents = Int()
    fee_basis = Str(null=True)
    fee_paid_cents = Int(null=True)
    fee_receipt_no = Str(null=True)
    rating = Int(null=True)
    reconsideration_reason = Str(null=True)


class CaseLogEntry(Out):
    """One line of the audit trail: who, when, why."""

    action = Str()
    from_state = Str(null=True)
    to_state = Str(null=True)
    status_code = Str(null=True)
    by_person_id = Ref()
    holder_person_id = Ref()
    reason = Str(null=True)
    data = Obj(null=True)
    at = Moment()


class DepartmentOpinion(Out):
    department = Str()
    opinion = Str(metadata={"description": "approve or reject"})
    note = Str(null=True)
    by_person_id = Ref()
    at = Moment()


class Pause(Out):
    procedure = Str()
    reason = Str(null=True)
    started_on = Day()
    ended_on = Day(null=True)
    days_added = Int(null=True)


class CaseDetail(Case):
    """A case with its audit trail, departments' opinions and pauses (C1)."""

    trail = Many(CaseLogEntry)
    opinions = Many(DepartmentOpinion)
    pauses = Many(Pause)


class CaseWithNotice(Case):
    """A case after a special procedure starts or ends (C11), with the written notice to the applicant."""

    notice = Str()
    days_added = fields.Integer(metadata={"description": "when the procedure ends: working days added"})


class OpinionRecorded(Out):
    case_id = Id()
    missing_departments = Strings()


class Fee(Out):
    """A fee collected at the catalogue's standard, with its receipt (C8)."""

    case_id = Id()
    amount_cents = Int()
    fee_basis = Str(null=True)
    fee_receipt_no = Str()
    paid_at = Moment()


class Rating(Out):
    """A rating (好差评, C9); 1–2 opens a follow-up in complaints."""

    case_id = Id()
    rating = Int()
    label = Str()
    follow_up = Bool()


class Review(Out):
    """A review (复核, C10) of a rejection or a return, decided by another person than the first
    decider within the period (default 5 working days)."""

    id = Id()
    receipt_no = Str(metadata={"description": "the receipt (or return notice) number"})
    subject = Str(metadata={"description": "rejection (a case) or return (an application not accepted)"})
    case_id = Ref()
    application_id = Ref()
    item_code = Str(null=True)
    first_deciders = Strings(metadata={"description": "who decided what is reviewed: they may not decide the review"})
    reason = Str(metadata={"description": "the applicant's grounds"})
    channel = Str(metadata={"description": "online (receipt number and password) or window (a clerk filed it)"})
    filed_by = Ref()
    requested_at = Moment()
    requested_on = Day()
    due_date = Day(metadata={"description": "decided by the close of this day (C10, working days)"})
    provisional = Bool()
    state = Str(metadata={"description": "pending or decided"})
    outcome = Str(null=True, metadata={"description": "upheld or overturned"})
    answer = Str(null=True, metadata={"description": "the written answer the applicant reads"})
    decided_by = Ref()
    decided_at = Moment(null=True)
    overdue = Computed(lambda r: r.overdue_at is not None, {"type": "boolean"})


class PublicReview(Out):
    """What the applicant reads of their review (C10): no people."""

    receipt_no = Str()
    subject = Str(metadata={"description": "rejection or return"})
    state = Str(metadata={"description": "pending or decided"})
    requested_at = Moment()
    due_date = Day()
    outcome = Str(null=True, metadata={"description": "upheld or overturned"})
    answer = Str(null=True)
    decided_at = Moment(null=True)
