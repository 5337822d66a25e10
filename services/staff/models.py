"""Tables of the staff service."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.common.clock import DEFAULT_TZ
from services.common.db import TenantScoped, make_base, new_id

Base = make_base()


class Township(Base):
    """The tenant. Its own id is its township_id."""

    __tablename__ = "townships"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(40), default=DEFAULT_TZ)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    #: Accounts: a suspended township's tokens are all refused; every suspension or
    #: reinstatement bumps ``version``, which its tokens carry (``tver``).
    suspended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Department(TenantScoped, Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("township_id", "name"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))


class Window(TenantScoped, Base):
    __tablename__ = "windows"
    __table_args__ = (UniqueConstraint("township_id", "number"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))
    a_person_id: Mapped[str | None] = mapped_column(String(32))
    b_person_id: Mapped[str | None] = mapped_column(String(32))
    # C8 统一收费: the one window of the township where fees are taken (seed 004)
    fee_window: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # S7: when the window was opened (UTC); a window is honoured only for a quarter it served whole
    created_at: Mapped[datetime | None]


class Person(TenantScoped, Base):
    __tablename__ = "people"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(60))
    badge_no: Mapped[str | None] = mapped_column(String(30))
    phone: Mapped[str | None] = mapped_column(String(30))  # personal data: masked outside staff
    home_unit: Mapped[str | None] = mapped_column(String(100))
    window_id: Mapped[str | None] = mapped_column(ForeignKey("windows.id"))
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))
    roles: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Account(Base):
    """Who may hold a token (DOMAIN "Accounts"): a person's sign-in account (``kind`` person),
    a platform operator (operator, no township), or a machine's API key (key).

    ``version`` is carried in every token of the account; any change of its rights
    (deactivation, roles, window, sign-out, password) bumps it, and the gateways refuse
    tokens of an older version. Passwords are argon2id hashes; the activation code is stored
    as its SHA-256 (a random 96-bit code), cleared once used."""

    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(10))  # person, operator, key
    township_id: Mapped[str | None] = mapped_column(String(32), index=True)
    person_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    username: Mapped[str | None] = mapped_column(String(60), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))  # keys: what the key is for
    roles: Mapped[list | None] = mapped_column(JSON)  # operators and keys (people: the roster's)
    password_hash: Mapped[str | None] = mapped_column(Text)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None]  # keys
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(32))
    revoked_at: Mapped[datetime | None]


class SignInGuard(Base):
    """Wrong-password counting per user name (known or not, so both answer alike), shared by
    every gateway and staff replica: one row, claimed by an atomic conditional UPDATE."""

    __tablename__ = "sign_in_guards"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the user name
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]


# -- staff discipline (S2–S8) ---------------------------------------------------------
from datetime import date as _date  # noqa: E402

from sqlalchemy import Date, Float  # noqa: E402


class AttendanceMark(TenantScoped, Base):
    """S2: one sign-in or sign-out (or an import from the fingerprint machine)."""

    __tablename__ = "attendance_marks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # in, out
    at: Mapped[datetime]
    day: Mapped[_date] = mapped_column(Date, index=True)  # local date
    half: Mapped[str] = mapped_column(String(2))  # am, pm
    recorded_by: Mapped[str | None] = mapped_column(String(32))


class ArrangedDuty(TenantScoped, Base):
    """S4/C2a: the director arranged for a person to work on a day the hall is closed — only
    such work is overtime (``holiday_overtime``); a sign-in on a closed day without one earns
    nothing and costs nothing."""

    __tablename__ = "arranged_duties"
    __table_args__ = (UniqueConstraint("township_id", "person_id", "day"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    day: Mapped[_date] = mapped_column(Date, index=True)  # local date
    arranged_by: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class AttendanceIncident(TenantScoped, Base):
    """S2: what an inspector saw: away without leave (minutes), or a proxy sign-in (代签)."""

    __tablename__ = "attendance_incidents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(10))  # away, proxy
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    other_person_id: Mapped[str | None] = mapped_column(String(32))  # proxy: who signed
    day: Mapped[_date] = mapped_column(Date, index=True)
    half: Mapped[str] = mapped_column(String(2))
    minutes: Mapped[int | None] = mapped_column(Integer)
    recorded_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class AttendanceDay(TenantScoped, Base):
    """S2: a person's classified half-day (closed once; the score entries follow it)."""

    __tablename__ = "attendance_days"
    __table_args__ = (UniqueConstraint("township_id", "person_id", "day", "half"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    day: Mapped[_date] = mapped_column(Date, index=True)
    half: Mapped[str] = mapped_column(String(3))  # am, pm, day (accumulated absence)
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    excused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class AttendanceClosure(TenantScoped, Base):
    """A day whose attendance is classified (the unique key makes closing happen once)."""

    __tablename__ = "attendance_closures"
    __table_args__ = (UniqueConstraint("township_id", "day"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    day: Mapped[_date] = mapped_column(Date)
    closed_at: Mapped[datetime]
    # C2: "open" — a day of a year without calendar data, left open until the year is loaded
    # (no absence, deduction or hand-over from it); "closed" — classified
    state: Mapped[str] = mapped_column(String(10), default="closed", server_default="closed")


class WeeklyPublication(TenantScoped, Base):
    """S2: the weekly sheet is published; objections run from here."""

    __tablename__ = "attendance_publications"
    __table_args__ = (UniqueConstraint("township_id", "week_start"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    week_start: Mapped[_date] = mapped_column(Date)
    published_at: Mapped[datetime]
    published_on: Mapped[_date] = mapped_column(Date)
    objection_until: Mapped[_date] = mapped_column(Date)


class AttendanceObjection(TenantScoped, Base):
    __tablename__ = "attendance_objections"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    attendance_day_id: Mapped[str] = mapped_column(String(32), index=True)
    person_id: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="open")  # open, accepted, rejected
    decided_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class Leave(TenantScoped, Base):
    """S3: a leave request, its approval level, substitute and return (销假)."""

    __tablename__ = "leaves"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(20))  # oral, section_head, deputy_director, director
    length_days: Mapped[float] = mapped_column(Float)
    substitute_person_id: Mapped[str | None] = mapped_column(String(32))
    home_unit_endorsed: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(12))  # requested, approved, rejected, returned
    requested_by: Mapped[str | None] = mapped_column(String(32))
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    returned_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # S3: personal (事假) or sick (病假: needs a hospital certificate, ``certificate``)
    kind: Mapped[str] = mapped_column(String(10), default="personal", server_default="personal")
    certificate = relationship("LeaveCertificate", uselist=False, lazy="selectin", viewonly=True)


class ScoreRule(TenantScoped, Base):
    """S4: the rule table (seeded per township from rules.SCORE_RULE_SEEDS)."""

    __tablename__ = "score_rules"
    __table_args__ = (UniqueConstraint("township_id", "code"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(20))
    points: Mapped[int]
    description: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ScoreEntry(TenantScoped, Base):
    """S4: one deduction or credit. ``(source, source_id, person_id)`` is unique: a source
    event, attendance record or patrol finding counts exactly once."""

    __tablename__ = "score_entries"
    __table_args__ = (UniqueConstraint("township_id", "source", "source_id", "person_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    rule_code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(20))
    points: Mapped[int]
    day: Mapped[_date] = mapped_column(Date, index=True)
    quarter: Mapped[str] = mapped_column(String(7), index=True)
    source: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(32))
    window_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    # S3: the leave the person stood in for (顶岗): the entry is charged to that window
    substitute_leave_id: Mapped[str | None] = mapped_column(String(32))


class VerifiedComplaint(TenantScoped, Base):
    """S5/S7: a verified complaint against a person or window (the 优秀 veto, honours)."""

    __tablename__ = "verified_complaints"
    __table_args__ = (UniqueConstraint("township_id", "complaint_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    complaint_id: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str | None] = mapped_column(String(32), index=True)
    window_id: Mapped[str | None] = mapped_column(String(32))
    quarter: Mapped[str] = mapped_column(String(7), index=True)
    day: Mapped[_date] = mapped_column(Date)


class ApplicantRating(TenantScoped, Base):
    """S5: an applicant's rating of a case's handler (from cases.rating_submitted)."""

    __tablename__ = "applicant_ratings"
    __table_args__ = (UniqueConstraint("township_id", "case_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    rating: Mapped[int]
    quarter: Mapped[str] = mapped_column(String(7), index=True)


class PeerReview(TenantScoped, Base):
    """S5: one colleague's review of another for a quarter."""

    __tablename__ = "peer_reviews"
    __table_args__ = (UniqueConstraint("township_id", "quarter", "reviewer_id", "person_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    quarter: Mapped[str] = mapped_column(String(7), index=True)
    reviewer_id: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    level: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]


class AccountabilityCase(TenantScoped, Base):
    """S6: a fault, the measure the ladder gave, and an appeal (复核)."""

    __tablename__ = "accountability_cases"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))  # minor, serious, grave
    self_reported: Mapped[bool] = mapped_column(Boolean, default=False)
    prior_faults: Mapped[int] = mapped_column(Integer, default=0)
    measure: Mapped[str] = mapped_column(String(20))
    removed_from_window: Mapped[bool] = mapped_column(Boolean, default=False)
    facts: Mapped[str] = mapped_column(Text)
    day: Mapped[_date] = mapped_column(Date)
    notified_on: Mapped[_date | None] = mapped_column(Date)  # S6: the appeal period runs from here
    appeal_until: Mapped[_date] = mapped_column(Date)
    appeal_state: Mapped[str | None] = mapped_column(String(12))  # open, upheld, revised
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    revised_measure: Mapped[str | None] = mapped_column(String(20))
    recorded_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    # S6: where the removal took the person from (window and A/B post), and when an appeal that
    # lowered the measure below removal put them back
    removed_window_id: Mapped[str | None] = mapped_column(String(32))
    removed_post: Mapped[str | None] = mapped_column(String(1))  # A, B
    restored_at: Mapped[datetime | None]


class HomeUnitNotice(TenantScoped, Base):
    """S5/S6: the home unit is notified (three of a kind in a month) or the person is to be
    returned to it (two 不称职 quarters, two public criticisms in a year). Unique per cause."""

    __tablename__ = "home_unit_notices"
    __table_args__ = (UniqueConstraint("township_id", "person_id", "cause"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # notice, return
    cause: Mapped[str] = mapped_column(String(100))
    home_unit: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Patrol(TenantScoped, Base):
    """S8: a morning or afternoon inspection round."""

    __tablename__ = "patrols"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    day: Mapped[_date] = mapped_column(Date, index=True)
    half: Mapped[str] = mapped_column(String(2))
    inspector_id: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class PatrolFindingRecord(TenantScoped, Base):
    __tablename__ = "patrol_findings"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    patrol_id: Mapped[str] = mapped_column(String(32), index=True)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    rule_code: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)


class NoticeLadderStep(TenantScoped, Base):
    """S6/I3: one one-time-notice violation of a person (from ``intake.notice_violation`` or an
    inspector's ``notice_incomplete`` deduction) and the step of the ladder it brought — the
    1st an oral warning, the 2nd an admonition talk, the 3rd a written efficiency warning with
    public criticism (seed 004). The step's decision is an ``AccountabilityCase`` (appealable).
    ``(source, source_id)`` is unique: a violation climbs the ladder once."""

    __tablename__ = "notice_ladder_steps"
    __table_args__ = (UniqueConstraint("township_id", "source", "source_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    day: Mapped[_date] = mapped_column(Date, index=True)
    source: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[str] = mapped_column(String(100))
    application_id: Mapped[str | None] = mapped_column(String(32))
    material: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(40))
    ordinal: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(String(20))
    accountability_case_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


# -- issue 12: sick-leave certificates (S3), study sessions and meetings (S2), monthly
# home-unit reports (S2) ------------------------------------------------------------------

class LeaveCertificate(TenantScoped, Base):
    """S3: the hospital certificate of a sick leave (county level or above), one per leave:
    who issued it, when, and a reference to the scanned document (not the document)."""

    __tablename__ = "leave_certificates"
    __table_args__ = (UniqueConstraint("township_id", "leave_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    leave_id: Mapped[str] = mapped_column(ForeignKey("leaves.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(100))
    issuer_level: Mapped[str] = mapped_column(String(20))
    issued_on: Mapped[_date] = mapped_column(Date)
    document_ref: Mapped[str] = mapped_column(String(300))
    recorded_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class StudySession(TenantScoped, Base):
    """S2: a scheduled study session (学习) or staff meeting (例会)."""

    __tablename__ = "study_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(10))  # study, meeting
    topic: Mapped[str] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(100))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    day: Mapped[_date] = mapped_column(Date, index=True)  # local date of starts_at
    scheduled_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class SessionAttendance(TenantScoped, Base):
    """S2: one person at one session: present, late, or absent (excused or not, and why)."""

    __tablename__ = "session_attendance"
    __table_args__ = (UniqueConstraint("township_id", "session_id", "person_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("study_sessions.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(10))  # present, late, absent
    excused: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[datetime]


class HomeUnitReport(TenantScoped, Base):
    """S2: a month's attendance and scores sent to one home unit (派出单位), once."""

    __tablename__ = "home_unit_reports"
    __table_args__ = (UniqueConstraint("township_id", "month", "home_unit"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    month: Mapped[str] = mapped_column(String(7))
    home_unit: Mapped[str] = mapped_column(String(100))
    people: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime]
    sent_by: Mapped[str | None] = mapped_column(String(32))  # None: the monthly sweep
