"""Tables of the complaints service (DOMAIN P1–P6).

Personal data kept here: the complainant's name, phone and address (P1, P2). They never
leave this service: not in events, logs or metric labels; they are shown only to complaint
officers and the director (see ``records.py``).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import TenantScoped, make_base, new_id

Base = make_base()


class Complaint(TenantScoped, Base):
    """A complaint (投诉) or a petition (信访): ``kind`` is ``complaint`` or ``petition``."""

    __tablename__ = "complaints"
    __table_args__ = (UniqueConstraint("township_id", "number"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20), default="complaint")
    channel: Mapped[str] = mapped_column(String(20))  # P1: in_person, phone, written, online
    received_at: Mapped[datetime]
    recorded_by: Mapped[str | None] = mapped_column(String(32))  # None: submitted online by the public
    # P2: personal data, visible to complaint officers and the director only
    complainant_name: Mapped[str] = mapped_column(String(60))
    complainant_phone: Mapped[str | None] = mapped_column(String(30))
    complainant_address: Mapped[str | None] = mapped_column(String(200))
    target_person_id: Mapped[str | None] = mapped_column(String(32), index=True)
    target_window_id: Mapped[str | None] = mapped_column(String(32), index=True)
    target_department_id: Mapped[str | None] = mapped_column(String(32))  # P7: about a department's work
    category: Mapped[str] = mapped_column(String(30), default="other")
    content: Mapped[str] = mapped_column(Text)
    complex: Mapped[bool] = mapped_column(Boolean, default=False)
    several_units: Mapped[bool] = mapped_column(Boolean, default=False)
    major: Mapped[bool] = mapped_column(Boolean, default=False)
    # P3 deadline (local date, end of that day) and provisional flag (C2)
    due_on: Mapped[date]
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated_at: Mapped[datetime | None]  # P3 major / P5 collective: leadership told
    # P5 petitions
    persons: Mapped[int] = mapped_column(default=1)
    collective: Mapped[bool] = mapped_column(Boolean, default=False)
    reception_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    reception_due_on: Mapped[date | None]
    reception_at: Mapped[datetime | None]
    reception_by: Mapped[str | None] = mapped_column(String(32))
    reception_overdue_at: Mapped[datetime | None]
    reception_booked_on: Mapped[date | None]  # P5: booked to the leader on duty that day
    reception_leader_id: Mapped[str | None] = mapped_column(String(32))
    # P7: a major complaint reported to the discipline inspection body above (on record)
    reported_upward_at: Mapped[datetime | None]
    # P4 outcome
    state: Mapped[str] = mapped_column(String(20), default="open")  # open, concluded, replied, closed
    outcome: Mapped[str | None] = mapped_column(String(20))  # verified, not_verified
    finding: Mapped[str | None] = mapped_column(Text)
    concluded_at: Mapped[datetime | None]
    concluded_by: Mapped[str | None] = mapped_column(String(32))
    replied_at: Mapped[datetime | None]
    reply_form: Mapped[str | None] = mapped_column(String(20))  # on_the_spot, phone, written
    reply_summary: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(32))
    overdue_at: Mapped[datetime | None]  # set once by the sweep


class DelayNotice(TenantScoped, Base):
    """P3: the deadline cannot be met; the complainant was told why (recorded)."""

    __tablename__ = "delay_notices"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    told_via: Mapped[str] = mapped_column(String(20))
    told_at: Mapped[datetime]
    by_person_id: Mapped[str | None] = mapped_column(String(32))


class FollowUp(TenantScoped, Base):
    """P6 / C9: a rating of 1 or 2 — call the applicant back, rectify within N working days.
    Of a case's handling (cases.rating_submitted) or of a village agent (intake.agent_rated, I6)."""

    __tablename__ = "follow_ups"
    __table_args__ = (UniqueConstraint("township_id", "case_id"),
                      UniqueConstraint("township_id", "application_id", name="uq_follow_ups_application"))
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # what was rated: ``case`` (a window's handling, C9) or ``agent`` (a village agent, I6 — then
    # ``case_id`` is None, the application and the agent are named and the agent is the "handler")
    subject: Mapped[str] = mapped_column(String(10), default="case", server_default="case")
    case_id: Mapped[str | None] = mapped_column(String(32))
    application_id: Mapped[str | None] = mapped_column(String(32))
    agent_id: Mapped[str | None] = mapped_column(String(32))
    receipt_no: Mapped[str] = mapped_column(String(40))
    rating: Mapped[int]
    handler_person_id: Mapped[str] = mapped_column(String(32))
    window_id: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    source_event_id: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime]
    due_on: Mapped[date]
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), default="open")  # open, closed
    called_back_at: Mapped[datetime | None]
    callback_note: Mapped[str | None] = mapped_column(Text)
    rectified_at: Mapped[datetime | None]
    rectification: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(32))
    overdue_at: Mapped[datetime | None]


