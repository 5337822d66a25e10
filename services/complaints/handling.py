"""Complaints and petitions: recording (P1), confidentiality (P2), deadlines (P3),
outcome (P4), petitions (P5). Plain functions on a unit of work.

The complainant's identity (name, phone, address) stays in this service: events carry ids
only, and records are shown with identity only to ``IDENTITY_ROLES`` (P2).
"""
from __future__ import annotations

import re
import secrets

from sqlalchemy import or_, select

from services.common.calendar import load_calendar
from services.common.clock import local_date
from services.common.errors import (
    Conflict,
    Forbidden,
    ValidationFailed,
    field_error,
)
from services.common.validate import text
from services.contracts import complaints as contract, shared

from . import duty, forwarding, orgcopy, viewing
from .models import Complaint, DelayNotice
from .rules import (
    CATEGORIES,
    CHANNELS,
    OUTCOMES,
    REPLY_FORMS,
    RULES,
    complaint_due,
    is_collective,
    petition_due,
    reception_due,
)

PHONE_RE = re.compile(r"^\+?[0-9-]{6,20}$")
MAX_TEXT = 5000


# -- viewers (P2): services/complaints/viewing.py -----------------------------------------
Viewer, viewer_for, redact, get_for = viewing.Viewer, viewing.viewer_for, viewing.redact, viewing.get_for


def complaint_record(c: Complaint, viewer: Viewer, delays=()) -> dict:
    identity = viewer.sees_identity
    rec = {
        "id": c.id, "number": c.number, "kind": c.kind, "channel": c.channel,
        "received_at": c.received_at,
        "target_person_id": c.target_person_id, "target_window_id": c.target_window_id,
        "target_department_id": c.target_department_id,
        "category": c.category,
        "content": c.content if identity else redact(c.content, c),
        "complex": c.complex, "several_units": c.several_units, "major": c.major,
        "due_on": c.due_on, "due_provisional": c.due_provisional,
        "escalated": c.escalated_at is not None,
        "escalated_at": c.escalated_at,
        "state": c.state, "outcome": c.outcome,
        "finding": c.finding if identity else redact(c.finding, c),
        "concluded_at": c.concluded_at, "replied_at": c.replied_at,
        "reply_form": c.reply_form, "closed_at": c.closed_at,
        "reported_upward_at": c.reported_upward_at,
        "overdue": c.overdue_at is not None, "tracking": bool(delays) and c.state != "closed",
        "delay_notices": [
            {"reason": d.reason if identity else redact(d.reason, c), "told_via": d.told_via,
             "told_at": d.told_at} for d in delays
        ],
        "complainant": (
            {"name": c.complainant_name, "phone": c.complainant_phone, "address": c.complainant_address}
            if identity else None
        ),
    }
    if c.kind == "petition":
        rec.update({
            "persons": c.persons, "collective": c.collective,
            "reception_requested": c.reception_requested,
            "reception_due_on": c.reception_due_on,
            "reception_at": c.reception_at,
            "reception_overdue": c.reception_overdue_at is not None,
            "reception_booked_on": c.reception_booked_on,
            "reception_leader_id": c.reception_leader_id,
        })
    if identity:
        rec["reply_summary"] = c.reply_summary
    # the contract serialises the dates and lets only the keys it declares go out (P2)
    return shared(contract.Complaint).dump(rec)


# -- recording (P1) --------------------------------------------------------------------

def _text(data: dict, name: str, required: bool = True, limit: int = MAX_TEXT, prefix: str = "") -> str | None:
    return text(data, name, limit, required, prefix)


def _complainant(data: dict) -> tuple[str, str | None, str | None]:
    who = data.get("complainant")
    if not isinstance(who, dict):
        raise field_error("complainant", "required: name and phone")
    name = _text(who, "name", limit=60, prefix="complainant.")
    phone = _text(who, "phone", required=False, limit=30, prefix="complainant.")
    if phone is not None and not PHONE_RE.match(phone):
        raise field_error("complainant.phone", "a phone number (digits, '-', optional '+')")
    address = _text(who, "address", required=False, limit=200, prefix="complainant.")
    return name, phone, address


def _number(uow, prefix: str, day) -> str:
    while True:
        number = f"{prefix}{day:%Y%m%d}-{secrets.token_hex(3).upper()}"
        if not uow.session.scalar(select(Complaint.id).where(Complaint.number == number)):
            return number


