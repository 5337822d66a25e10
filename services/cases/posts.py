"""A/B posts (AB岗, DOMAIN C7) and the read copy of staff's organisation it needs.

Every window has an A and a B clerk. While a person is away (approved leave, or an absence
staff recorded), the open cases they hold move to the window's other post, with an audit
entry and ``cases.case_reassigned``; when they return (销假) the cases go back. If the other
post is away too (or missing), the cases stay where they are and ``cases.handler_unavailable``
alerts the director(s). The organisation (windows with A and B, people with roles) is a read
copy kept from ``staff.organisation_changed`` and filled from ``staff.organisation_snapshot``.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, or_, select

from services.common.clock import DEFAULT_TZ
from services.common.db import claim

from .casebook import OPEN, audit, timezone_of
from .models import Absence, Case, PersonCopy, TownshipCopy, WindowCopy

log = logging.getLogger(__name__)

HALF_DAYS = {"am": (time(0), time(12)), "pm": (time(12), time(23, 59, 59)), "day": (time(0), time(23, 59, 59))}


# -- the organisation copy ------------------------------------------------------------------

def apply_org_change(uow, ev: dict) -> None:
    """``staff.organisation_changed``: upsert the entity in our copy."""
    data, entity = ev["data"] or {}, ev["entity"]
    township_id = ev["township_id"]
    if entity == "township":
        _upsert(uow, TownshipCopy, ev["entity_id"], township_id, timezone=data.get("timezone") or DEFAULT_TZ)
    elif entity == "window":
        _upsert(uow, WindowCopy, ev["entity_id"], township_id, number=data.get("number"), name=data.get("name"),
                department_id=data.get("department_id"), a_person_id=data.get("a_person_id"),
                b_person_id=data.get("b_person_id"), fee_window=bool(data.get("fee_window")))
    elif entity == "person":
        active = data.get("active", True) and ev["action"] != "deactivated"
        _upsert(uow, PersonCopy, ev["entity_id"], township_id, window_id=data.get("window_id"),
                department_id=data.get("department_id"), roles=list(data.get("roles") or []), active=bool(active))


def apply_snapshot(uow, snapshot: dict) -> None:
    """Fill the copy from ``staff.organisation_snapshot`` (uow bound to the township)."""
    township = snapshot.get("township") or {}
    tid = uow.township_id
    if township.get("id"):
        _upsert(uow, TownshipCopy, township["id"], tid, timezone=township.get("timezone") or DEFAULT_TZ)
    for w in snapshot.get("windows") or []:
        _upsert(uow, WindowCopy, w["id"], tid, number=w.get("number"), name=w.get("name"),
                department_id=w.get("department_id"), a_person_id=w.get("a_person_id"),
                b_person_id=w.get("b_person_id"), fee_window=bool(w.get("fee_window")))
    for p in snapshot.get("people") or []:
        _upsert(uow, PersonCopy, p["id"], tid, window_id=p.get("window_id"), department_id=p.get("department_id"),
                roles=list(p.get("roles") or []), active=bool(p.get("active", True)))


def _upsert(uow, model, ident, township_id, **values):
    if model is TownshipCopy:
        uow.session.info.pop("timezones", None)  # casebook.timezone_of reads it again
    row = uow.session.get(model, ident)
    if row is None:
        row = model(id=ident, township_id=township_id, **values)
        uow.session.add(row)
    else:
        for k, v in values.items():
            setattr(row, k, v)
    return row


def knows(uow, window_id: str | None, person_id: str | None) -> bool:
    """Whether the copy has what a new case needs (else the service asks staff). The rows read
    are held for the rest of the unit of work (the session's identity map holds clean rows
    weakly: the case's rules would read them again)."""
    wanted = [(model, ident) for model, ident in
              ((TownshipCopy, uow.township_id), (WindowCopy, window_id), (PersonCopy, person_id)) if ident]
    if not wanted:
        return True
    # one statement for all three (a row only when each exists; issue 9: three reads were 14 %
    # of cases' CPU per new case)
    row = uow.session.execute(_copies(tuple(model for model, _ in wanted)),
                              {model.__name__: ident for model, ident in wanted}).first()
    if row is None:
        return False
    uow.session.info.setdefault("copies", []).extend(row)
    return True


@lru_cache(maxsize=None)
def _copies(models: tuple):
    first = models[0]
    return select(*models).where(
        *(model.id == bindparam(model.__name__) for model in models),
        *(model.township_id == first.township_id for model in models[1:]))  # joined: one township's


def partner_of(uow, person_id: str, window_id: str | None = None) -> tuple[str | None, str | None]:
    """(the other post's person, window id) for ``person_id`` — B for A, A for B."""
    stmt = select(WindowCopy).where(or_(WindowCopy.a_person_id == person_id, WindowCopy.b_person_id == person_id))
    windows = list(uow.scalars(stmt))
    if window_id:
        windows.sort(key=lambda w: w.id != window_id)
    for w in windows:
        other = w.b_person_id if w.a_person_id == person_id else w.a_person_id
        if other:
            return other, w.id
    return None, (windows[0].id if windows else window_id)


def is_away(uow, person_id: str, now: datetime | None = None) -> bool:
    now = now or uow.now()
    person = uow.find(PersonCopy, person_id)
    if person is not None and not person.active:
        return True
    return uow.session.scalar(_AWAY, {"person_id": person_id, "now": now}) is not None


#: built once (issue 9): every new case asks it
_AWAY = select(Absence.id).where(Absence.person_id == bindparam("person_id"), Absence.starts_at <= bindparam("now"),
                                 Absence.returned_at.is_(None)).limit(1)


def available_holder(uow, handler: str, window_id: str | None) -> str:
    """Who holds a new case of ``handler``: the handler, or their other post while they are away.
    A person removed from the window (S6) is no post's partner any more: the case's window's
    posts take it."""
    if not is_away(uow, handler):
        return handler
    other, _ = partner_of(uow, handler, window_id)
    if other and not is_away(uow, other):
        return other
    window = uow.session.get(WindowCopy, window_id) if window_id else None
    for post in ((window.a_person_id, window.b_person_id) if window else ()):
        if post and post != handler and not is_away(uow, post):
            return post
    return handler


def directors(uow) -> list[str]:
    return sorted(p.id for p in uow.scalars(select(PersonCopy).where(PersonCopy.active.is_(True)))
                  if "director" in (p.roles or []))


# -- absences ------------------------------------------------------------------------------

def record_leave(uow, ev: dict) -> Absence:
    absence = Absence(township_id=uow.township_id, person_id=ev["person_id"], source="leave",
                      ref=ev["leave_id"], starts_at=ev["starts_at"], ends_at=ev["ends_at"])
    uow.session.add(absence)
    uow.session.flush()
    if absence.starts_at <= uow.now():
        hand_over(uow, absence)
    return absence


def record_absence(uow, ev: dict) -> Absence:
    """An absence staff recorded: away for that half-day (local time) or until they return."""
    tz = ZoneInfo(timezone_of(uow))
    start, end = HALF_DAYS.get(ev["half"], HALF_DAYS["day"])
    absence = Absence(township_id=uow.township_id, person_id=ev["person_id"], source="absence",
                      ref=None, starts_at=datetime.combine(ev["day"], start, tz),
                      ends_at=datetime.combine(ev["day"], end, tz))
    uow.session.add(absence)
    uow.session.flush()
    now = uow.now()
    if absence.starts_at <= now < absence.ends_at:
        hand_over(uow, absence)
    elif absence.ends_at <= now:
        absence.returned_at = absence.ends_at  # recorded after the fact: nothing to move
    return absence


def hand_over(uow, absence: Absence) -> dict:
    """Move the away person's open cases to the other post (claimed once per absence)."""
    if not claim(uow.session, Absence, absence.id, {"handed_over_at": None}, {"handed_over_at": uow.now()}):
        return {"moved": 0}
    return move_cases(uow, absence.person_id, f"{absence.source} (C7)")


def move_cases(uow, person_id: str, reason: str, to: str | None = None) -> dict:
    """``to``: the other post named by staff (a removal, S6); else the A/B copy's partner."""
    cases = list(uow.scalars(select(Case).where(Case.holder_person_id == person_id, Case.state.in_(OPEN))))
    if not cases:
        return {"moved": 0}
    by_window: dict = {}
    for case in cases:
        by_window.setdefault(case.window_id, []).append(case)
    moved = 0
    for window_id, group in by_window.items():
        other, window = (to, window_id) if to else partner_of(uow, person_id, window_id)
        if other is None or is_away(uow, other):
            uow.emit("cases.handler_unavailable", window_id=window,
                     person_ids=[p for p in (person_id, other) if p], open_cases=len(group),
                     director_person_ids=directors(uow))
            for case in group:
                audit(uow, case, "handler_unavailable", None, reason, away=[person_id, other])
            continue
        for case in group:
            case.holder_person_id = other
            audit(uow, case, "reassigned", None, reason, from_person_id=person_id, to_person_id=other)
            uow.emit("cases.case_reassigned", case_id=case.id, receipt_no=case.receipt_no,
                     from_person_id=person_id, to_person_id=other, window_id=case.window_id, reason=reason)
            moved += 1
    return {"moved": moved}


def record_removal(uow, ev: dict) -> dict:
    """S6 ``staff.removed_from_window``: at once, the person's open cases go to the other post
    staff names (the director is alerted if there is none available), and they are away for
    good — no new case is given to them (an absence that never ends, so nothing comes back)."""
    absence = Absence(township_id=uow.township_id, person_id=ev["person_id"], source="removed",
                      ref=ev.get("fault_id"), starts_at=min(ev["occurred_at"], uow.now()), ends_at=None,
                      handed_over_at=uow.now())
    uow.session.add(absence)
    uow.session.flush()
    return move_cases(uow, ev["person_id"], "removed from the window (S6)", to=ev.get("partner_person_id"))


def record_return(uow, ev: dict) -> dict:
    """销假: close the person's absences and bring their cases back from the other post."""
    open_absences = list(uow.scalars(select(Absence).where(
        Absence.person_id == ev["person_id"], Absence.returned_at.is_(None),
        Absence.source != "removed")))  # a return from leave does not undo a removal (S6)
    for absence in open_absences:
        claim(uow.session, Absence, absence.id, {"returned_at": None}, {"returned_at": ev["returned_at"]})
    return bring_back(uow, ev["person_id"], "returned (销假, C7)")


def bring_back(uow, person_id: str, reason: str) -> dict:
    if is_away(uow, person_id):
        return {"returned": 0}
    cases = list(uow.scalars(select(Case).where(
        Case.handler_person_id == person_id, Case.holder_person_id != person_id, Case.state.in_(OPEN))))
    for case in cases:
        previous = case.holder_person_id
        case.holder_person_id = person_id
        audit(uow, case, "reassigned", None, reason, from_person_id=previous, to_person_id=person_id)
        uow.emit("cases.case_reassigned", case_id=case.id, receipt_no=case.receipt_no,
                 from_person_id=previous, to_person_id=person_id, window_id=case.window_id, reason=reason)
    return {"returned": len(cases)}


