"""The read copy of staff's organisation this service needs (ARCHITECTURE "Who owns what"):
people (their window, for P2) and windows (their name, for public outcomes)."""
from __future__ import annotations

from sqlalchemy import select

from services.common import staffdir

from .models import DepartmentCopy, PersonCopy, WindowCopy


def apply_organisation_change(uow, event: dict) -> None:
    """Apply a ``staff.organisation_changed`` event (idempotent: an upsert by id)."""
    entity, data = event["entity"], event["data"]
    if entity == "person":
        upsert_person(uow, event["entity_id"], data, event.get("action"))
    elif entity == "window":
        staffdir.upsert_copy(uow, WindowCopy, event["entity_id"], {
            "number": int(data.get("number") or 0), "name": data.get("name") or "",
            "department_id": data.get("department_id")})
    elif entity == "department":
        staffdir.upsert_copy(uow, DepartmentCopy, event["entity_id"], {"name": data.get("name") or ""})


def apply_snapshot(uow, snapshot: dict) -> None:
    """Fill the copy from ``staff.organisation_snapshot`` (services/common/staffdir)."""
    for d in snapshot.get("departments") or []:
        apply_organisation_change(uow, {"entity": "department", "entity_id": d["id"], "data": d})
    for w in snapshot.get("windows") or []:
        apply_organisation_change(uow, {"entity": "window", "entity_id": w["id"], "data": w})
    for p in snapshot.get("people") or []:
        upsert_person(uow, p["id"], p)


def knows(uow, people=(), windows=(), departments=()) -> bool:
    """Whether the copy has every named person, window and department (else the service asks staff)."""
    return (all(person(uow, p) is not None for p in people if p)
            and all(window(uow, w) is not None for w in windows if w)
            and all(department(uow, d) is not None for d in departments if d))


def upsert_person(uow, person_id: str, data: dict, action: str | None = None) -> PersonCopy:
    """Window (P2), roles, department (P7) and whether active (services/common/staffdir)."""
    return staffdir.upsert_copy(uow, PersonCopy, person_id, staffdir.person_values(data, action, ("department_id",)))


def person(uow, person_id: str | None) -> PersonCopy | None:
    return uow.find(PersonCopy, person_id)


def window(uow, window_id: str | None) -> WindowCopy | None:
    return uow.find(WindowCopy, window_id)


def department(uow, department_id: str | None) -> DepartmentCopy | None:
    return uow.find(DepartmentCopy, department_id)


def active_people(uow) -> list[PersonCopy]:
    """Active people of the unit of work's township (the session filters the township)."""
    return list(uow.session.scalars(select(PersonCopy).where(PersonCopy.active.is_(True)).order_by(PersonCopy.id)))


def townships(uow) -> list[str]:
    """Every township the copy knows (a sweep across townships: P5 roster alerts)."""
    return list(uow.session.scalars(select(PersonCopy.township_id).distinct()))
