"""What the intake service answers: catalogue (I1), inquiries (I2), applications, notices,
returns and receipts (I3–I5, C12), the public status query (I4)."""
from __future__ import annotations

from marshmallow import fields

from .cases import PublicReview
from . import (Bool, Computed, Day, Flat, Id, Int, Many, MaskedId, MaskedName, MaskedPhone, Moment, Num,
               Obj, One, Out, Ref, Str, Strings)

STRINGS = {"type": "array", "items": {"type": "string"}}


def _outstanding(app) -> list:
    return [m for m in app.missing or [] if m not in (app.materials_arrived or [])]


# -- I1 catalogue ---------------------------------------------------------------------

class Material(Out):
    name = Str()
    main = Bool(metadata={"description": "a main material (主件): without it the application is returned"})
    note = fields.String(allow_none=True)


class PublicCatalogueItem(Out):
    """A catalogue item as the public sees it (I1, T1): no internal ids of its author."""

    code = Str()
    version = Int()
    name = Str()
    legal_basis = Str()
    window_id = Ref()
    department_id = Ref()
    materials = Many(Material)
    procedure = Str()
    default_kind = Str()
    promised_days = Int()
    fee_cents = Int()
    fee_basis = Str(null=True)
    departments = Strings()
    tacit_approval = Bool()
    level = Str()
    major = Bool()
    created_at = Moment()


class CatalogueItem(PublicCatalogueItem):
    id = Id()
    current = Bool()
    published = Bool()
    created_by = Ref()


# -- I2 inquiries ---------------------------------------------------------------------

class Inquiry(Out):
    id = Id()
    asked_at = Moment()
    first_asked_person_id = Id()
    topic = Str()
    item_code = Str(null=True)
    answer = Str(null=True)
    referred_window_id = Ref()
    status = Str()
    outcome = Str(null=True)
    done_at = Moment(null=True)
    done_by = Ref()


class TrackedApplication(Out):
    application_id = Id()
    item_code = Str()
    status = Str()
    handler_person_id = Id()
    window_id = Ref()
    receipt_no = Str(null=True)
    due_date = Day(null=True)


class Tracking(Out):
    """督办 (I2): what the caller was first asked about and is not yet done."""

    inquiries = Many(Inquiry)
    applications = Many(TrackedApplication)


# -- I3–I5 applications ---------------------------------------------------------------

class Applicant(Out):
    """The applicant; phone and ID number masked unless the caller's role needs them (P2)."""

    name = Str(attribute="applicant_name")
    phone = MaskedPhone(required=True, attribute="applicant_phone")
    id_no = MaskedId(required=True, attribute="applicant_id_no")


class ApplicationCase(Out):
    """The case's status as cases last announced it (C13); nulls until it is accepted."""

    state = Str(null=True, attribute="case_state")
    status_code = Str(null=True, attribute="case_status_code")
    status_label = Str(null=True, attribute="case_status_label")
    due_date = Day(null=True, attribute="case_due_date")
    provisional = Bool(attribute="case_due_provisional")


class Application(Out):
    id = Id()
    item_code = Str()
    item_version = Int()
    applicant = Flat(Applicant, required=True)
    materials_brought = Strings()
    materials_present = Strings()
    missing = Strings()
    materials_arrived = Strings()
    outstanding = Computed(_outstanding, STRINGS)
    first_asked_person_id = Ref()
    handler_person_id = Id()
    window_id = Ref()
    proxy = Bool()
    agent_person_id = Ref()
    agent_name = Str(null=True)
    mandate_no = Str(null=True)
    agent_id = Ref(metadata={"description": "I6: the registered village agent who brought it"})
    village = Str(null=True)
    collected_on = Day(null=True)
    agent_due_on = Day(null=True)
    agent_late = Bool(null=True)
    agent_rating = Int(null=True)
    kind = Str()
    target_kind = Str()
    status = Str()
    received_at = Moment()
    received_on = Day()
    notice_due_on = Day(null=True)
    notice_issued_at = Moment(null=True)
    accepted_at = Moment(null=True)
    accepted_on = Day(null=True)
    deemed_accepted = Bool()
    completed_at = Moment(null=True)
    promised_date = Day(null=True)
    promised_provisional = Bool()
    return_reason = Str(null=True)
    return_requested_by = Ref()
    signed_off_by = Ref()
    returned_at = Moment(null=True)
    receipt_no = Str(null=True)
    case = Flat(ApplicationCase, required=True)


class Notice(Out):
    """A one-time supplement notice (I3) or a return notice (I5)."""

    id = Id()
    application_id = Id()
    kind = Str(metadata={"description": "supplement or return"})
    missing = Strings()
    reason = Str(null=True)
    issued_at = Moment()
    issued_by = Id()
    late = Bool(metadata={"description": "issued after notice_due_on: accepted from receipt (C12)"})
    receipt_no = fields.String(metadata={"description": "a return notice: its number, for the status query "
                                                        "and a review (C10)"})
    query_password = fields.String(metadata={"description": "a return notice: its query password, shown once"})


