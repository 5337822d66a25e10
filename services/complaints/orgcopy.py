"""The read copy of staff's organisation this service needs (ARCHITECTURE "Who owns what"):
people (their window, for P2) and windows (their name, for public outcomes)."""
from __future__ import annotations

from .models import PersonCopy, WindowCopy


def apply_organisation_change(uow, event: dict) -> None:
    """Apply a ``staff.organisation_changed`` event (idempotent: an upsert by id)."""
    entity, data = event["entity"], event["data"]
    if entity == "person":
        upsert_person(uow, event["entity_id"], data)
    elif entity == "window":
        row = uow.session.get(WindowCopy, event["entity_id"])
        if row is None:
            row = WindowCopy(id=event["entity_id"], township_id=uow.township_id)
            uow.session.add(row)
        row.number = int(data.get("number") or 0)
        row.name = data.get("name") or ""


def apply_snapshot(uow, snapshot: dict) -> None:
    """Fill the copy from ``staff.organisation_snapshot`` (services/common/staffdir)."""
    for w in snapshot.get("windows") or []:
        apply_organisation_change(uow, {"entity": "window", "entity_id": w["id"], "data": w})
    for p in snapshot.get("people") or []:
        upsert_person(uow, p["id"], p)


def knows(uow, people=(), windows=()) -> bool:
    """Whether the copy has every named person and window (else the service asks staff)."""
    return (all(person(uow, p) is not None for p in people if p)
            and all(window(uow, w) is not None for w in windows if w))


def upsert_person(uow, person_id: str, data: dict) -> PersonCopy:
    row = uow.session.get(PersonCopy, person_id)
    if row is None:
        row = PersonCopy(id=person_id, township_id=uow.township_id)
        uow.session.add(row)
    row.name = data.get("name") or ""
    row.window_id = data.get("window_id")
    row.roles = list(data.get("roles") or [])
    row.active = bool(data.get("active", True))
    uow.session.flush()
    return row


def person(uow, person_id: str | None) -> PersonCopy | None:
    return uow.find(PersonCopy, person_id)


def window(uow, window_id: str | None) -> WindowCopy | None:
    return uow.find(WindowCopy, window_id)
