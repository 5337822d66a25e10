"""Tables of the cases service (DOMAIN C1–C13). Every row is TenantScoped."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from services.common.clock import DEFAULT_TZ
from services.common.db import TenantScoped, make_base, new_id
from services.common.recompute import RecomputeMarker

Base = make_base()

RUNNING = ("in_review", "awaiting_departments", "escalated")  # the clock runs (C2)
#: the rows ``ix_cases_running_due`` holds: the running cases
RUNNING_STATES = "state IN (" + ", ".join(f"'{state}'" for state in RUNNING) + ")"


class Case(TenantScoped, Base):
    """One case (办件), opened from ``intake.application_accepted``."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("township_id", "application_id"),
        # C5: the overdue and reminder sweeps' candidates (running cases due in a window of days)
        # among 10^6 open and any number of closed cases (issue 9)
        Index("ix_cases_running_due", "due_date", postgresql_where=text(RUNNING_STATES),
              sqlite_where=text(RUNNING_STATES)),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(String(64))
    receipt_no: Mapped[str] = mapped_column(String(64), index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    item_version: Mapped[int]
    item_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # current kind (I5); a supplement case changes
    original_kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(30), index=True)
    transitions: Mapped[int] = mapped_column(Integer, default=0)  # C1 moves so far: the events' seq
    resume_state: Mapped[str | None] = mapped_column(String(30))  # C11: where a pause returns to
    outcome: Mapped[str | None] = mapped_column(String(30))  # approved / rejected / tacitly_approved
    window_id: Mapped[str | None] = mapped_column(String(32))
    handler_person_id: Mapped[str] = mapped_column(String(32))  # responsible clerk (A post)
    holder_person_id: Mapped[str] = mapped_column(String(32))  # who holds it now (A, or B for A: C7)
    first_asked_person_id: Mapped[str | None] = mapped_column(String(32))
    accepted_at: Mapped[datetime]
    accepted_on: Mapped[date]
    deemed_accepted: Mapped[bool] = mapped_column(Boolean, default=False)  # C12
    # deadline inputs (C2/C3/C11): due = clock_start + promised + extension + paused working days
    clock_started_on: Mapped[date | None]
    promised_days: Mapped[int]
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extension_by: Mapped[str | None] = mapped_column(String(32))
    extended_at: Mapped[datetime | None]
    paused_days: Mapped[int] = mapped_column(Integer, default=0)
    due_date: Mapped[date | None]
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    target_at: Mapped[datetime | None]  # immediate cases: on-the-spot target (I5)
    target_flagged_at: Mapped[datetime | None]  # I5: still open past the target, the director told (once)
    tacit_allowed: Mapped[bool] = mapped_column(Boolean, default=False)  # C6 item override
    departments: Mapped[list] = mapped_column(JSON, default=list)  # joint cases
    major: Mapped[bool] = mapped_column(Boolean, default=False)
    proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    mandate_no: Mapped[str | None] = mapped_column(String(64))
    # C4
    reviewer_person_id: Mapped[str | None] = mapped_column(String(32))
    review_opinion: Mapped[str | None] = mapped_column(String(20))
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None]
    approver_person_id: Mapped[str | None] = mapped_column(String(32))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    # escalated cases (I5): due_date is the forwarding promise; escalated_on the day forwarded
    escalated_on: Mapped[date | None]
    upper_answered_on: Mapped[date | None]
    upper_answer: Mapped[str | None] = mapped_column(Text)
    silence_flagged_at: Mapped[datetime | None]
    silence_explanation: Mapped[str | None] = mapped_column(Text)
    # timers (C5/C6): each set once, by whoever claims it
    reminded_at: Mapped[datetime | None]
    reminded_for: Mapped[date | None]  # the due date the reminder was for
    overdue_at: Mapped[datetime | None]
    overdue_person_id: Mapped[str | None] = mapped_column(String(32))
    # fees (C8)
    fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    fee_basis: Mapped[str | None] = mapped_column(Text)
    fee_paid_cents: Mapped[int | None]
    fee_receipt_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    fee_paid_at: Mapped[datetime | None]
    # rating (C9) and reconsideration (C10)
    rating: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    reconsideration_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class CaseLog(TenantScoped, Base):
    """The audit trail (C1): every transition and every act on a case — who, when, why."""

    __tablename__ = "case_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))  # transition, reassigned, extended, fee, …
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    status_code: Mapped[str | None] = mapped_column(String(30))  # C13
    by_person_id: Mapped[str | None] = mapped_column(String(32))
    holder_person_id: Mapped[str | None] = mapped_column(String(32))  # who holds the case after
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime]