class ApplicationDetail(Application):
    notices = Many(Notice)


class Named(Out):
    id = Ref()
    name = Str(null=True)


class ReceiptItem(Out):
    code = Str()
    name = Str()
    version = Int()


class Receipt(Out):
    """I4 受理通知单: what the applicant takes home. The query password appears here only."""

    receipt_no = Str()
    query_password = Str()
    applicant_name = Str()
    applicant_phone = Str(null=True, metadata={"description": "masked"})
    item = One(ReceiptItem)
    kind = Str()
    window = One(Named)
    handler = One(Named)
    accepted_at = Moment()
    accepted_on = Day()
    received_on = Day()
    deemed_accepted = Bool()
    promised_date = Day(null=True)
    promised_provisional = Bool()
    promise = Str()
    fee_cents = Int()
    fee_basis = Str(null=True)
    outstanding_materials = Strings()
    channels = Obj(metadata={"description": "where to query the status (a setting)"})


class ApplicationOutcome(Out):
    """The application after a step, with the notice and the receipt that step produced."""

    application = One(Application)
    notice = One(Notice, null=True)
    receipt = One(Receipt, null=True)


class ReturnOutcome(Out):
    application = One(Application)
    notice = One(Notice, null=True)


class MaterialRequest(Out):
    """A later request for a material that is on the one-time notice (a reminder, I3)."""

    refused = Bool()
    material = Str()
    on_notice = Bool()
    outstanding = Strings()


class Return(Out):
    """否定报备: a return, for audit (I5)."""

    application_id = Id(attribute="id")
    item_code = Str()
    item_version = Int()
    status = Str()
    reason = Str(null=True, attribute="return_reason")
    requested_by = Ref(attribute="return_requested_by")
    requested_at = Moment(null=True, attribute="return_requested_at")
    signed_off_by = Ref()
    returned_at = Moment(null=True)


class NoticeViolation(Out):
    id = Id()
    application_id = Id()
    person_id = Id()
    material = Str()
    reason = Str()
    at = Moment()


class PublicStatus(Out):
    """I4: what the applicant sees by receipt number and password; the name masked."""

    receipt_no = Str()
    applicant_name = Str(metadata={"description": "masked (王*燕)"})
    item_code = Str()
    item_version = Int()
    kind = Str()
    status = Str()
    status_code = Str(null=True)
    status_label = Str(null=True)
    accepted_at = Moment(null=True)
    accepted_on = Day(null=True)
    deemed_accepted = Bool()
    due_date = Day(null=True)
    due_provisional = Bool(null=True)
    outstanding_materials = Strings()
    updated_at = Moment()
    review = One(PublicReview, null=True,
                 metadata={"description": "the review (复核) asked for, its due day and the answer (C10); null: none"})


# -- I6 village agents --------------------------------------------------------------

class VillageAgent(Out):
    """A registered village agent (村级代办员) and the village they serve."""

    id = Id()
    person_id = Id()
    name = Str()
    village = Str()
    active = Bool(metadata={"description": "false once removed from the register (I6)"})
    registered_at = Moment()
    removed_at = Moment(null=True)
    removal_reason = Str(null=True)


class AgentCollection(Out):
    """What an agent collected in the village and must bring to the centre by ``due_on`` (I6)."""

    id = Id()
    agent_id = Id()
    agent_person_id = Id()
    village = Str()
    item_code = Str()
    applicant_name = MaskedName(required=True)
    mandate_no = Str()
    note = Str(null=True)
    collected_on = Day()
    due_on = Day()
    due_provisional = Bool()
    status = Str(metadata={"description": "collected | submitted | withdrawn"})
    application_id = Ref()
    submitted_on = Day(null=True)
    late = Bool(null=True)
    overdue = Bool(metadata={"description": "not submitted and past its deadline today"})
    reminded_at = Moment(null=True)
    withdrawn_at = Moment(null=True)
    withdrawn_by = Ref()
    withdrawal_reason = Str(null=True)


class AgentRemoval(VillageAgent):
    """An agent removed from the register (I6), and how many of their collections are still out."""

    open_collections = Int()


class AgentRating(Out):
    """The applicant's rating of the agent (I6, on C9's scale)."""

    application_id = Id()
    agent_id = Id()
    rating = Int()
    label = Str()


class AgentScore(Out):
    """One agent's line of the month's scoreboard (I6)."""

    rank = Int()
    agent_id = Id()
    person_id = Id()
    name = Str()
    village = Str()
    collected = Int()
    submitted = Int()
    on_time = Int()
    late = Int()
    overdue_open = Int()
    on_time_rate = Num(null=True)
    ratings = Int()
    mean_rating = Num(null=True)
    satisfaction = Num(null=True)
    rating_points = Num(null=True)


class AgentScoreboard(Out):
    month = Str()
    agents = Many(AgentScore)
