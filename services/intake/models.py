"""Tables of the intake service (DOMAIN I1–I5, C12). Every row is ``TenantScoped``."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import TenantScoped, make_base, new_id
from services.common.recompute import RecomputeMarker

Base = make_base()


class CatalogueItem(TenantScoped, Base):
    """I1: one *version* of a catalogue item (办事指南). A change writes a new version; an
    application keeps the row (version) it was accepted under."""

    __tablename__ = "catalogue_items"
    __table_args__ = (UniqueConstraint("township_id", "code", "version", name="uq_item_version"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    current: Mapped[bool] = mapped_column(Boolean, default=True)  # the latest version of the code
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(Text)
    window_id: Mapped[str | None] = mapped_column(String(32))
    department_id: Mapped[str | None] = mapped_column(String(32))
    materials: Mapped[list] = mapped_column(JSON, default=list)  # [{name, main, note}]
    procedure: Mapped[str] = mapped_column(Text, default="")
    default_kind: Mapped[str] = mapped_column(String(20))  # immediate | promised
    promised_days: Mapped[int] = mapped_column(Integer, default=0)
    fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    fee_basis: Mapped[str | None] = mapped_column(Text)
    departments: Mapped[list] = mapped_column(JSON, default=list)  # all involved (joint)
    tacit_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    level: Mapped[str] = mapped_column(String(20), default="township")  # township | county
    major: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(32))


class Inquiry(TenantScoped, Base):
    """I2: an inquiry (咨询) with its first-asked clerk (首问责任人)."""

    __tablename__ = "inquiries"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    asked_at: Mapped[datetime]
    first_asked_person_id: Mapped[str] = mapped_column(String(32), index=True)
    topic: Mapped[str] = mapped_column(Text)
    item_code: Mapped[str | None] = mapped_column(String(40))
    answer: Mapped[str | None] = mapped_column(Text)
    referred_window_id: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(20))  # answered | referred | done
    outcome: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(32))


class Application(TenantScoped, Base):
    """I3–I5: an application (申请) at a window; becomes a case in ``cases`` once accepted."""

    __tablename__ = "applications"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    item_id: Mapped[str] = mapped_column(ForeignKey("catalogue_items.id"))
    item_code: Mapped[str] = mapped_column(String(40))
    item_version: Mapped[int] = mapped_column(Integer)
    # personal data: shown in full only to the roles that need it (setting), never in events/logs
    applicant_name: Mapped[str] = mapped_column(String(100))
    applicant_phone: Mapped[str] = mapped_column(String(30))
    applicant_id_no: Mapped[str] = mapped_column(String(30))
    materials_brought: Mapped[list] = mapped_column(JSON, default=list)
    materials_present: Mapped[list] = mapped_column(JSON, default=list)  # present, not brought
    materials_arrived: Mapped[list] = mapped_column(JSON, default=list)  # later, on the notice
    missing: Mapped[list] = mapped_column(JSON, default=list)  # catalogue minus submitted (I3)
    first_asked_person_id: Mapped[str | None] = mapped_column(String(32), index=True)
    handler_person_id: Mapped[str] = mapped_column(String(32), index=True)
    window_id: Mapped[str | None] = mapped_column(String(32))
    proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    agent_person_id: Mapped[str | None] = mapped_column(String(32))
    agent_name: Mapped[str | None] = mapped_column(String(100))
    mandate_no: Mapped[str | None] = mapped_column(String(60))
    # I6: brought in by a registered village agent (村级代办员) from what they collected
    agent_id: Mapped[str | None] = mapped_column(String(32), index=True)
    village: Mapped[str | None] = mapped_column(String(100))
    collected_on: Mapped[date | None]
    agent_due_on: Mapped[date | None]
    agent_late: Mapped[bool | None]
    agent_rating: Mapped[int | None]  # I6: the applicant rates the agent 1–5 like a window (C9)
    agent_rating_comment: Mapped[str | None] = mapped_column(Text)
    agent_rating_channel: Mapped[str | None] = mapped_column(String(20))
    agent_rated_at: Mapped[datetime | None]
    kind: Mapped[str] = mapped_column(String(20))  # immediate promised supplement returned joint escalated
    target_kind: Mapped[str] = mapped_column(String(20))  # what it is once complete
    # received | supplement | accepted | return_pending | returned
    status: Mapped[str] = mapped_column(String(20), index=True)
    received_at: Mapped[datetime]
    received_on: Mapped[date]
    notice_due_on: Mapped[date | None]  # C12: last day to issue the supplement notice
    notice_issued_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    accepted_on: Mapped[date | None]
    deemed_accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None]
    promised_date: Mapped[date | None]
    promised_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    return_reason: Mapped[str | None] = mapped_column(Text)
    return_requested_by: Mapped[str | None] = mapped_column(String(32))
    return_requested_at: Mapped[datetime | None]
    signed_off_by: Mapped[str | None] = mapped_column(String(32))
    returned_at: Mapped[datetime | None]
    receipt_no: Mapped[str | None] = mapped_column(String(40), unique=True)  # unique across townships
    password_hmac: Mapped[str | None] = mapped_column(String(64))
    # status kept from cases.case_transitioned (what an applicant queries)
    case_id: Mapped[str | None] = mapped_column(String(32))
    case_state: Mapped[str | None] = mapped_column(String(40))
    case_status_code: Mapped[str | None] = mapped_column(String(40))
    case_status_label: Mapped[str | None] = mapped_column(String(40))
    case_due_date: Mapped[date | None]
    case_due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    case_updated_at: Mapped[datetime | None]
    case_seq: Mapped[int | None]  # seq of the case_transitioned event applied
    # C10: the review of a rejection or a return, kept from cases.review_changed (the applicant reads it)
    review_subject: Mapped[str | None] = mapped_column(String(20))
    review_state: Mapped[str | None] = mapped_column(String(20))
    review_outcome: Mapped[str | None] = mapped_column(String(20))
    review_answer: Mapped[str | None] = mapped_column(Text)
    review_due_date: Mapped[date | None]
    review_requested_at: Mapped[datetime | None]
    review_decided_at: Mapped[datetime | None]


class Notice(TenantScoped, Base):
    """A written notice: the one-time supplement notice (I3, 补办件通知书) or a return notice
    (退回件通知书, I5). At most one supplement notice per application."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("application_id", "kind", name="uq_notice_once"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # supplement | return
    missing: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime]
    issued_by: Mapped[str] = mapped_column(String(32))
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # C12


