"""What an applicant sees of their case (DOMAIN I4, C13): the timeline of its status codes.
Only the code, its label and the moment — no people, no notes (which may hold internal
remarks). The gateway asks for it only after intake has checked the receipt number and
query password."""
from __future__ import annotations

from sqlalchemy import select

from services.contracts.transparency import TimelineEntry

from .lifecycle import STATUS
from .models import Case, CaseLog, ReturnedApplication, Review
from services.contracts import shared

LABELS = {code: label for code, label in STATUS.values()}


def timeline(uow, receipt_no: str) -> dict:
    """``{"timeline": [...], "rated": bool, "reviewable": bool}`` (C10: a rejection or a return
    not yet under review) and, once the case exists, its current ``status``
    (state), ``status_code`` and ``status_label`` — cases' own, in the order it wrote them (the
    copy intake keeps from events cannot order two transitions of one instant)."""
    case = uow.session.scalar(select(Case).where(Case.receipt_no == receipt_no))
    asked = uow.session.scalar(select(Review.id).where(Review.receipt_no == receipt_no)) is not None
    if case is None:  # a returned application (退回件) may be reviewed (C10)
        returned = uow.session.scalar(select(ReturnedApplication.application_id)
                                      .where(ReturnedApplication.receipt_no == receipt_no)) is not None
        return {"timeline": [], "rated": False, "reviewable": returned and not asked}
    entries = shared(TimelineEntry, many=True).dump(
        [{"at": e.at, "status_code": e.status_code, "label": LABELS.get(e.status_code, e.status_code)}
         for e in uow.scalars(select(CaseLog).where(CaseLog.case_id == case.id,
                                                    CaseLog.status_code.is_not(None)).order_by(CaseLog.id))])
    current = {"status": case.state}
    if entries:
        current.update(status_code=entries[-1]["status_code"], status_label=entries[-1]["label"])
    reviewable = case.outcome == "rejected" and case.state in ("decided", "delivered") and not asked  # C10
    return {"timeline": entries, "rated": case.rating is not None, "reviewable": reviewable, **current}
