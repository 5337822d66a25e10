"""S3 Leave (请销假): request, approval routed by length, substitute, return.

Length is the working time the leave covers: the overlap with the day's sessions (S2 hours,
summer hours included) on working days of the shared calendar, in hours, and in days of
``leave_day_hours`` (7) each. Routing (seed 004 五.5; thresholds are settings):

* under 1 h → oral notice (recorded, approved at once);
* 1 h up to and including 1 day → section head;
* over 1 day up to and including 3 days → deputy director (with the home unit's endorsement);
* over 3 days → director (likewise).

Who may approve each level is the setting ``leave_approvers`` (a higher manager may approve a
lower level). Half a day or more (``substitute_from_hours``, 3 h) needs a substitute sent by
the home unit (顶岗) named on the request; a substitute serves one month at most. Approval
announces ``staff.leave_approved`` and return (销假) ``staff.returned``, so cases can hand the
person's open cases to the window's B post and back (C7).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from services.common.calendar import load_calendar
from services.common.db import claim
from services.common.errors import Conflict, Forbidden, field_error
from services.common.tenancy import DECIDERS

from services.contracts.staff import Leave as LeaveOut

from . import certificates, periods
from .attendance import session_hours
from .models import Leave
from .rules import RULES
from services.contracts import shared

LEVELS = ("oral", "section_head", "deputy_director", "director")


# -- pure rules -----------------------------------------------------------------------

def route(minutes: float, days: float, settings: dict) -> str:
    """The approval level for a leave of this length (S3)."""
    if minutes < settings["leave_oral_max_minutes"]:
        return "oral"
    if days <= settings["leave_section_head_max_days"]:
        return "section_head"
    if days <= settings["leave_deputy_max_days"]:
        return "deputy_director"
    return "director"


def working_overlap(starts_at: datetime, ends_at: datetime, tz, calendar, settings) -> tuple[float, float]:
    """(hours, days) of working time between two moments: the overlap with each working
    day's sessions; a day counts as ``leave_day_hours``."""
    hours = days = 0.0
    day, last = starts_at.astimezone(tz).date(), ends_at.astimezone(tz).date()
    while day <= last:
        if calendar.is_working_day(day):
            on_day = 0.0
            for half in ("am", "pm"):
                s, e = session_hours(day, half, settings)
                lo = max(starts_at, periods.at_local(day, s, tz))
                hi = min(ends_at, periods.at_local(day, e, tz))
                if hi > lo:
                    on_day += (hi - lo).total_seconds() / 3600
            hours += on_day
            days += min(1.0, on_day / settings["leave_day_hours"])
        day += timedelta(days=1)
    return round(hours, 4), round(days, 4)


def may_approve(level: str, roles, settings: dict) -> bool:
    allowed = settings["leave_approvers"].get(level, [])
    return any(r in allowed for r in roles)


# -- use cases --------------------------------------------------------------------------

