"""Intake's read copy of the organisation's names (windows, departments, people) from
``staff.organisation_changed`` — for receipts (I4). Names only: no phones, no other data."""
from __future__ import annotations

from sqlalchemy import bindparam, select

from .models import OrgName

ENTITIES = ("window", "department", "person")


def apply_change(uow, event: dict) -> None:
    if event["entity"] not in ENTITIES:
        return
    data = event.get("data") or {}
    name = data.get("name")
    if not name:
        return
    row = uow.session.get(OrgName, event["entity_id"])
    extra = {"number": data.get("number")} if event["entity"] == "window" else {}
    if event["entity"] == "person":  # I6: an agent is registered only for an active village agent
        extra = {"roles": list(data.get("roles") or []), "active": bool(data.get("active", True))}
    if row is None:
        uow.session.add(OrgName(entity_id=event["entity_id"], entity=event["entity"], name=name, extra=extra))
    else:
        row.name, row.extra = name, extra


def names(uow, ids) -> dict:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    rows = uow.session.scalars(_NAMES, {"ids": ids}).all()
    out = {}
    for r in rows:
        number = (r.extra or {}).get("number")
        out[r.entity_id] = f"{number}号窗口 {r.name}" if number else r.name
    return out


#: built once (issue 9): building and keying the statement per call cost more than running it
_NAMES = select(OrgName).where(OrgName.entity_id.in_(bindparam("ids", expanding=True)))
