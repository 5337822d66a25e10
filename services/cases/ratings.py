"""Rating (好差评, DOMAIN C9): after delivery the applicant rates 1–5, once.

Every rating is published (staff's S5 grades use them); ``follow_up`` is true for 1 and 2,
which complaints turns into a follow-up (P6). Digits that look like a phone or ID number in
the comment are masked before anything leaves the service (personal data never in events).
"""
from __future__ import annotations

from services.common.errors import Conflict, field_error
from services.common.privacy import mask_long_numbers

from .lifecycle import audit, find_by_receipt, get_case, require


LABELS = {1: "非常不满意", 2: "不满意", 3: "基本满意", 4: "满意", 5: "非常满意"}
CHANNELS = ("online", "paper", "kiosk", "phone")


def rate(uow, rating, case_id: str | None = None, receipt_no: str | None = None, comment: str | None = None,
         by_person_id: str | None = None, channel: str = "online") -> dict:
    if not isinstance(rating, int) or isinstance(rating, bool) or rating not in LABELS:
        raise field_error("rating", "a whole number from 1 to 5")
    if channel not in CHANNELS:
        raise field_error("channel", "one of " + ", ".join(CHANNELS))
    if comment is not None and (not isinstance(comment, str) or len(comment) > 1000):
        raise field_error("comment", "text of at most 1000 characters")
    if case_id:
        case = get_case(uow, case_id)
    elif receipt_no:
        case = find_by_receipt(uow, receipt_no)
    else:
        raise field_error("case_id", "a case id or a receipt number is required")
    require(case, "rate")
    if case.rating is not None:
        raise Conflict("this case has already been rated", {"state": case.state, "action": "rate"})
    case.rating, case.rating_comment, case.rated_at = rating, comment, uow.now()
    audit(uow, case, "rated", by_person_id, None, rating=rating, channel=channel)
    uow.emit("cases.rating_submitted", case_id=case.id, receipt_no=case.receipt_no, rating=rating,
             handler_person_id=case.handler_person_id, window_id=case.window_id,
             comment=mask_long_numbers(comment), follow_up=rating <= 2, channel=channel)
    return {"case_id": case.id, "rating": rating, "label": LABELS[rating], "follow_up": rating <= 2}


