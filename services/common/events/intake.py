"""Events published by ``services/intake``."""
from marshmallow import fields

from .base import Envelope, register


@register("intake.application_accepted")
class ApplicationAccepted(Envelope):
    """An application is accepted (受理) as one of the case kinds; cases opens its case.

    ``kind``: immediate, promised, supplement, joint, escalated (a returned application is
    not accepted: see ``application_returned``). For ``supplement`` the clock has not started:
    cases waits for ``materials_completed``. ``accepted_on`` is the local date the period
    counts from (C12: the day the materials arrived when the supplement notice was late)."""

    application_id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    item_code = fields.String(required=True)
    item_version = fields.Integer(required=True)
    item_name = fields.String(required=True)
    kind = fields.String(required=True)
    window_id = fields.String(allow_none=True, load_default=None)
    handler_person_id = fields.String(required=True)  # the accepting clerk
    first_asked_person_id = fields.String(allow_none=True, load_default=None)
    accepted_at = fields.DateTime(required=True)
    accepted_on = fields.Date(required=True)
    deemed_accepted = fields.Boolean(load_default=False)  # C12
    promised_days = fields.Integer(required=True)
    tacit_approval = fields.Boolean(load_default=False)  # C6, item's setting
    departments = fields.List(fields.String(), load_default=list)  # joint: all involved
    fee_cents = fields.Integer(load_default=0)
    fee_basis = fields.String(allow_none=True, load_default=None)
    proxy = fields.Boolean(load_default=False)
    mandate_no = fields.String(allow_none=True, load_default=None)
    major = fields.Boolean(load_default=False)  # major or difficult matter: rejection needs sign-off


@register("intake.materials_completed")
class MaterialsCompleted(Envelope):
    """A supplement (补办件) application's materials are now complete: the clock starts."""

    application_id = fields.String(required=True)
    completed_at = fields.DateTime(required=True)
    completed_on = fields.Date(required=True)
    kind = fields.String(required=True)  # what it becomes: promised, immediate, joint, escalated


@register("intake.application_returned")
class ApplicationReturned(Envelope):
    """Not accepted (退回件 / 不予受理), with the written reason (否定报备)."""

    application_id = fields.String(required=True)
    item_code = fields.String(required=True)
    handler_person_id = fields.String(required=True)
    reason = fields.String(required=True)
    signed_off_by = fields.String(allow_none=True, load_default=None)
    # C10: the return notice's number (the applicant asks for review with it and its password)
    receipt_no = fields.String(allow_none=True, load_default=None)
    returned_by = fields.String(allow_none=True, load_default=None)  # who asked for the return
    returned_at = fields.DateTime(allow_none=True, load_default=None)


@register("intake.notice_violation")
class NoticeViolation(Envelope):
    """I3: a clerk asked for a material that was not on the one-time notice (scored in S4)."""

    application_id = fields.String(required=True)
    person_id = fields.String(required=True)
    material = fields.String(required=True)
    # added by intake (optional): not_in_catalogue | not_on_first_notice
    reason = fields.String(allow_none=True, load_default=None)


class _AgentSubmission(Envelope):
    """I6: a village agent's collection (ids, village and dates only — no applicant data)."""

    collection_id = fields.String(required=True)
    agent_id = fields.String(required=True)
    agent_person_id = fields.String(required=True)
    village = fields.String(required=True)
    item_code = fields.String(required=True)
    collected_on = fields.Date(required=True)
    due_on = fields.Date(required=True)
    provisional = fields.Boolean(load_default=False)


@register("intake.agent_submission_reminder")
class AgentSubmissionReminder(_AgentSubmission):
    """I6: what an agent collected is due at the centre soon (a setting: 1 working day before)."""


@register("intake.agent_submission_overdue")
class AgentSubmissionOverdue(_AgentSubmission):
    """I6: what an agent collected did not reach the centre by its deadline (told once)."""


@register("intake.agent_rated")
class AgentRated(Envelope):
    """I6 with C9's scale: the applicant rated the village agent who brought the application;
    1–2 (``follow_up``) opens a follow-up in complaints (P6), as a low window rating does. No
    applicant data: the receipt number, as the case's follow-up carries, and the comment with
    long digit runs masked."""

    application_id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    agent_id = fields.String(required=True)
    agent_person_id = fields.String(required=True)
    village = fields.String(allow_none=True, load_default=None)
    rating = fields.Integer(required=True)
    comment = fields.String(allow_none=True, load_default=None)  # long digit runs masked
    channel = fields.String(allow_none=True, load_default=None)  # online / paper
    follow_up = fields.Boolean(load_default=False)  # 1–2: complaints opens a follow-up (P6)
