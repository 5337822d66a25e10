"""S1 Roster: staff with window, department, roles, home unit and A/B post (built on the
organisation in organisation.py, read-only here)."""
from __future__ import annotations

from sqlalchemy import select

from services.contracts.staff import RosterEntry

from .models import Department, Person, Window
from services.contracts import shared


def roster(uow, full: bool = False) -> list[dict]:
    windows = {w.id: w for w in uow.scalars(select(Window))}
    departments = {d.id: d.name for d in uow.scalars(select(Department))}
    out = []
    for p in uow.scalars(select(Person).order_by(Person.name)):
        w = windows.get(p.window_id)
        post, partner = None, None
        for win in windows.values():
            if win.a_person_id == p.id:
                post, partner, w = "A", win.b_person_id, w or win
            elif win.b_person_id == p.id:
                post, partner, w = "B", win.a_person_id, w or win
        out.append({
            "person_id": p.id, "name": p.name, "badge_no": p.badge_no, "roles": list(p.roles or []),
            "home_unit": p.home_unit, "active": p.active,
            "window_id": w.id if w else None, "window": w.number if w else None,
            "window_name": w.name if w else None,
            "department": departments.get(p.department_id or (w.department_id if w else None)),
            "post": post, "partner_person_id": partner,
            "phone": p.phone,
        })
    rows = sorted(out, key=lambda r: (r["window"] or 999, r["post"] or "Z", r["name"]))
    return shared(RosterEntry, many=True, full=full).dump(rows)  # phone masked unless full (P2)
