"""What the notices service answers (N1): a person's notices, their inbox page, and the
director's view of notices still waiting for an answer. Notices name no applicant or
complainant (their text is cleaned by ``services.common.privacy``)."""
from __future__ import annotations

from . import Bool, Id, Int, Many, Moment, Out, Ref, Str


class Notice(Out):
    id = Id()
    rule = Str(metadata={"description": "the DOMAIN rule that asks for it: C5, C7, C12, I5, P3, P5, L2, L4, S6, S2; "
                                        "N1 for an escalation"})
    source_event = Str(metadata={"example": "cases.case_reminder"})
    subject_type = Str(metadata={"example": "case"})
    subject_id = Ref()
    title = Str()
    body = Str()
    created_at = Moment()
    read_at = Moment(null=True)
    needs_ack = Bool(metadata={"description": "the rule needs an answer: acknowledge with POST …/ack"})
    ack_due_at = Moment(null=True, metadata={"description": "close of the N1 period (default 1 working day)"})
    ack_provisional = Bool(metadata={"description": "the due day rests on a year without calendar data (C2)"})
    acked_at = Moment(null=True)
    escalated_at = Moment(null=True, metadata={"description": "when the director was told it was not acknowledged"})
    escalation_of = Ref(metadata={"description": "for an escalation: the notice not acknowledged in time"})
    overdue = Bool()


class NoticePage(Out):
    items = Many(Notice)
    page = Int()
    per_page = Int()
    total = Int()
    unread = Int()


class DeliveryStatus(Out):
    channel = Str(metadata={"example": "webhook"})
    state = Str(metadata={"description": "pending, sending, delivered, failed, or cancelled (the township "
                                         "removed its channel)"})
    attempts = Int()
    last_error = Str(null=True)
    delivered_at = Moment(null=True)


class EscalatedTo(Out):
    person_id = Id()
    person_name = Str(null=True)
    acked_at = Moment(null=True)


class PendingNotice(Notice):
    person_id = Id()
    person_name = Str(null=True)
    deliveries = Many(DeliveryStatus)
    escalated_to = Many(EscalatedTo, metadata={
        "description": "N1: who was told it was not acknowledged in time — the directors, or for a director's own "
                       "notice the deputy directors; empty with escalated_at set: recorded, nobody further in the "
                       "township (the overdue alert reaches the operator)"})
