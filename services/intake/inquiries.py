"""I2 First-inquiry responsibility (首问责任制).

Every inquiry is logged with its first-asked clerk (time, who, topic, answer or referral).
A matter that is not theirs is referred to the responsible window, which cannot refuse it
(there is no refusal: only its resolution), and the first-asked clerk tracks it (督办) until
it is done.
"""
from __future__ import annotations

from sqlalchemy import select

from services.common.errors import Conflict, Forbidden, field_error

from services.contracts.intake import Inquiry as InquiryOut

from .models import Inquiry
from services.contracts.intake_input import InquiryIn, load
from services.contracts import shared


def log_inquiry(uow, person_id: str, data: dict) -> dict:
    if not person_id:
        raise Forbidden("an inquiry is logged by the person first asked")
    data = load(InquiryIn, data)
    now = uow.now()
    referred = data.get("refer_to_window_id")
    q = Inquiry(asked_at=now, first_asked_person_id=person_id, topic=data["topic"],
                item_code=data.get("item_code"), answer=data.get("answer"),
                referred_window_id=referred, status="referred" if referred else "answered")
    if not referred:
        q.done_at, q.done_by = now, person_id
    uow.session.add(q)
    uow.session.flush()
    return shared(InquiryOut).dump(q)


def resolve(uow, inquiry_id: str, person_id: str, outcome: str) -> dict:
    """The responsible window records what it did; the first-asked clerk's tracking ends."""
    outcome = (outcome or "").strip()
    if not outcome:
        raise field_error("outcome", "say how the referred matter was handled")
    q = uow.get(Inquiry, inquiry_id, "inquiry")
    if q.status != "referred":
        raise Conflict(f"inquiry is {q.status}", {"status": [q.status]})
    q.status, q.outcome, q.done_at, q.done_by = "done", outcome, uow.now(), person_id
    uow.session.flush()
    return shared(InquiryOut).dump(q)


def list_inquiries(uow, status: str | None = None, window_id: str | None = None,
                   person_id: str | None = None, limit: int = 200) -> list[dict]:
    stmt = select(Inquiry).order_by(Inquiry.asked_at.desc()).limit(limit)
    if status:
        stmt = stmt.where(Inquiry.status == status)
    if window_id:
        stmt = stmt.where(Inquiry.referred_window_id == window_id)
    if person_id:
        stmt = stmt.where(Inquiry.first_asked_person_id == person_id)
    return shared(InquiryOut, many=True).dump(uow.scalars(stmt))


def tracking(uow, person_id: str) -> list[dict]:
    """督办: the first-asked clerk's referred inquiries not yet done."""
    stmt = (select(Inquiry).where(Inquiry.first_asked_person_id == person_id, Inquiry.status == "referred")
            .order_by(Inquiry.asked_at))
    return shared(InquiryOut, many=True).dump(uow.scalars(stmt))
