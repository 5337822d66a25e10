"""The read copy of staff's organisation this service needs to choose recipients (N1):
people (roles, window, home unit, active) and windows (A/B posts). Kept by
``staff.organisation_changed``; filled from ``staff.organisation_snapshot`` through
``services/common/staffdir`` when an event names someone the copy does not know yet."""
from __future__ import annotations

from sqlalchemy import select

from services.common import staffdir

from .models import PersonCopy, WindowCopy


def apply_organisation_change(uow, event: dict) -> None:
    """Apply a ``staff.organisation_changed`` event (an upsert by id: idempotent)."""
    entity, data = event["entity"], event["data"] or {}
    if entity == "person":
        upsert_person(uow, event["entity_id"], data, event.get("action"))
    elif entity == "window":
        upsert_window(uow, event["entity_id"], data)


def apply_snapshot(uow, snapshot: dict) -> None:
    for w in snapshot.get("windows") or []:
        upsert_window(uow, w["id"], w)
    for p in snapshot.get("people") or []:
        upsert_person(uow, p["id"], p)


def upsert_person(uow, person_id: str, data: dict, action: str | None = None) -> PersonCopy:
    """Roles, window, home unit (S6) and whether active (services/common/staffdir)."""
    return staffdir.upsert_copy(uow, PersonCopy, person_id, staffdir.person_values(data, action, ("home_unit",)))


def upsert_window(uow, window_id: str, data: dict) -> WindowCopy:
    return staffdir.upsert_copy(uow, WindowCopy, window_id, {
        "number": int(data.get("number") or 0), "name": data.get("name") or "",
        "a_person_id": data.get("a_person_id"), "b_person_id": data.get("b_person_id")})


def person(uow, person_id: str | None) -> PersonCopy | None:
    """An active person of *this* township, else None (another township's never, N1)."""
    row = uow.find(PersonCopy, person_id)
    return row if row is not None and row.active else None


def window(uow, window_id: str | None) -> WindowCopy | None:
    return uow.find(WindowCopy, window_id)


def with_role(uow, *roles) -> list[PersonCopy]:
    """Active people of the township holding any of ``roles`` (the session filters the township)."""
    rows = uow.session.scalars(select(PersonCopy).where(PersonCopy.active.is_(True)).order_by(PersonCopy.id))
    return [p for p in rows if set(p.roles or ()) & set(roles)]


def everyone(uow) -> list[PersonCopy]:
    return list(uow.session.scalars(select(PersonCopy).where(PersonCopy.active.is_(True)).order_by(PersonCopy.id)))


def knows(uow, people=()) -> bool:
    """Whether the copy has the township at all, and every person named."""
    if uow.session.scalar(select(PersonCopy.id).limit(1)) is None:
        return False
    return all(uow.session.get(PersonCopy, p) is not None for p in people if p)
