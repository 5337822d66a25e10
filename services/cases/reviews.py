"""Review (复核, DOMAIN C10) of a rejection or a return.

Seed 003: 对不予批准的事项有异议的,可向中心申请复核. The applicant asks once per receipt:
online with the receipt (or return notice) number and query password — the gateway has intake
check them, as for the status query — or in person at a window, where a clerk files it.

* **what**: a case decided ``rejected`` (subject ``rejection``; the case moves to
  ``reconsideration``, C13 复核), or an application intake returned (退回件 / 不予受理, subject
  ``return``; cases keeps those from ``intake.application_returned``).
* **who decides**: a role of the setting ``reconsideration_roles`` (default director and deputy
  director), never a first decider — the reviewer and approver of the rejection, or who asked for
  and signed off the return (422 naming ``person_id``).
* **when**: within ``review_working_days`` (5) working days (C2 counting from the day asked);
  the possible deciders are reminded ``review_reminder_working_days`` (1) before, and once past
  the due day the review is marked overdue once and the directors are told too
  (``cases.review_reminder``, delivered by notices, N1). Nothing is marked overdue on a
  provisional due day (C2). The period given is kept on the review (``working_days``); a
  calendar change (a year loaded: provisional → firm, a local holiday) recounts the due day of
  every pending review not yet overdue from it, on the shared recompute engine with the case
  deadlines (``recompute.py``), and publishes the new day.
* **the answer** (upheld / overturned, with its written reasons) is recorded and published
  (``cases.review_changed``) so intake shows it in the public receipt query. Overturning a
  rejection approves the case; overturning a return tells the applicant the application will
  be accepted when they bring it again.
"""
from __future__ import annotations

from sqlalchemy import select

from services.common.db import claim
from services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from services.common.privacy import mask_long_numbers
from services.contracts import cases as contract, shared

from . import deadlines
from .casebook import audit, calendar, field_text, get_case, require, today, transition
from .models import Case, PersonCopy, ReturnedApplication, Review
from .rules import RULES

SUBJECTS = ("rejection", "return")
CHANNELS = ("online", "window")
OUTCOMES = ("upheld", "overturned")
STATES = ("pending", "decided")



# -- returns, from intake -------------------------------------------------------------------

def record_return(uow, ev: dict) -> ReturnedApplication:
    """``intake.application_returned``: keep what a review of the return needs."""
    row = uow.session.get(ReturnedApplication, ev["application_id"])
    if row is None:
        row = ReturnedApplication(application_id=ev["application_id"], township_id=uow.township_id)
        uow.session.add(row)
    row.receipt_no = ev.get("receipt_no")
    row.item_code = ev["item_code"]
    row.handler_person_id = ev["handler_person_id"]
    row.returned_by = ev.get("returned_by") or ev["handler_person_id"]
    row.signed_off_by = ev.get("signed_off_by")
    row.reason = ev["reason"]
    row.returned_at = ev.get("returned_at") or ev["occurred_at"]
    return row


# -- asking -----------------------------------------------------------------------------------