def copy_knows(uow):
    """``known(entity, id)`` answered from this service's copy of the organisation."""
    find = {"person": orgcopy.person, "window": orgcopy.window, "department": orgcopy.department}

    def known(entity: str, ident: str) -> bool:
        return find[entity](uow, ident) is not None
    return known


def _check_targets(uow, target_person_id, target_window_id, required: bool, known,
                   target_department_id=None) -> None:
    if required and not (target_person_id or target_window_id or target_department_id):
        raise ValidationFailed("a complaint names the staff member, the window or the department it is "
                               "about (P1, P7)",
                               {"target_person_id": ["target_person_id, target_window_id or "
                                                     "target_department_id required"]})
    known = known or copy_knows(uow)
    if target_person_id and not known("person", target_person_id):
        raise field_error("target_person_id", "no such person in this township")
    if target_window_id and not known("window", target_window_id):
        raise field_error("target_window_id", "no such window in this township")
    if target_department_id and not known("department", target_department_id):
        raise field_error("target_department_id", "no such department in this township")


def record_complaint(uow, data: dict, recorded_by: str | None, known=None) -> Complaint:
    """P1: record a complaint (channel, complainant, target, content); P3: its deadline;
    a major complaint must be written and is escalated to leadership at once.

    ``known(entity, id)`` answers whether staff knows the target person or window (the
    copy may lag behind staff's events; the service then asks staff)."""
    rules = RULES.load(uow)
    channel = data.get("channel")
    if channel not in CHANNELS:
        raise field_error("channel", f"one of {', '.join(CHANNELS)}")
    major = bool(data.get("major", False))
    if major and channel != "written":
        raise field_error("channel", "a major matter must be submitted in writing (P1)")
    category = data.get("category") or "other"
    if category not in CATEGORIES:
        raise field_error("category", f"one of {', '.join(CATEGORIES)}")
    name, phone, address = _complainant(data)
    content = _text(data, "content")
    target_person_id, target_window_id = data.get("target_person_id"), data.get("target_window_id")
    target_department_id = data.get("target_department_id")
    _check_targets(uow, target_person_id, target_window_id, True, known, target_department_id)
    complex_, several = bool(data.get("complex", False)), bool(data.get("several_units", False))
    now = uow.now()
    received_on = local_date(now, rules["timezone"])
    cal = load_calendar(uow.session, uow.common, uow.township_id)
    due = complaint_due(cal, received_on, complex_=complex_ or major, several_units=several, rules=rules)
    c = Complaint(
        number=_number(uow, "TS", received_on), kind="complaint", channel=channel, received_at=now,
        recorded_by=recorded_by, complainant_name=name, complainant_phone=phone,
        complainant_address=address, target_person_id=target_person_id,
        target_window_id=target_window_id, target_department_id=target_department_id, category=category,
        content=content, complex=complex_ or major,
        several_units=several, major=major, due_on=due.day, due_provisional=due.provisional,
        state="open",
    )
    uow.session.add(c)
    uow.session.flush()
    if major:
        _alert_leadership(uow, c, "major_complaint")
    return c


def record_petition(uow, data: dict, recorded_by: str | None, known=None) -> Complaint:
    """P5: a petition (信访): reply within 3 working days; a requested leader reception within
    a week; a collective petition notifies leadership at once."""
    rules = RULES.load(uow)
    channel = data.get("channel")
    if channel not in CHANNELS:
        raise field_error("channel", f"one of {', '.join(CHANNELS)}")
    name, phone, address = _complainant(data)
    content = _text(data, "content")
    persons = data.get("persons", 1)
    if not isinstance(persons, int) or isinstance(persons, bool) or not 1 <= persons <= 10000:
        raise field_error("persons", "a number of people between 1 and 10000")
    target_person_id, target_window_id = data.get("target_person_id"), data.get("target_window_id")
    _check_targets(uow, target_person_id, target_window_id, False, known)
    now = uow.now()
    received_on = local_date(now, rules["timezone"])
    cal = load_calendar(uow.session, uow.common, uow.township_id)
    due = petition_due(cal, received_on, rules)
    reception_requested = bool(data.get("reception_requested", False))
    collective = is_collective(persons, rules)
    c = Complaint(
        number=_number(uow, "XF", received_on), kind="petition", channel=channel, received_at=now,
        recorded_by=recorded_by, complainant_name=name, complainant_phone=phone,
        complainant_address=address, target_person_id=target_person_id,
        target_window_id=target_window_id, category=data.get("category") or "other", content=content,
        complex=False, several_units=False, major=collective, due_on=due.day,
        due_provisional=due.provisional, persons=persons, collective=collective,
        reception_requested=reception_requested,
        reception_due_on=reception_due(cal, received_on, rules).day if reception_requested else None,
        state="open",
    )
    if c.category not in CATEGORIES:
        raise field_error("category", f"one of {', '.join(CATEGORIES)}")
    uow.session.add(c)
    uow.session.flush()
    if collective:
        _alert_leadership(uow, c, "collective_petition")
    duty.book_reception(uow, c)  # P5: to the leader on duty (a published roster), if any yet
    return c