class NoticeViolationRecord(TenantScoped, Base):
    """I3: a later request for a material outside the one-time notice (refused, recorded)."""

    __tablename__ = "notice_violations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    material: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(40))  # not_in_catalogue | not_on_first_notice
    at: Mapped[datetime]


class ReceiptGuess(TenantScoped, Base):
    """A failed receipt query (I4): the guessing limit, shared by every gateway instance.
    ``key`` is an HMAC of the receipt number or of the client address (no address in clear)."""

    __tablename__ = "receipt_guesses"
    __table_args__ = (Index("ix_receipt_guesses_key_at", "key", "at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class OrgName(TenantScoped, Base):
    """Read copy of names from ``staff.organisation_changed`` (windows, departments, people):
    names only, never phones."""

    __tablename__ = "org_names"
    entity_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    extra: Mapped[dict] = mapped_column(JSON, default=dict)


class VillageAgent(TenantScoped, Base):
    """I6: the township's register of village agents (村级代办员): a person of the township with
    the ``village_agent`` role and the village (代理点) they serve."""

    __tablename__ = "village_agents"
    __table_args__ = (UniqueConstraint("township_id", "person_id", name="uq_agent_person"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    village: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_at: Mapped[datetime]
    registered_by: Mapped[str | None] = mapped_column(String(32))
    # removed from the register by a director (I6): no new collections; the open ones stay tracked
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(32))
    removal_reason: Mapped[str | None] = mapped_column(Text)


class AgentCollection(TenantScoped, Base):
    """I6: an application an agent collected (受理、登记) in the village; it must reach the
    centre within ``agent_submission_days`` working days (never more than a week, seed 001).
    ``collected`` until a clerk receives it as an application (``submitted``)."""

    __tablename__ = "agent_collections"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agent_id: Mapped[str] = mapped_column(ForeignKey("village_agents.id"), index=True)
    agent_person_id: Mapped[str] = mapped_column(String(32))
    village: Mapped[str] = mapped_column(String(100))
    item_code: Mapped[str] = mapped_column(String(40))
    applicant_name: Mapped[str] = mapped_column(String(100))  # personal data: masked unless needed
    mandate_no: Mapped[str] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(Text)
    collected_on: Mapped[date]
    due_on: Mapped[date]
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    remind_on: Mapped[date]
    # the period it was given (the settings then); a calendar change recomputes due_on from it (C2)
    submission_days: Mapped[int | None]
    submission_max_days: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(20), index=True)  # collected | submitted | withdrawn
    application_id: Mapped[str | None] = mapped_column(String(32))
    submitted_at: Mapped[datetime | None]
    submitted_on: Mapped[date | None]
    late: Mapped[bool | None]
    reminded_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]
    recorded_at: Mapped[datetime]
    # withdrawn before it reached the centre, with the reason on record (I6)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(32))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)


class CalendarRecompute(RecomputeMarker, TenantScoped, Base):
    """A township whose open agent collections' deadlines (I6, counted in working days: C2) must
    be recomputed after a calendar change, recorded in the same transaction as the change
    (``services/common/recompute.py``; intake.recompute)."""

    __tablename__ = "calendar_recompute"
