"""Inboxes (N1): notices created from events, read and acknowledged on record, the director's
view of what is unacknowledged, and the escalation of a notice not acknowledged in time.

The acknowledgement period counts working days (C2, ``services.common.calendar``): a notice
created on day D must be acknowledged by the close (local midnight) of the N-th working day
after D (default 1, setting ``ack_working_days``)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from services.common.calendar import load_calendar
from services.common.clock import local_date
from services.common.db import claim
from services.common.errors import Conflict, NotFound
from services.contracts import notices as contract, shared

from . import orgcopy, routing
from .models import Delivery, Notice
from .rules import RULES

BATCH = 200


def ack_due(uow, created_at: datetime, settings: dict) -> tuple[datetime, bool]:
    """(moment, provisional): the close of the N-th working day (the setting
    ``ack_working_days``) after the local day of ``created_at`` (Art. 201: that day not counted)."""
    calendar = load_calendar(uow.session, uow.common, uow.township_id)
    return ack_due_on(calendar, created_at, settings["timezone"], settings["ack_working_days"])


def ack_due_on(calendar, created_at: datetime, zone: str, days: int) -> tuple[datetime, bool]:
    """``ack_due`` with the township's calendar already loaded (notices.recompute: once a pass)."""
    due = calendar.add_working_days(local_date(created_at, zone), days)
    close = datetime.combine(due.day + timedelta(days=1), time(0, 0), tzinfo=ZoneInfo(zone))
    return close.astimezone(created_at.tzinfo), due.provisional


def notify(uow, event_type: str, event: dict) -> list[Notice]:
    """The notices an event makes (``routing.ROUTES``), one per recipient, with their outside
    deliveries when the township has a channel. Idempotent with ``handle_once``."""
    made = routing.plan(uow, event_type, event)
    if made is None:
        return []
    settings = RULES.load(uow)
    return [create(uow, made, person_id, needs_ack, event_type, event["event_id"], settings)
            for person_id, needs_ack in made.recipients().items()]


def create(uow, made, person_id: str, needs_ack: bool, event_type: str, event_id: str, settings: dict,
           escalation_of: str = "") -> Notice:
    now = uow.now()
    days = settings["ack_working_days"] if needs_ack else None
    due, provisional = ack_due(uow, now, settings) if needs_ack else (None, False)
    notice = Notice(person_id=person_id, rule=made.rule, source_event=event_type, source_event_id=event_id,
                    subject_type=made.subject_type, subject_id=made.subject_id, title=made.title, body=made.body,
                    created_at=now, needs_ack=needs_ack, ack_working_days=days, ack_due_at=due,
                    ack_provisional=provisional, escalation_of=escalation_of)
    uow.session.add(notice)
    uow.session.flush()
    if settings["webhook_url"]:
        uow.session.add(Delivery(notice_id=notice.id, channel="webhook", state="pending", attempts=0,
                                 next_attempt_at=now, created_at=now))
        uow.session.flush()
    return notice


# -- reading and answering -------------------------------------------------------------------

def inbox(uow, person_id: str, page: int = 1, per_page: int = 20, unread_only: bool = False) -> dict:
    """A person's notices: unread first, newest first within each; paged."""
    where = [Notice.person_id == person_id]
    if unread_only:
        where.append(Notice.read_at.is_(None))
    total = uow.session.scalar(select(func.count(Notice.id)).where(*where))
    unread = uow.session.scalar(select(func.count(Notice.id)).where(Notice.person_id == person_id,
                                                                    Notice.read_at.is_(None)))
    rows = uow.scalars(select(Notice).where(*where)
                       .order_by(case((Notice.read_at.is_(None), 0), else_=1), Notice.created_at.desc(), Notice.id)
                       .offset((page - 1) * per_page).limit(per_page)).all()
    now = uow.now()
    return {"items": [record(n, now) for n in rows], "page": page, "per_page": per_page,
            "total": total, "unread": unread}


def record(n: Notice, now: datetime) -> dict:
    return shared(contract.Notice).dump(_as_out(n, now))


def _as_out(n: Notice, now: datetime) -> dict:
    return {"id": n.id, "rule": n.rule, "source_event": n.source_event, "subject_type": n.subject_type,
            "subject_id": n.subject_id, "title": n.title, "body": n.body, "created_at": n.created_at,
            "read_at": n.read_at, "needs_ack": n.needs_ack, "ack_due_at": n.ack_due_at,
            "ack_provisional": n.ack_provisional, "acked_at": n.acked_at, "escalated_at": n.escalated_at,
            "escalation_of": n.escalation_of or None,
            "overdue": bool(n.needs_ack and n.acked_at is None and n.ack_due_at is not None and n.ack_due_at <= now)}


def _own(uow, notice_id: str, person_id: str) -> Notice:
    n = uow.get(Notice, notice_id, "notice")
    if n.person_id != person_id:
        raise NotFound(f"notice {notice_id} not found")  # another's inbox answers like a missing one
    return n


def mark_read(uow, notice_id: str, person_id: str) -> dict:
    n = _own(uow, notice_id, person_id)
    if n.read_at is None:
        n.read_at = uow.now()
        uow.session.flush()
    return record(n, uow.now())