class DepartmentOpinion(TenantScoped, Base):
    """A joint case's departments answer in parallel (并联审批)."""

    __tablename__ = "department_opinions"
    __table_args__ = (UniqueConstraint("case_id", "department"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    department: Mapped[str] = mapped_column(String(100))
    opinion: Mapped[str] = mapped_column(String(20))  # approve / reject
    note: Mapped[str | None] = mapped_column(Text)
    by_person_id: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime]


class Pause(TenantScoped, Base):
    """C11: a special procedure (特别程序) stops the clock from start to end."""

    __tablename__ = "pauses"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    procedure: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    started_on: Mapped[date]
    started_by: Mapped[str | None] = mapped_column(String(32))
    ended_on: Mapped[date | None]
    ended_by: Mapped[str | None] = mapped_column(String(32))
    days_added: Mapped[int | None]


class FeeViolationRecord(TenantScoped, Base):
    """C8: an attempt to charge anything but the catalogue's standard (refused, kept)."""

    __tablename__ = "fee_violations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(32))
    expected_cents: Mapped[int]
    attempted_cents: Mapped[int]
    at: Mapped[datetime]


# -- read copies of staff's organisation (C7) ------------------------------------

class TownshipCopy(TenantScoped, Base):
    __tablename__ = "org_townships"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(40), default=DEFAULT_TZ)


class WindowCopy(TenantScoped, Base):
    __tablename__ = "org_windows"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[int | None]
    name: Mapped[str | None] = mapped_column(String(100))
    department_id: Mapped[str | None] = mapped_column(String(32))
    a_person_id: Mapped[str | None] = mapped_column(String(32))
    b_person_id: Mapped[str | None] = mapped_column(String(32))
    fee_window: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # C8


class PersonCopy(TenantScoped, Base):
    """No personal data: id, window, roles, active (names stay in staff)."""

    __tablename__ = "org_people"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    window_id: Mapped[str | None] = mapped_column(String(32))
    department_id: Mapped[str | None] = mapped_column(String(32))
    roles: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Absence(TenantScoped, Base):
    """A person away (leave or absence, C7): their open cases go to the window's other post
    from ``starts_at`` until they return."""

    __tablename__ = "absences"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(20))  # leave / absence / removed (S6: never ends)
    ref: Mapped[str | None] = mapped_column(String(64))  # leave id
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]  # planned end; a leave lasts until the return is recorded
    handed_over_at: Mapped[datetime | None]  # claimed when the cases moved
    returned_at: Mapped[datetime | None]


class CalendarRecompute(RecomputeMarker, TenantScoped, Base):
    """A township whose running deadlines (cases, C10 reviews) must be recomputed after a
    calendar change (C2), recorded in the same transaction as the change, so a restart resumes
    the work (the columns: ``services.common.recompute.RecomputeMarker``)."""

    __tablename__ = "calendar_recompute"


# -- C10 review (复核) of a rejection or a return ---------------------------------------

class ReturnedApplication(TenantScoped, Base):
    """An application intake returned (退回件 / 不予受理, ``intake.application_returned``): never a
    case, but its applicant may ask for a review (C10) with the notice's number and password."""

    __tablename__ = "returned_applications"
    application_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    receipt_no: Mapped[str | None] = mapped_column(String(64), index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    handler_person_id: Mapped[str] = mapped_column(String(32))
    returned_by: Mapped[str | None] = mapped_column(String(32))
    signed_off_by: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    returned_at: Mapped[datetime]


class Review(TenantScoped, Base):
    """C10 复核: the applicant's request for review of a rejection (a case) or a return (an
    application intake did not accept), decided by someone other than the first decider
    within the period (default 5 working days), and the answer the applicant reads."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("township_id", "receipt_no"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    receipt_no: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(20))  # rejection | return
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    application_id: Mapped[str | None] = mapped_column(String(64))
    item_code: Mapped[str | None] = mapped_column(String(64))
    first_deciders: Mapped[list] = mapped_column(JSON, default=list)  # may not decide the review
    reason: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(20))  # online | window
    filed_by: Mapped[str | None] = mapped_column(String(32))  # the clerk, at a window
    requested_at: Mapped[datetime]
    requested_on: Mapped[date]
    due_date: Mapped[date]
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # the period the review was given (``review_working_days`` when asked): a recount after a
    # calendar change (recompute.py, C2) counts it, not the setting of the day
    working_days: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)  # pending | decided
    outcome: Mapped[str | None] = mapped_column(String(20))  # upheld | overturned
    answer: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]