def _alert_leadership(uow, c: Complaint, reason: str) -> None:
    """P3 major complaint / P5 collective petition: flagged and leadership told at once (no identity)."""
    c.escalated_at = uow.now()
    uow.emit("complaints.leadership_alerted", complaint_id=c.id, number=c.number, kind=c.kind,
             reason=reason, persons=c.persons)


# -- reading ---------------------------------------------------------------------------

def delays_of(uow, complaint_id: str) -> list[DelayNotice]:
    return list(uow.scalars(
        select(DelayNotice).where(DelayNotice.complaint_id == complaint_id).order_by(DelayNotice.told_at)
    ))


def view(uow, complaint_id: str, viewer: Viewer) -> dict:
    c = get_for(uow, complaint_id, viewer)
    return complaint_record(c, viewer, delays_of(uow, c.id))


def list_for(uow, viewer: Viewer, state: str | None = None, kind: str | None = None,
             overdue: bool | None = None) -> list[dict]:
    stmt = select(Complaint).order_by(Complaint.received_at.desc())
    if not viewer.reads_all:
        conds = []
        if viewer.person_id:
            conds.append(Complaint.target_person_id == viewer.person_id)
        if viewer.window_id:
            conds.append(Complaint.target_window_id == viewer.window_id)
        if viewer.department_id:  # P7: forwarded to the viewer's department
            conds.append(Complaint.id.in_(viewing.forwarded_to(viewer.department_id)))
        if not conds:
            return []
        stmt = stmt.where(or_(*conds))
    if state:
        stmt = stmt.where(Complaint.state == state)
    if kind:
        stmt = stmt.where(Complaint.kind == kind)
    if overdue is not None:
        stmt = stmt.where(Complaint.overdue_at.is_not(None) if overdue else Complaint.overdue_at.is_(None))
    return [complaint_record(c, viewer, delays_of(uow, c.id)) for c in uow.scalars(stmt.limit(500))]


# -- handling (P3, P4) ------------------------------------------------------------------

def explain_delay(uow, complaint_id: str, reason: str, told_via: str, by: str, viewer: Viewer) -> dict:
    """P3: the deadline cannot be met — the complainant is told why (recorded); the complaint
    is then tracked until it is closed."""
    c = get_for(uow, complaint_id, viewer)
    if c.state == "closed":
        raise Conflict("the complaint is closed")
    if told_via not in REPLY_FORMS:
        raise field_error("told_via", f"one of {', '.join(REPLY_FORMS)}")
    reason = _text({"reason": reason}, "reason")
    uow.session.add(DelayNotice(complaint_id=c.id, reason=reason, told_via=told_via, told_at=uow.now(),
                                by_person_id=by))
    uow.session.flush()
    return complaint_record(c, viewer, delays_of(uow, c.id))


def conclude(uow, complaint_id: str, outcome: str, finding: str, by: str, viewer: Viewer,
             category: str | None = None) -> dict:
    """P4: the investigation's outcome. Verified → ``complaints.complaint_verified`` (no
    complainant identity, P2) so that staff scores it (S4) and bars 优秀 (S5)."""
    c = get_for(uow, complaint_id, viewer)
    if outcome not in OUTCOMES:
        raise field_error("outcome", f"one of {', '.join(OUTCOMES)}")
    finding = _text({"finding": finding}, "finding")
    if category is not None:
        if category not in CATEGORIES:
            raise field_error("category", f"one of {', '.join(CATEGORIES)}")
        c.category = category
    if c.state != "open":
        raise Conflict(f"the complaint is already {c.state}", {"state": [c.state]})
    forwarding.blocks_outcome(uow, c)
    c.state, c.outcome, c.finding = "concluded", outcome, finding
    c.concluded_at, c.concluded_by = uow.now(), by
    if outcome == "verified" and (c.target_person_id or c.target_window_id):
        uow.emit("complaints.complaint_verified", complaint_id=c.id, target_person_id=c.target_person_id,
                 target_window_id=c.target_window_id, category=c.category)
    return complaint_record(c, viewer, delays_of(uow, c.id))


