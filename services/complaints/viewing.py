"""Who is reading a complaint, and what they may see of it (P2), shared by handling (P1–P5)
and forwarding (P7).

Complaint staff (READ_ALL_ROLES) read every complaint; the accused person and their window read
the complaints against them; a department's people read the complaints forwarded to their
department (P7). Only IDENTITY_ROLES see the complainant; everyone else reads free text with the
complainant's name, phone, address and ID-shaped numbers hidden.
"""
from __future__ import annotations

from sqlalchemy import select

from services.common.errors import NotFound
from services.common.privacy import hide_identifiers

from . import orgcopy
from .models import Complaint, Forwarding
from .rules import IDENTITY_ROLES, READ_ALL_ROLES


class Viewer:
    """Who is reading: decides what of a complaint they may see (P2)."""

    def __init__(self, person_id: str | None, roles, window_id: str | None = None,
                 department_id: str | None = None):
        self.person_id = person_id
        self.roles = tuple(roles or ())
        self.window_id = window_id
        self.department_id = department_id

    @property
    def sees_identity(self) -> bool:
        return any(r in IDENTITY_ROLES for r in self.roles)

    @property
    def reads_all(self) -> bool:
        return any(r in READ_ALL_ROLES for r in self.roles)

    def may_read(self, c: Complaint) -> bool:
        """Complaint staff read all; anyone else only complaints against them or their window."""
        if self.reads_all:
            return True
        return bool(
            (self.person_id and c.target_person_id == self.person_id)
            or (self.window_id and c.target_window_id == self.window_id)
        )


def viewer_for(uow, person_id, roles) -> Viewer:
    me = orgcopy.person(uow, person_id)
    return Viewer(person_id, roles, me.window_id if me else None, me.department_id if me else None)


def redact(text: str | None, c: Complaint) -> str | None:
    """Free text (content, finding, delay reasons) as seen without identity (P2, "Personal
    data"): the complainant's name, phone and address hidden, and anything shaped like an ID
    number (15 or 18 characters) or a mobile number masked, whoever it belongs to."""
    return hide_identifiers(text, names=(c.complainant_name, c.complainant_address),
                            phones=(c.complainant_phone,), replacement="[投诉人信息已隐去]")


def forwarded_to(department_id: str | None):
    """Select of the ids of the complaints forwarded to a department (P7)."""
    return select(Forwarding.complaint_id).where(Forwarding.department_id == department_id)


def get_for(uow, complaint_id: str, viewer: Viewer) -> Complaint:
    """P2: another township's, or one the viewer may not read, answers 404 like a missing one."""
    c = uow.get(Complaint, complaint_id, "complaint")
    if viewer.may_read(c):
        return c
    if viewer.department_id and uow.session.scalar(
            forwarded_to(viewer.department_id).where(Forwarding.complaint_id == c.id).limit(1)):
        return c
    raise NotFound(f"complaint {complaint_id} not found")
