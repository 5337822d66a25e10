"""The read copy of staff's organisation this service needs to choose recipients (N1):
people (roles, window, home unit, active) and windows (A/B posts). Kept by
``staff.organisation_changed``; filled from ``staff.organisation_snapshot`` through
``services/common/staffdir`` when an event names someone the copy does not know yet."""
from __future__ import annotations

from sqlalchemy import select

from .models import PersonCopy, WindowCopy


def apply_organisation_change(uow, event: dict) -> None:
    """Apply a ``staff.organisation_changed`` event (an upsert by id: idempotent)."""
    entity, data = event["entity"], event["data"] or {}
    if entity == "person":
        upsert_person(uow, event["entity_id"], data)
        if event.get("action") == "deactivated":
            uow.session.get(PersonCopy, event["entity_id"]).active = False
    elif entity == "window":
        upsert_window(uow, event["entity_id"], data)


def apply_snapshot(uow, snapshot: dict) -> None:
    for w in snapshot.get("windows") or []:
        upsert_window(uow, w["id"], w)
    for p in snapshot.get("people") or []:
        upsert_person(uow, p["id"], p)


def upsert_person(uow, person_id: str, data: dict) -> PersonCopy:
    row = uow.session.get(PersonCopy, person_id)
    if row is None:
        row = PersonCopy(id=person_id, township_id=uow.township_id)
        uow.session.add(row)
    row.name = data.get("name") or ""
    row.roles = list(data.get("roles") or [])
    row.window_id = data.get("window_id")
    row.home_unit = data.get("home_unit")
    row.active = bool(data.get("active", True))
    uow.session.flush()
    return row


def upsert_window(uow, window_id: str, data: dict) -> WindowCopy:
    row = uow.session.get(WindowCopy, window_id)
    if row is None:
        row = WindowCopy(id=window_id, township_id=uow.township_id)
        uow.session.add(row)
    row.number = int(data.get("number") or 0)
    row.name = data.get("name") or ""
    row.a_person_id = data.get("a_person_id")
    row.b_person_id = data.get("b_person_id")
    uow.session.flush()
    return row


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