def reply(uow, complaint_id: str, form: str, summary: str, by: str, viewer: Viewer) -> dict:
    """P4: the complainant is told the outcome (recorded). P3: a written complaint gets a
    written reply."""
    c = get_for(uow, complaint_id, viewer)
    if form not in REPLY_FORMS:
        raise field_error("form", f"one of {', '.join(REPLY_FORMS)}")
    if c.channel == "written" and form != "written":
        raise field_error("form", "a written complaint needs a written reply (P3)")
    summary = _text({"summary": summary}, "summary")
    if c.state == "open":
        raise Conflict("record the outcome of the investigation first (P4)", {"state": ["open"]})
    if c.state != "concluded":
        raise Conflict(f"the complaint is already {c.state}", {"state": [c.state]})
    forwarding.blocks_outcome(uow, c)
    c.state, c.reply_form, c.reply_summary = "replied", form, summary
    c.replied_at, c.replied_by = uow.now(), by
    forwarding.mark_passed_on(uow, c)  # P7: the department's accepted answer goes with the reply
    return complaint_record(c, viewer, delays_of(uow, c.id))


def close(uow, complaint_id: str, by: str, roles, viewer: Viewer) -> dict:
    """P4: closing is for the roles the township's ``close_roles`` setting names (default
    complaint officer or director), once the complainant has been told the outcome."""
    rules = RULES.load(uow)
    c = get_for(uow, complaint_id, viewer)
    if not any(r in rules["close_roles"] for r in roles or ()):
        raise Forbidden(f"closing a complaint needs one of the roles: {', '.join(rules['close_roles'])}")
    if c.kind == "petition" and c.reception_requested and c.reception_at is None:
        raise Conflict("the requested leader reception has not taken place (P5)", {"reception_at": ["missing"]})
    if c.state != "replied":
        raise Conflict("the complainant has not been told the outcome yet (P4)", {"state": [c.state]})
    c.state, c.closed_at, c.closed_by = "closed", uow.now(), by
    return complaint_record(c, viewer, delays_of(uow, c.id))


def record_reception(uow, complaint_id: str, leader_person_id: str, note: str | None, viewer: Viewer) -> dict:
    """P5: a leader received the petitioners (接访)."""
    c = get_for(uow, complaint_id, viewer)
    if c.kind != "petition":
        raise Conflict("only a petition has a leader reception")
    if c.reception_at is not None:
        raise Conflict("the reception is already recorded")
    c.reception_requested = True
    c.reception_at, c.reception_by = uow.now(), leader_person_id
    return complaint_record(c, viewer, delays_of(uow, c.id))


def throttle_public(uow, client: str | None, settings: dict) -> None:
    """The public may complain online without an account (P1); one client address may file at
    most ``public_submissions_per_hour`` an hour (429 after), counted in this service's database so
    every gateway instance shares the count. Serialised per client on PostgreSQL."""
    import hashlib
    from datetime import timedelta

    from sqlalchemy import func, select, text

    from services.common.errors import TooManyAttempts

    from .models import PublicSubmission

    key = hashlib.sha256(f"{uow.township_id}:{client or '-'}".encode()).hexdigest()
    if uow.session.get_bind().dialect.name == "postgresql":
        lock = int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)
        uow.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock})
    since = uow.now() - timedelta(hours=1)
    recent = uow.session.scalar(select(func.count()).select_from(PublicSubmission).where(
        PublicSubmission.client_key == key, PublicSubmission.at >= since))
    if recent >= settings["public_submissions_per_hour"]:
        raise TooManyAttempts("too many online complaints from this address; try again later, "
                              "or complain by phone or in person")
    uow.session.add(PublicSubmission(client_key=key, at=uow.now()))