def acknowledge(uow, notice_id: str, person_id: str, note: str | None = None) -> dict:
    """N1: the answer on record. Acknowledging twice keeps the first answer."""
    n = _own(uow, notice_id, person_id)
    if not n.needs_ack:
        raise Conflict("this notice needs no acknowledgement; mark it read", {"needs_ack": [False]})
    if n.acked_at is None:
        now = uow.now()
        n.acked_at, n.ack_note = now, (note or None)
        n.read_at = n.read_at or now
        uow.session.flush()
    return record(n, uow.now())


def _name(uow, person_id: str) -> str | None:
    person = uow.find(orgcopy.PersonCopy, person_id)
    return person.name if person is not None else None


def pending(uow, overdue_only: bool = False, limit: int = 200) -> list[dict]:
    """The director's view: notices that need an answer and have none, oldest due first, with
    whose inbox they are in and how their outside deliveries went."""
    now = uow.now()
    where = [Notice.needs_ack.is_(True), Notice.acked_at.is_(None)]
    if overdue_only:
        where.append(Notice.ack_due_at <= now)
    rows = uow.scalars(select(Notice).where(*where).order_by(Notice.ack_due_at, Notice.id).limit(limit)).all()
    ids = [n.id for n in rows]
    deliveries: dict = {}
    if ids:
        for d in uow.scalars(select(Delivery).where(Delivery.notice_id.in_(ids))):
            deliveries.setdefault(d.notice_id, []).append(
                {"channel": d.channel, "state": d.state, "attempts": d.attempts, "last_error": d.last_error,
                 "delivered_at": d.delivered_at})
    told: dict = {}  # N1: who each escalated notice was escalated to (none: recorded only)
    if ids:
        for e in uow.scalars(select(Notice).where(Notice.escalation_of.in_(ids)).order_by(Notice.person_id)):
            told.setdefault(e.escalation_of, []).append(
                {"person_id": e.person_id, "person_name": _name(uow, e.person_id), "acked_at": e.acked_at})
    out = []
    for n in rows:
        out.append({**_as_out(n, now), "person_id": n.person_id, "person_name": _name(uow, n.person_id),
                    "deliveries": deliveries.get(n.id, []), "escalated_to": told.get(n.id, [])})
    return shared(contract.PendingNotice, many=True).dump(out)


# -- escalation (N1: not acknowledged in time → the director, once) ------------------------------

def due_for_escalation(run) -> list[tuple[str, str]]:
    with run.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Notice.township_id, Notice.id)
            .where(Notice.needs_ack.is_(True), Notice.acked_at.is_(None), Notice.escalated_at.is_(None),
                   Notice.escalation_of == "", Notice.ack_due_at <= uow.now())
            .order_by(Notice.ack_due_at).limit(BATCH)).all()
    return [(t, i) for t, i in rows]


def escalation_readers(uow, reader_id: str) -> list:
    """Who is told that ``reader_id`` did not acknowledge in time (N1 "escalated to the
    director"): the township's directors other than the reader. A notice the director did not
    acknowledge — a director is its reader, often its only one (C7, I5, S6) — or a township with
    no director in post goes to the centre's other leaders, the deputy directors (the seeds'
    中心领导: seeds 000/002 report to "中心领导"; the director heads them, the township's own
    leaders are not users of this system). With nobody left the escalation is still recorded on
    the notice (``escalated_at``, ``escalated_to`` empty in the director's view) and the notice
    counts in ``notices_overdue``, whose alert reaches the operator (township id only)."""
    for roles in (("director",), ("deputy_director",)):
        people = [p for p in orgcopy.with_role(uow, *roles) if p.id != reader_id]
        if people:
            return people
    return []


def escalate(uow, notice_id: str) -> bool:
    """Claimed (escalated_at from null): exactly one escalation per notice, whichever instance
    sweeps first. ``escalation_readers`` get a notice to acknowledge (never escalated again)."""
    n = uow.session.get(Notice, notice_id)
    if n is None or n.ack_due_at is None or n.ack_due_at > uow.now():
        return False  # a calendar change moved its deadline since the sweep listed it (notices.recompute)
    # the deadline read is part of the claim: a recompute that moves it meanwhile wins
    if not claim(uow.session, Notice, notice_id, expected={"escalated_at": None, "acked_at": None,
                                                           "ack_due_at": n.ack_due_at},
                 updates={"escalated_at": uow.now()}):
        return False
    uow.session.refresh(n)
    reader = uow.session.get(orgcopy.PersonCopy, n.person_id)
    who = reader.name if reader is not None else n.person_id[:8]
    settings = RULES.load(uow)
    made = routing.Plan("N1", n.subject_type, n.subject_id, f"未按时确认：{n.title}"[:200],
                        f"{who} 未在期限内确认以下通知（N1）：{n.body}").clean()
    for person in escalation_readers(uow, n.person_id):
        create(uow, made, person.id, True, n.source_event, n.source_event_id, settings, escalation_of=n.id)
    return True


# -- gauges ----------------------------------------------------------------------------------

def sent_counts(uow):
    return uow.session.execute(select(Notice.township_id, func.count()).group_by(Notice.township_id)).all()


def unacknowledged_counts(uow):
    return uow.session.execute(
        select(Notice.township_id, func.count())
        .where(Notice.needs_ack.is_(True), Notice.acked_at.is_(None)).group_by(Notice.township_id)).all()


def overdue_counts(uow):
    return uow.session.execute(
        select(Notice.township_id, func.count())
        .where(Notice.needs_ack.is_(True), Notice.acked_at.is_(None), Notice.ack_due_at <= uow.now())
        .group_by(Notice.township_id)).all()