def request(uow, reason, receipt_no: str | None = None, case_id: str | None = None, channel: str = "online",
            filed_by: str | None = None) -> Review:
    """C10: the applicant asks for a review (online, or a clerk files it at a window)."""
    if channel not in CHANNELS:
        raise field_error("channel", "online or window")
    reason = field_text(reason, "reason")
    if case_id:
        case = get_case(uow, case_id)
    elif receipt_no and isinstance(receipt_no, str):
        case = uow.session.scalar(select(Case).where(Case.receipt_no == receipt_no))
    else:
        raise field_error("receipt_no", "the receipt or return notice number is required")
    returned = None
    if case is None:
        returned = uow.session.scalar(select(ReturnedApplication).where(ReturnedApplication.receipt_no == receipt_no))
        if returned is None:
            raise NotFound(f"no case or returned application with number {receipt_no}")
    number = case.receipt_no if case is not None else returned.receipt_no
    existing = uow.session.scalar(select(Review).where(Review.receipt_no == number))
    if existing is not None:
        raise Conflict(f"a review of {number} was already asked for on {existing.requested_on} ({existing.state})",
                       {"receipt_no": [f"review {existing.state}"], "review_id": existing.id})
    if case is not None:
        require(case, "request_reconsideration")
        if case.outcome != "rejected":
            raise Conflict("only a rejection or a return can be reviewed (C10); this case is "
                           f"{case.state} ({case.outcome})",
                           {"state": case.state, "outcome": case.outcome, "action": "request_reconsideration"})
        subject, first = "rejection", [case.approver_person_id, case.reviewer_person_id]
    else:
        subject, first = "return", [returned.returned_by, returned.handler_person_id, returned.signed_off_by]
    settings = RULES.load(uow)
    asked_on = today(uow)
    due = calendar(uow).add_working_days(asked_on, settings["review_working_days"])
    review = Review(township_id=uow.township_id, receipt_no=number, subject=subject,
                    case_id=case.id if case is not None else None,
                    application_id=case.application_id if case is not None else returned.application_id,
                    item_code=case.item_code if case is not None else returned.item_code,
                    first_deciders=sorted({p for p in first if p}), reason=reason, channel=channel,
                    filed_by=filed_by, requested_at=uow.now(), requested_on=asked_on, due_date=due.day,
                    provisional=due.provisional, working_days=settings["review_working_days"], state="pending")
    uow.session.add(review)
    uow.session.flush()
    if case is not None:
        case.reconsideration_reason = reason
        transition(uow, case, "reconsideration", "reconsideration", filed_by, reason)
    _published(uow, review)
    return review


# -- deciding ---------------------------------------------------------------------------------

def decide(uow, review_id: str, person_id: str, roles, outcome: str, answer) -> Review:
    """C10: another person than the first decider answers, upheld or overturned, with reasons."""
    review = uow.get(Review, review_id, "review")
    if review.state != "pending":
        raise Conflict(f"the review was already decided ({review.outcome})",
                       {"state": review.state, "action": "decide_review"})
    settings = RULES.load(uow)
    if not set(roles or ()) & set(settings["reconsideration_roles"]):
        raise Forbidden("a review is decided by: " + ", ".join(settings["reconsideration_roles"]) + " (C10)")
    if outcome not in OUTCOMES:
        raise field_error("outcome", "upheld or overturned")
    if person_id in (review.first_deciders or []):
        raise ValidationFailed("the review must be decided by someone other than the first decider (C10)",
                               {"person_id": ["decided (or reviewed) the rejection or return under review"]})
    answer = field_text(answer, "answer")
    now = uow.now()
    if not claim(uow.session, Review, review.id, {"state": "pending"},
                 {"state": "decided", "outcome": outcome, "answer": answer, "decided_by": person_id,
                  "decided_at": now}):
        raise Conflict("the review was decided meanwhile", {"state": "decided", "action": "decide_review"})
    uow.session.refresh(review)
    if review.case_id:
        case = get_case(uow, review.case_id)
        require(case, "decide_reconsideration")
        case.outcome = "rejected" if outcome == "upheld" else "approved"
        case.approver_person_id, case.decision_reason, case.decided_at = person_id, answer, now
        transition(uow, case, "decided", "decided", person_id, f"review {outcome}: {answer}", action="reconsidered")
    _published(uow, review)
    return review


def case_review(uow, case_id: str) -> Review:
    """The pending review of a case (the routes under /cases/{id}/reconsideration)."""
    case = get_case(uow, case_id)
    review = uow.session.scalar(select(Review).where(Review.case_id == case.id, Review.state == "pending"))
    if review is None:
        require(case, "decide_reconsideration")  # 409 naming the state when none was asked for
        raise Conflict("the case has no pending review", {"state": case.state, "action": "decide_reconsideration"})
    return review