class PersonCopy(TenantScoped, Base):
    """Read copy of staff's people (from ``staff.organisation_changed``): for P2 we need to
    know a clerk's window to hide the complainant of a complaint against that window."""

    __tablename__ = "people_copy"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    window_id: Mapped[str | None] = mapped_column(String(32))
    roles: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    department_id: Mapped[str | None] = mapped_column(String(32))  # P7: who answers a forwarding


class WindowCopy(TenantScoped, Base):
    """Read copy of staff's windows (for public outcomes: the window's number and name)."""

    __tablename__ = "windows_copy"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[str | None] = mapped_column(String(32))  # P7: a window's department


class DepartmentCopy(TenantScoped, Base):
    """Read copy of staff's departments (P7: a complaint is forwarded to one of them)."""

    __tablename__ = "departments_copy"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class DutyRoster(TenantScoped, Base):
    """P5 (seed 002 乡镇领导带班值班制度): a month's duty roster of the township's leaders, who
    receive visitors at the centre; published by the end of the month before."""

    __tablename__ = "duty_rosters"
    __table_args__ = (UniqueConstraint("township_id", "month"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    state: Mapped[str] = mapped_column(String(20), default="draft")  # draft, published
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(32))
    published_at: Mapped[datetime | None]
    published_by: Mapped[str | None] = mapped_column(String(32))


class DutyDay(TenantScoped, Base):
    """One day of a roster: the leader on duty (one a day)."""

    __tablename__ = "duty_days"
    __table_args__ = (UniqueConstraint("township_id", "day"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    roster_id: Mapped[str] = mapped_column(ForeignKey("duty_rosters.id"), index=True)
    day: Mapped[date]
    person_id: Mapped[str] = mapped_column(String(32))


class RosterAlert(TenantScoped, Base):
    """P5 / N1: the reminder (before the month's end) and the alert (month ended, next month's
    roster unpublished), each at most once per township, month and stage (the unique key is
    the claim between sweeping instances)."""

    __tablename__ = "roster_alerts"
    __table_args__ = (UniqueConstraint("township_id", "month", "stage"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    month: Mapped[str] = mapped_column(String(7))
    stage: Mapped[str] = mapped_column(String(20))  # reminder, overdue
    at: Mapped[datetime]


class Forwarding(TenantScoped, Base):
    """P7 (seed 002 投诉制度 五): a complaint about a department's work forwarded to that department
    with a deadline; its answer checked by the centre (accepted, or returned for another round)
    and passed on to the complainant with the reply (P4)."""

    __tablename__ = "forwardings"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    department_id: Mapped[str] = mapped_column(String(32), index=True)
    round: Mapped[int] = mapped_column(default=1)
    instructions: Mapped[str | None] = mapped_column(Text)
    forwarded_at: Mapped[datetime]
    forwarded_by: Mapped[str | None] = mapped_column(String(32))
    due_on: Mapped[date]
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), default="forwarded")  # forwarded, answered, accepted, returned
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(32))
    checked_at: Mapped[datetime | None]
    checked_by: Mapped[str | None] = mapped_column(String(32))
    check_note: Mapped[str | None] = mapped_column(Text)
    passed_on_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]  # set once by the sweep


class UpwardReport(TenantScoped, Base):
    """P7 (seed 000): a major complaint reported to the discipline inspection body above, on record."""

    __tablename__ = "upward_reports"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    reported_to: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[datetime]
    reported_by: Mapped[str | None] = mapped_column(String(32))


class PublicSubmission(TenantScoped, Base):
    """One online complaint from the public, by client (a hash of its address, never the
    address): the throttle on the only write open without a token."""

    __tablename__ = "public_submissions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_key: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime]