def request_leave(uow, requested_by: str, person_id: str, starts_at, ends_at, reason: str | None = None,
                  substitute_person_id: str | None = None, home_unit_endorsed: bool = False,
                  kind: str = "personal", certificate: dict | None = None) -> dict:
    settings = RULES.load(uow)
    certificates.check_kind(kind)
    who = periods.person(uow, person_id)
    start = periods.parse_moment(starts_at, "starts_at")
    end = periods.parse_moment(ends_at, "ends_at")
    if end <= start:
        raise field_error("ends_at", "after starts_at")
    tz = periods.township_tz(uow)
    calendar = load_calendar(uow.session, uow.common, uow.township_id)
    hours, days = working_overlap(start, end, tz, calendar, settings)
    if hours <= 0:
        raise field_error("starts_at", "the leave covers no working time")
    level = route(hours * 60, days, settings)
    if hours >= settings["substitute_from_hours"]:
        if not substitute_person_id:
            raise field_error("substitute_person_id",
                              "half a day or more needs a substitute sent by the home unit (S3 顶岗)")
    if substitute_person_id:
        sub = periods.person(uow, substitute_person_id, "substitute_person_id")
        if sub.id == who.id:
            raise field_error("substitute_person_id", "someone else")
        if end - start > timedelta(days=settings["substitute_max_days"]):
            raise field_error("ends_at", f"a substitute serves at most {settings['substitute_max_days']} days")
    if days > settings["home_unit_endorsement_over_days"] and not home_unit_endorsed:
        raise field_error("home_unit_endorsed", "leave of this length needs the home unit's endorsement")
    overlapping = uow.session.scalar(select(Leave.id).where(
        Leave.person_id == who.id, Leave.state.in_(("requested", "approved")),
        Leave.starts_at < end, Leave.ends_at > start))
    if overlapping:
        raise Conflict("overlaps another leave of this person", {"leave_id": [overlapping]})
    leave = Leave(person_id=who.id, starts_at=start, ends_at=end, reason=reason, level=level, length_days=days,
                  substitute_person_id=substitute_person_id, home_unit_endorsed=bool(home_unit_endorsed),
                  state="requested", requested_by=requested_by, created_at=uow.now(), kind=kind)
    uow.session.add(leave)
    uow.session.flush()
    if certificate is not None:  # S3: sick leave's certificate, with the request
        certificates.attach(uow, leave, certificate, requested_by)
    if level == "oral":
        certificates.require_for_approval(uow, leave)  # under an hour: an oral notice, recorded
        leave.state, leave.decided_at, leave.decision_note = "approved", uow.now(), "oral notice"
        _announce_approved(uow, leave)
    return shared(LeaveOut).dump(leave)


def _announce_approved(uow, leave: Leave) -> None:
    uow.emit("staff.leave_approved", leave_id=leave.id, person_id=leave.person_id,
             starts_at=leave.starts_at.isoformat(), ends_at=leave.ends_at.isoformat(),
             substitute_person_id=leave.substitute_person_id)


def decide_leave(uow, by_person_id: str, roles, leave_id: str, approve: bool, note: str | None = None) -> dict:
    """Approve or reject, by the roles the settings give the leave's level (S3)."""
    settings = RULES.load(uow)
    leave = uow.get(Leave, leave_id, "leave")
    if not may_approve(leave.level, roles, settings):
        raise Forbidden(f"a leave at level {leave.level} needs one of: "
                        + ", ".join(settings["leave_approvers"].get(leave.level, [])))
    if by_person_id and by_person_id == leave.person_id:
        raise Forbidden("nobody approves their own leave")
    if not approve and not (note and note.strip()):
        raise field_error("note", "a rejection needs a reason")
    if approve:
        certificates.require_for_approval(uow, leave)  # S3: no sick leave without its certificate
    new_state = "approved" if approve else "rejected"
    if not claim(uow.session, Leave, leave.id, {"state": "requested"},
                 {"state": new_state, "decided_by": by_person_id, "decided_at": uow.now(), "decision_note": note}):
        raise Conflict(f"leave is {leave.state}, not requested")
    uow.session.refresh(leave)
    if approve:
        _announce_approved(uow, leave)
    return shared(LeaveOut).dump(leave)


def return_from_leave(uow, by_person_id: str, roles, leave_id: str) -> dict:
    """销假: the person (or a manager) records the return; cases gets its cases back."""
    leave = uow.get(Leave, leave_id, "leave")
    if by_person_id != leave.person_id and not any(
            r in DECIDERS for r in roles):
        raise Forbidden("the person on leave or a manager records the return")
    now = uow.now()
    if not claim(uow.session, Leave, leave.id, {"state": "approved"}, {"state": "returned", "returned_at": now}):
        raise Conflict(f"leave is {leave.state}, not approved")
    uow.session.refresh(leave)
    uow.emit("staff.returned", person_id=leave.person_id, leave_id=leave.id, returned_at=now.isoformat())
    return shared(LeaveOut).dump(leave)


def list_leaves(uow, person_id: str | None = None, state: str | None = None) -> list[dict]:
    stmt = select(Leave).order_by(Leave.starts_at.desc())
    if person_id:
        stmt = stmt.where(Leave.person_id == person_id)
    if state:
        stmt = stmt.where(Leave.state == state)
    return shared(LeaveOut, many=True).dump(uow.scalars(stmt))
