"""What an applicant sees of their case (DOMAIN I4, C13): the timeline of its status codes.
Only the code, its label and the moment — no people, no notes (which may hold internal
remarks). The gateway asks for it only after intake has checked the receipt number and
query password."""
from __future__ import annotations

from sqlalchemy import select

from services.contracts.transparency import TimelineEntry

from .lifecycle import STATUS
from .models import Case, CaseLog

LABELS = {code: label for code, label in STATUS.values()}


def timeline(uow, receipt_no: str) -> dict:
    """``{"timeline": [...], "rated": bool}`` and, once the case exists, its current ``status``
    (state), ``status_code`` and ``status_label`` — cases' own, in the order it wrote them (the
    copy intake keeps from events cannot order two transitions of one instant)."""
    case = uow.session.scalar(select(Case).where(Case.receipt_no == receipt_no))
    if case is None:
        return {"timeline": [], "rated": False}
    entries = TimelineEntry(many=True).dump(
        [{"at": e.at, "status_code": e.status_code, "label": LABELS.get(e.status_code, e.status_code)}
         for e in uow.scalars(select(CaseLog).where(CaseLog.case_id == case.id,
                                                    CaseLog.status_code.is_not(None)).order_by(CaseLog.id))])
    current = {"status": case.state}
    if entries:
        current.update(status_code=entries[-1]["status_code"], status_label=entries[-1]["label"])
    return {"timeline": entries, "rated": case.rating is not None, **current}
