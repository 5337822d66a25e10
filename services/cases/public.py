"""What an applicant sees of their case (DOMAIN I4, C13): the timeline of its status codes.
Only the code, its label and the moment — no people, no notes (which may hold internal
remarks). The gateway asks for it only after intake has checked the receipt number and
query password."""
from __future__ import annotations

from sqlalchemy import select

from .lifecycle import STATUS
from .models import Case, CaseLog

LABELS = {code: label for code, label in STATUS.values()}


def timeline(uow, receipt_no: str) -> dict:
    """``{"timeline": [...], "rated": bool}``; an empty timeline when no case exists (yet)."""
    case = uow.session.scalar(select(Case).where(Case.receipt_no == receipt_no))
    if case is None:
        return {"timeline": [], "rated": False}
    entries = uow.scalars(select(CaseLog).where(CaseLog.case_id == case.id, CaseLog.status_code.is_not(None))
                          .order_by(CaseLog.id))
    return {
        "timeline": [{"at": e.at.isoformat(), "status_code": e.status_code,
                      "label": LABELS.get(e.status_code, e.status_code)} for e in entries],
        "rated": case.rating is not None,
    }
