"""Tables of the notices service (DOMAIN N1). Every row is ``TenantScoped``.

A notice names no applicant or complainant: it carries ids, numbers and dates from the event,
and its free text passes ``services.common.privacy.hide_identifiers`` (notices.routing)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import TenantScoped, make_base, new_id
from services.common.recompute import RecomputeMarker

Base = make_base()


class PersonCopy(TenantScoped, Base):
    """The read copy of staff's people (``staff.organisation_changed``): who holds which role,
    window and home unit — the recipients are chosen from it."""

    __tablename__ = "people"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(60), default="")
    roles: Mapped[list] = mapped_column(JSON, default=list)
    window_id: Mapped[str | None] = mapped_column(String(32))
    home_unit: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WindowCopy(TenantScoped, Base):
    """The read copy of staff's windows with their A/B posts (C7)."""

    __tablename__ = "windows"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(100), default="")
    a_person_id: Mapped[str | None] = mapped_column(String(32))
    b_person_id: Mapped[str | None] = mapped_column(String(32))


class Notice(TenantScoped, Base):
    """One notice in one person's inbox (N1): read and acknowledged on record; one that needs
    an answer and has none by ``ack_due_at`` is escalated to the director, once."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("source_event_id", "person_id", "escalation_of", name="uq_notices_event_person"),
        Index("ix_notices_inbox", "township_id", "person_id", "read_at", "created_at"),
        Index("ix_notices_pending_ack", "needs_ack", "acked_at", "escalated_at", "ack_due_at"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(10))  # the DOMAIN rule: C5, C7, C12, I5, P3, P5, L2, L4, S6, S2, N1
    source_event: Mapped[str] = mapped_column(String(100))  # e.g. cases.case_reminder
    source_event_id: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(30))  # case, application, complaint, loan, person, week
    subject_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    needs_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    # N1: the period it was given (the setting then); a calendar change recomputes ack_due_at from it
    ack_working_days: Mapped[int | None]
    ack_due_at: Mapped[datetime | None]
    ack_provisional: Mapped[bool] = mapped_column(Boolean, default=False)  # C2: the due day rests on an unloaded year
    acked_at: Mapped[datetime | None]
    ack_note: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None]  # set once by the sweep (claim)
    # the escalation notice points at the notice it escalates ("" for an original: unique key)
    escalation_of: Mapped[str] = mapped_column(String(32), default="")


class Delivery(TenantScoped, Base):
    """A notice pushed to an outside channel (N1 "optionally pushed … through a pluggable
    sender"): retried with backoff by the sweep; the inbox copy never depends on it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("notice_id", "channel", name="uq_deliveries_notice_channel"),
        Index("ix_deliveries_due", "state", "next_attempt_at"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id"))
    channel: Mapped[str] = mapped_column(String(20))  # webhook
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending, sending, delivered, failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]  # a "sending" row whose lease passed is retried
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class CalendarRecompute(RecomputeMarker, TenantScoped, Base):
    """A township whose open acknowledgement deadlines (N1, counted in working days: C2) must be
    recomputed after a calendar change, recorded in the same transaction as the change
    (``services/common/recompute.py``; notices.recompute)."""

    __tablename__ = "calendar_recompute"