def _published(uow, review: Review) -> None:
    uow.emit("cases.review_changed", review_id=review.id, receipt_no=review.receipt_no, subject=review.subject,
             case_id=review.case_id, application_id=review.application_id, state=review.state,
             outcome=review.outcome, answer=mask_long_numbers(review.answer),
             due_date=review.due_date.isoformat(), provisional=bool(review.provisional),
             requested_at=review.requested_at.isoformat(),
             decided_at=review.decided_at.isoformat() if review.decided_at else None)


# -- the period: reminder and overdue (the sweep pattern, services/common/sweep) ----------------

def deciders(uow, review: Review) -> list[str]:
    """Who may decide it: active people of the setting's roles, the first deciders excepted."""
    roles = set(RULES.load(uow)["reconsideration_roles"])
    people = uow.scalars(select(PersonCopy).where(PersonCopy.active.is_(True)).order_by(PersonCopy.id))
    return [p.id for p in people if set(p.roles or ()) & roles and p.id not in (review.first_deciders or [])]


def _remind(uow, review: Review, overdue: bool) -> None:
    if review.case_id:
        case = uow.session.get(Case, review.case_id)
        audit(uow, case, "review_overdue" if overdue else "review_reminded", None,
              f"review due {review.due_date} (C10)")
    uow.emit("cases.review_reminder", review_id=review.id, receipt_no=review.receipt_no, subject=review.subject,
             due_date=review.due_date.isoformat(), provisional=bool(review.provisional), overdue=overdue,
             decider_person_ids=deciders(uow, review))


def remind(uow, review_id) -> bool:
    """Before the due day: the deciders reminded once (claimed on ``reminded_at``)."""
    review = uow.session.get(Review, review_id)
    if review is None or review.state != "pending" or review.reminded_at is not None:
        return False
    days = RULES.load(uow)["review_reminder_working_days"]
    if not deadlines.reminder_due(calendar(uow), today(uow), review.due_date, days):
        return False
    if not claim(uow.session, Review, review.id, {"reminded_at": None}, {"reminded_at": uow.now()}):
        return False
    _remind(uow, review, overdue=False)
    return True


def mark_overdue(uow, review_id) -> bool:
    """Past the due day, undecided: overdue once (claimed on ``overdue_at``); never on a
    provisional day (C2)."""
    review = uow.session.get(Review, review_id)
    if review is None or review.state != "pending" or review.overdue_at is not None or review.provisional:
        return False
    if not deadlines.is_overdue(today(uow), review.due_date):
        return False
    if not claim(uow.session, Review, review.id, {"overdue_at": None}, {"overdue_at": uow.now()}):
        return False
    _remind(uow, review, overdue=True)
    return True


def recount(uow, cal, review: Review) -> bool:
    """C2: the due day of a pending review counted again on ``cal`` from the day it was asked
    and the period it was given (``recompute.Recomputer``, after a calendar change); published
    when it moved or firmed up."""
    due = cal.add_working_days(review.requested_on, review.working_days or RULES.load(uow)["review_working_days"])
    if (due.day, due.provisional) == (review.due_date, bool(review.provisional)):
        return False
    review.due_date, review.provisional = due.day, due.provisional
    uow.session.flush()
    _published(uow, review)
    return True


# -- reading ----------------------------------------------------------------------------------

def record(review: Review) -> dict:
    return shared(contract.Review).dump(review)


def public_record(review: Review) -> dict:
    return shared(contract.PublicReview).dump(review)


def get(uow, review_id: str) -> dict:
    return record(uow.get(Review, review_id, "review"))


def listing(uow, state: str | None = None, overdue: bool | None = None, limit: int = 100) -> list[dict]:
    stmt = select(Review).order_by(Review.requested_at.desc()).limit(max(1, min(int(limit), 500)))
    if state:
        if state not in STATES:
            raise field_error("state", "pending or decided")
        stmt = stmt.where(Review.state == state)
    if overdue is not None:
        stmt = stmt.where(Review.overdue_at.is_not(None) if overdue else Review.overdue_at.is_(None))
    return [record(r) for r in uow.scalars(stmt)]
