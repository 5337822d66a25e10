"""P5 Leader on duty (seed 002 乡镇领导带班值班制度): every day a leader of the township is on duty at
the centre to receive visitors; the month's duty roster is arranged and published (公示) by the end
of the month before; petitions asking for a leader reception are booked to the leader on duty.

* ``set_roster`` / ``publish`` — a month's roster (one leader a day, from the roles of the
  ``duty_leader_roles`` setting); publishing needs every working day of the month covered (C2:
  the hall is open on working days only).
* ``leader_on`` / ``public_today`` — who is on duty on a day: only a *published* roster counts.
* ``book_reception`` — a requested reception is booked to the first day, from today to its due
  day (P5: within a week), with a leader on duty; a roster published later books those still
  waiting, and a swap of leaders books again. The booked leader is told
  (``complaints.reception_booked``, N1).
* ``find_alerts`` / ``alert`` — the sweep: the publishers are reminded ``roster_reminder_days``
  before the month's end, and alerted once the month has ended, while next month's roster is
  unpublished (``complaints.duty_roster_missing``, each once per township, month and stage).
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.common.calendar import load_calendar
from services.common.clock import local_date
from services.common.errors import NotFound, ValidationFailed, field_error
from services.common.months import month_of, next_month, parse_month
from services.contracts import complaints as contract, shared

from . import orgcopy
from .models import Complaint, DutyDay, DutyRoster, RosterAlert
from .rules import RULES

MAX_DAYS = 31


def _roster(uow, month: str) -> DutyRoster | None:
    return uow.session.scalar(select(DutyRoster).where(DutyRoster.month == month))


def _days(uow, roster: DutyRoster) -> list[DutyDay]:
    return list(uow.scalars(select(DutyDay).where(DutyDay.roster_id == roster.id).order_by(DutyDay.day)))


def missing_days(uow, month: str, days) -> list[date]:
    """Working days of the month (C2, the township's calendar) with no leader on duty."""
    first, last = parse_month(month)
    cal = load_calendar(uow.session, uow.common, uow.township_id)
    covered = {d.day for d in days}
    out, day = [], first
    while day <= last:
        if cal.is_working_day(day) and day not in covered:
            out.append(day)
        day += timedelta(days=1)
    return out


def roster_record(uow, roster: DutyRoster) -> dict:
    days = _days(uow, roster)
    return shared(contract.DutyRoster).dump({
        "month": roster.month, "state": roster.state, "updated_at": roster.updated_at,
        "published_at": roster.published_at,
        "days": [{"day": d.day, "person_id": d.person_id, "name": _name(uow, d.person_id)} for d in days],
        "missing_days": missing_days(uow, roster.month, days),
    })


def _name(uow, person_id: str) -> str:
    p = orgcopy.person(uow, person_id)
    return p.name if p is not None else ""


def _eligible(person, rules) -> bool:
    return person is not None and person.active and bool(set(person.roles or ()) & set(rules["duty_leader_roles"]))


def set_roster(uow, month: str, days, by: str | None) -> dict:
    """P5: arrange a month's roster (replaces its days; a published roster stays published, so a
    swap of leaders shows at once). Each day once, in the month, a leader of the township."""
    rules = RULES.load(uow)
    first, last = parse_month(month)
    if not isinstance(days, list) or len(days) > MAX_DAYS:
        raise field_error("days", f"a list of at most {MAX_DAYS} days")
    parsed: dict[date, str] = {}
    for i, entry in enumerate(days):
        if not isinstance(entry, dict):
            raise field_error(f"days[{i}]", "an object with day and person_id")
        try:
            day = date.fromisoformat(str(entry.get("day")))
        except ValueError:
            raise field_error(f"days[{i}].day", "an ISO date (YYYY-MM-DD)") from None
        if not first <= day <= last:
            raise field_error(f"days[{i}].day", f"a day of {month}")
        if day in parsed:
            raise field_error(f"days[{i}].day", "one leader a day: this day is listed twice")
        person_id = entry.get("person_id")
        if not isinstance(person_id, str) or not _eligible(orgcopy.person(uow, person_id), rules):
            raise field_error(f"days[{i}].person_id",
                              f"an active person of this township with one of the roles "
                              f"{', '.join(rules['duty_leader_roles'])} (P5, setting duty_leader_roles)")
        parsed[day] = person_id
    roster = _roster(uow, month)
    if roster is None:
        roster = DutyRoster(month=month, state="draft", updated_at=uow.now(), updated_by=by)
        uow.session.add(roster)
        uow.session.flush()
    for old in _days(uow, roster):
        uow.session.delete(old)
    uow.session.flush()
    for day, person_id in sorted(parsed.items()):
        uow.session.add(DutyDay(roster_id=roster.id, day=day, person_id=person_id))
    roster.updated_at, roster.updated_by = uow.now(), by
    uow.session.flush()
    if roster.state == "published":
        book_waiting(uow, month)
    return roster_record(uow, roster)


def publish(uow, month: str, by: str | None) -> dict:
    """P5: publish (公示) a month's roster: every working day has its leader, else 422 naming the
    days. Receptions waiting for a leader in that month are booked."""
    parse_month(month)
    roster = _roster(uow, month)
    if roster is None:
        raise NotFound(f"no duty roster for {month}")
    missing = missing_days(uow, month, _days(uow, roster))
    if missing:
        raise ValidationFailed("every working day needs a leader on duty (P5)",
                               {"days": [f"no leader on {d.isoformat()}" for d in missing]})
    if roster.state != "published":
        roster.state, roster.published_at, roster.published_by = "published", uow.now(), by
    uow.session.flush()
    book_waiting(uow, month)
    return roster_record(uow, roster)


def get_roster(uow, month: str) -> dict:
    parse_month(month)
    roster = _roster(uow, month)
    if roster is None:
        raise NotFound(f"no duty roster for {month}")
    return roster_record(uow, roster)


def is_published(uow, month: str) -> bool:
    roster = _roster(uow, month)
    return roster is not None and roster.state == "published"


def leader_on(uow, day: date):
    """The leader on duty on ``day`` (a published roster's), or None."""
    row = uow.session.scalar(
        select(DutyDay).join(DutyRoster, DutyRoster.id == DutyDay.roster_id)
        .where(DutyDay.day == day, DutyRoster.state == "published"))
    return orgcopy.person(uow, row.person_id) if row is not None else None


def today(uow) -> date:
    return local_date(uow.now(), RULES.load(uow)["timezone"])


def public_today(uow) -> dict:
    """T1 / P5: today's leader on duty (name only) and this month's published roster (公示)."""
    day = today(uow)
    month = month_of(day)
    leader = leader_on(uow, day)
    published = is_published(uow, month)
    listed = []
    if published:
        listed = [{"day": d.day, "name": _name(uow, d.person_id)} for d in _days(uow, _roster(uow, month))]
    return shared(contract.LeaderOnDuty).dump({
        "date": day, "leader": {"name": leader.name} if leader is not None else None,
        "roster_published": published, "next_month_published": is_published(uow, month_of(next_month(day))),
        "month": listed,
    })


# -- booking receptions (P5) --------------------------------------------------------------

def book_reception(uow, c: Complaint) -> bool:
    """Book a requested reception to the first day from today to its due day with a leader on
    duty (a published roster); the leader is told. False when no leader is rostered yet."""
    if c.kind != "petition" or not c.reception_requested or c.reception_at is not None \
            or c.reception_due_on is None or c.reception_leader_id is not None:
        return False
    zone = RULES.load(uow)["timezone"]
    start = max(local_date(uow.now(), zone), local_date(c.received_at, zone))
    rostered = uow.session.execute(  # the published duty days up to the due day, in one query
        select(DutyDay.day, DutyDay.person_id).join(DutyRoster, DutyRoster.id == DutyDay.roster_id)
        .where(DutyDay.day >= start, DutyDay.day <= c.reception_due_on, DutyRoster.state == "published")
        .order_by(DutyDay.day)).all()
    for day, person_id in rostered:
        leader = orgcopy.person(uow, person_id)
        if leader is not None:
            c.reception_booked_on, c.reception_leader_id = day, leader.id
            uow.emit("complaints.reception_booked", complaint_id=c.id, number=c.number,
                     leader_person_id=leader.id, day=day.isoformat(), persons=c.persons)
            return True
    return False


def book_waiting(uow, month: str) -> int:
    """Receptions still to take place whose due day falls in or after ``month``: those waiting
    for a leader are booked; those booked to a day whose leader has changed (a swap in a
    published roster) are booked again, and the new leader is told."""
    first, _ = parse_month(month)
    pending = uow.scalars(select(Complaint).where(
        Complaint.kind == "petition", Complaint.reception_requested.is_(True),
        Complaint.reception_at.is_(None), Complaint.state != "closed", Complaint.reception_due_on >= first))
    booked = 0
    for c in list(pending):
        if c.reception_leader_id is not None:
            leader = leader_on(uow, c.reception_booked_on)
            if leader is not None and leader.id == c.reception_leader_id:
                continue
            c.reception_booked_on, c.reception_leader_id = None, None
        booked += book_reception(uow, c)
    return booked


# -- the roster alert (P5 / N1) ---------------------------------------------------------------

def due_alerts(day: date, published, reminder_days: int) -> list[tuple[str, str, date]]:
    """(month, stage, deadline) alerts due on local ``day``: next month's roster unpublished within
    ``reminder_days`` of the month's end → reminder; this month's unpublished (its deadline, the
    end of last month, has passed) → overdue. ``published(month)`` answers for a month."""
    out = []
    following = next_month(day)
    month_end = following - timedelta(days=1)
    if reminder_days > 0 and day >= month_end - timedelta(days=reminder_days - 1) \
            and not published(month_of(following)):
        out.append((month_of(following), "reminder", month_end))
    this_month = month_of(day)
    if not published(this_month):
        out.append((this_month, "overdue", day.replace(day=1) - timedelta(days=1)))
    return out


def find_alerts(run) -> list[tuple]:
    """(township_id, (month, stage, deadline)) of every alert due and not yet given.

    One unit of work and four statements however many townships the deployment serves (the
    sweep runs every minute; it opened a transaction per township, issue 9): the townships,
    their rules, and the published rosters and alerts given of the months in question."""
    with run.unit_of_work() as uow:
        townships = orgcopy.townships(uow)
        if not townships:
            return []
        rules = RULES.load_many(uow, townships)
        days = {t: local_date(uow.now(), rules[t]["timezone"]) for t in townships}
        months = sorted({m for d in days.values() for m in (month_of(d), month_of(next_month(d)))})
        published = set(uow.session.execute(
            select(DutyRoster.township_id, DutyRoster.month)
            .where(DutyRoster.state == "published", DutyRoster.month.in_(months))).all())
        given = set(uow.session.execute(
            select(RosterAlert.township_id, RosterAlert.month, RosterAlert.stage)
            .where(RosterAlert.month.in_(months))).all())
    found = []
    for township_id in townships:
        for month, stage, deadline in due_alerts(days[township_id], lambda m: (township_id, m) in published,
                                                 rules[township_id]["roster_reminder_days"]):
            if (township_id, month, stage) not in given:
                found.append((township_id, (month, stage, deadline)))
    return found


def alert(uow, item) -> bool:
    """Record the alert (the unique key is the claim: a second instance loses) and announce it."""
    month, stage, deadline = item
    if is_published(uow, month):
        return False
    try:
        with uow.session.begin_nested():
            uow.session.add(RosterAlert(month=month, stage=stage, at=uow.now()))
    except IntegrityError:
        return False
    uow.emit("complaints.duty_roster_missing", month=month, stage=stage, deadline=deadline.isoformat())
    return True
