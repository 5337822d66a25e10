"""The case lifecycle (DOMAIN C1, C3, C4, C10, C11, C12, C13; I5 kinds).

Plain functions on a unit of work. Every transition goes through :func:`transition`, which
writes the audit trail (who, when, why) and emits ``cases.case_transitioned`` with its C13
status code; an action not allowed in the case's state is refused with ``Conflict`` naming
both. The allowed moves are a table (``ALLOWED``), not scattered ifs.
"""
from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select

from services.common.calendar import WorkingCalendar
from services.common.clock import local_date
from services.common.db import new_id
from services.common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
    field_error,
)

from services.contracts import cases as contract, shared

from . import deadlines, posts
from .casebook import (  # noqa: F401  (re-exported: the rest of the service reads them here)
    ALLOWED, KINDS, OPEN, OUTCOMES, RUNNING, STARTED_KINDS, STATES, STATUS, audit, awaits_upper, calendar,
    end_of_local_day, field_text, find_by_receipt, get_case, mark_overdue, require, silence_due, timezone_of, today,
    transition,
)
from .models import Case, CaseLog, DepartmentOpinion, Pause, PersonCopy
from .rules import RULES

log = logging.getLogger(__name__)


# -- deadlines -------------------------------------------------------------------

def recompute_due(uow, case: Case, cal: WorkingCalendar | None = None, reason: str = "recomputed",
                  by: str | None = None) -> bool:
    """Recompute the deadline from its inputs (C2/C3/C11); True and an event if it changed."""
    if case.clock_started_on is None:
        return False
    cal = cal or calendar(uow, case.township_id)
    due = deadlines.due(cal, deadlines.DeadlineInputs(
        case.clock_started_on, case.promised_days, case.extension_days or 0, case.paused_days or 0))
    changed = (due.day, due.provisional) != (case.due_date, bool(case.provisional))
    case.due_date, case.provisional = due.day, due.provisional
    if changed:
        if due.provisional:
            log.warning("provisional deadline: a year without calendar data (C2); the operator must load it",
                        extra={"case_id": case.id})
        audit(uow, case, "deadline_changed", by, reason, due_date=due.day, provisional=due.provisional)
        uow.emit("cases.deadline_changed", township_id=case.township_id, case_id=case.id,
                 receipt_no=case.receipt_no, due_date=due.day.isoformat(),
                 provisional=due.provisional, reason=reason)
    return changed


def case_record(case: Case, full: bool = False, uow=None) -> dict:
    """The case as the API shows it (services/contracts/cases); with ``full`` and a unit of
    work, also its audit trail, departments' opinions and pauses."""
    rec = shared(contract.Case).dump(case)
    if full and uow is not None:
        rec["trail"] = shared(contract.CaseLogEntry, many=True).dump(
            uow.scalars(select(CaseLog).where(CaseLog.case_id == case.id).order_by(CaseLog.id)))
        rec["opinions"] = shared(contract.DepartmentOpinion, many=True).dump(
            uow.scalars(select(DepartmentOpinion).where(DepartmentOpinion.case_id == case.id)
                        .order_by(DepartmentOpinion.at)))
        rec["pauses"] = shared(contract.Pause, many=True).dump(
            uow.scalars(select(Pause).where(Pause.case_id == case.id).order_by(Pause.started_on)))
    return rec



# -- opening (C1, C2, C12) ----------------------------------------------------------

#: built once (issue 9): every accepted application asks it
_BY_APPLICATION = select(Case).where(Case.application_id == bindparam("application_id"))


def open_case(uow, ev: dict) -> Case | None:
    """``intake.application_accepted`` opens the case. A supplement case waits in
    ``supplement_pending`` (its clock starts at ``materials_completed``); every other kind is
    accepted at once with its deadline counted from ``accepted_on`` (C12: may be earlier than
    the day it was recorded — deemed acceptance)."""
    existing = uow.session.scalar(_BY_APPLICATION, {"application_id": ev["application_id"]})
    if existing is not None:
        log.info("application already has a case; event ignored", extra={"case_id": existing.id})
        return existing
    kind = ev["kind"]
    if kind not in KINDS:
        raise field_error("kind", f"one of {', '.join(KINDS)}")
    if ev["promised_days"] < 0:
        raise field_error("promised_days", "not negative")
    tz = timezone_of(uow)
    recorded_on = local_date(ev["accepted_at"], tz)
    start_on = deadlines.clock_start(calendar(uow), ev["accepted_on"], recorded_on)  # C12, C2a
    handler = ev["handler_person_id"]
    case = Case(
        id=new_id(), township_id=uow.township_id, application_id=ev["application_id"], receipt_no=ev["receipt_no"],
        item_code=ev["item_code"], item_version=ev["item_version"], item_name=ev["item_name"],
        kind=kind, original_kind=kind, state="received", window_id=ev.get("window_id"),
        handler_person_id=handler, holder_person_id=posts.available_holder(uow, handler, ev.get("window_id")),
        first_asked_person_id=ev.get("first_asked_person_id"),
        accepted_at=ev["accepted_at"], accepted_on=ev["accepted_on"],
        deemed_accepted=bool(ev.get("deemed_accepted")) or start_on < recorded_on,
        promised_days=ev["promised_days"], extension_days=0, paused_days=0,
        tacit_allowed=bool(ev.get("tacit_approval")), departments=list(ev.get("departments") or []),
        major=bool(ev.get("major")), proxy=bool(ev.get("proxy")), mandate_no=ev.get("mandate_no"),
        fee_cents=int(ev.get("fee_cents") or 0), fee_basis=ev.get("fee_basis"), created_at=uow.now(),
    )
    # written once, as it stands at the end (one INSERT, not an INSERT then an UPDATE; issue 9):
    # its id is given here, and its trail rows follow it in the flush (their foreign key)
    uow.session.add(case)
    case.state = None
    transition(uow, case, "received", "received", handler, "application received")
    if case.holder_person_id != handler:
        audit(uow, case, "reassigned", None, "handler away at acceptance (C7)",
              from_person_id=handler, to_person_id=case.holder_person_id)
    if kind == "supplement" and not case.deemed_accepted:
        transition(uow, case, "supplement_pending", "supplement", handler,
                   "materials incomplete: the clock starts when they are complete (I5)")
    else:
        started = "promised" if kind == "supplement" else kind  # C12: deemed accepted
        start_clock(uow, case, start_on, started, handler,
                    "deemed accepted (C12)" if case.deemed_accepted else "accepted")
    return case


def start_clock(uow, case: Case, start_on, kind: str, by: str | None, reason: str) -> None:
    """Acceptance (已受理): the deadline is computed now (C3), from ``start_on`` (C2)."""
    require(case, "accept")
    if kind not in STARTED_KINDS:
        raise field_error("kind", f"one of {', '.join(STARTED_KINDS)}")
    case.kind = kind
    case.clock_started_on = start_on
    settings = RULES.load(uow, case.township_id)
    if kind == "immediate":
        case.target_at = immediate_target(uow, start_on, settings)
    cal = calendar(uow, case.township_id)
    due = deadlines.due(cal, deadlines.DeadlineInputs(start_on, 0 if kind == "immediate" else case.promised_days))
    if kind == "immediate":
        case.promised_days = 0
    case.due_date, case.provisional = due.day, due.provisional
    if due.provisional:
        log.warning("provisional deadline: a year without calendar data (C2); the operator must load it",
                    extra={"case_id": case.id})
    new_state = {"joint": "awaiting_departments", "escalated": "escalated"}.get(kind, "in_review")
    transition(uow, case, new_state, "accepted", by, reason)


def immediate_target(uow, start_on, settings: dict) -> datetime:
    """I5: an immediate case is decided within the target (default 30 minutes) of its
    acceptance; one received while the hall was closed (C2a) is accepted when it opens on
    ``start_on``, and its target runs from the opening time."""
    tz = timezone_of(uow)
    now = uow.now()
    if start_on > local_date(now, tz):
        hh, mm = (int(x) for x in settings["hall_opens_at"].split(":"))
        opens = datetime.combine(start_on, time(hh, mm), ZoneInfo(tz))
        return opens + timedelta(minutes=settings["immediate_target_minutes"])
    return now + timedelta(minutes=settings["immediate_target_minutes"])


def materials_completed(uow, ev: dict) -> Case | None:
    """``intake.materials_completed``: the supplement case's clock starts (I5, C3)."""
    case = uow.session.scalar(select(Case).where(Case.application_id == ev["application_id"]))
    if case is None:
        raise NotFound(f"no case for application {ev['application_id']} yet")  # retried
    if case.state != "supplement_pending":
        log.info("materials completed for a case not waiting for them; ignored", extra={"case_id": case.id})
        return case
    recorded_on = local_date(ev["completed_at"], timezone_of(uow))
    start_on = deadlines.clock_start(calendar(uow), ev["completed_on"], recorded_on)
    if start_on < case.accepted_on:
        raise field_error("completed_on", "before the application was received")
    start_clock(uow, case, start_on, ev["kind"], case.handler_person_id, "materials complete")
    return case


# -- review and decision (C4, I5 joint/escalated) ----------------------------------------

def _person(uow, person_id: str) -> PersonCopy | None:
    return uow.session.get(PersonCopy, person_id) if person_id else None


def review(uow, case_id: str, person_id: str, roles, opinion: str, note: str | None = None) -> dict:
    """一审: a clerk of the case's window (or the post holding it) records the review."""
    case = get_case(uow, case_id)
    require(case, "review")
    settings = RULES.load(uow)
    if not set(roles) & set(settings["reviewer_roles"]):
        raise Forbidden(f"reviewing needs one of the roles: {', '.join(settings['reviewer_roles'])}")
    person = _person(uow, person_id)
    own_window = person is not None and case.window_id is not None and person.window_id == case.window_id
    if not (own_window or person_id in (case.handler_person_id, case.holder_person_id)):
        raise Forbidden("only a clerk of the case's window may review it (C4)")
    if opinion not in ("approve", "reject"):
        raise field_error("opinion", "approve or reject")
    case.reviewer_person_id, case.review_opinion = person_id, opinion
    case.review_note, case.reviewed_at = field_text(note, "note", required=False), uow.now()
    audit(uow, case, "reviewed", person_id, case.review_note, opinion=opinion)
    return case_record(case)


def record_opinion(uow, case_id: str, person_id: str, department: str, opinion: str,
                   note: str | None = None) -> dict:
    """Joint case: one department's opinion (all in parallel, 并联审批)."""
    case = get_case(uow, case_id)
    require(case, "record_opinion")
    if department not in (case.departments or []):
        raise field_error("department", f"not involved in this case: one of {', '.join(case.departments or [])}")
    if opinion not in ("approve", "reject"):
        raise field_error("opinion", "approve or reject")
    exists = uow.session.scalar(select(DepartmentOpinion).where(
        DepartmentOpinion.case_id == case.id, DepartmentOpinion.department == department))
    if exists is not None:
        raise Conflict(f"department {department} already gave its opinion", {"department": department})
    uow.session.add(DepartmentOpinion(case_id=case.id, township_id=case.township_id, department=department,
                                      opinion=opinion, note=field_text(note, "note", required=False),
                                      by_person_id=person_id, at=uow.now()))
    audit(uow, case, "opinion", person_id, note, department=department, opinion=opinion)
    uow.session.flush()
    return {"case_id": case.id, "missing_departments": missing_departments(uow, case)}


def missing_departments(uow, case: Case) -> list[str]:
    given = set(uow.scalars(select(DepartmentOpinion.department).where(DepartmentOpinion.case_id == case.id)))
    return [d for d in case.departments or [] if d not in given]


def decide(uow, case_id: str, person_id: str, roles, outcome: str, reason: str | None = None) -> dict:
    """一核: a different person approves or rejects (C4)."""
    case = get_case(uow, case_id)
    require(case, "decide")
    settings = RULES.load(uow)
    if not set(roles) & set(settings["approver_roles"]):
        raise Forbidden(f"deciding needs one of the roles: {', '.join(settings['approver_roles'])}")
    if outcome not in OUTCOMES:
        raise field_error("outcome", "approved or rejected")
    if case.reviewer_person_id is None:
        raise Conflict("the case has not been reviewed yet: a decision needs a review first (C4)",
                       {"state": case.state, "action": "decide"})
    if case.reviewer_person_id == person_id:
        raise ValidationFailed("the approver must be a different person from the reviewer (C4 一审一核)",
                               {"approver_person_id": ["same person as the reviewer"]})
    if case.kind == "joint":
        missing = missing_departments(uow, case)
        if missing:
            raise Conflict(f"not every department has given its opinion; missing: {', '.join(missing)}",
                           {"missing_departments": missing})
    if case.kind == "escalated" and case.upper_answered_on is None:
        raise Conflict("the upper level has not answered this escalated case yet",
                       {"state": case.state, "action": "decide"})
    reason = field_text(reason, "reason", required=outcome == "rejected")
    if outcome == "rejected" and case.major and not set(roles) & set(settings["major_rejection_roles"]):
        raise Forbidden("rejecting a major matter needs the sign-off of: "
                        + ", ".join(settings["major_rejection_roles"]) + " (I5 不得擅自否决)")
    _settle_overdue_if_late(uow, case)
    case.outcome, case.approver_person_id = outcome, person_id
    case.decision_reason, case.decided_at = reason, uow.now()
    transition(uow, case, "decided", "decided", person_id, reason or outcome, action="decided")
    return case_record(case)


def _settle_overdue_if_late(uow, case: Case) -> None:
    """A decision after the due date still counts once as overdue (C5), even if no sweep saw it."""
    if not awaits_upper(case) and case.due_date and not case.provisional and case.overdue_at is None \
            and deadlines.is_overdue(today(uow, case.township_id), case.due_date):
        mark_overdue(uow, case)


def deliver(uow, case_id: str, person_id: str, note: str | None = None) -> dict:
    """办结: the result is handed over; an approved case with a fee needs it collected (C8)."""
    case = get_case(uow, case_id)
    require(case, "deliver")
    if case.outcome in ("approved", "tacitly_approved") and case.fee_cents and case.fee_paid_cents is None:
        raise Conflict("the fee has not been collected yet (C8)", {"state": case.state, "action": "deliver"})
    case.delivered_at = uow.now()
    transition(uow, case, "delivered", "completed", person_id, field_text(note, "note", required=False) or "delivered")
    return case_record(case)


def withdraw(uow, case_id: str, person_id: str, reason: str) -> dict:
    case = get_case(uow, case_id)
    require(case, "withdraw")
    transition(uow, case, "withdrawn", "withdrawn", person_id, field_text(reason, "reason"))
    return case_record(case)


# -- escalated cases (I5) ---------------------------------------------------------------

def forward(uow, case_id: str, person_id: str, note: str | None = None) -> dict:
    """I5 上报: the escalated case is forwarded to the upper level; the day is recorded. Its
    due date is the forwarding promise (上报时限, default 3 working days after acceptance):
    forwarding after it counts once as overdue (C5); once forwarded, the case waits for the
    upper level and its delay never counts against anyone here (the silence rule still runs)."""
    case = get_case(uow, case_id)
    require(case, "forward")
    if case.escalated_on is not None:
        raise Conflict(f"the case was already forwarded on {case.escalated_on}",
                       {"state": case.state, "action": "forward"})
    _settle_overdue_if_late(uow, case)
    case.escalated_on = today(uow)
    audit(uow, case, "forwarded", person_id, field_text(note, "note", required=False) or "forwarded to the upper level",
          forwarded_on=case.escalated_on, forward_due=case.due_date)
    return case_record(case)


def record_upper_answer(uow, case_id: str, person_id: str, answer: str) -> dict:
    case = get_case(uow, case_id)
    require(case, "record_upper_answer")
    if case.escalated_on is None:
        raise Conflict("the case has not been forwarded to the upper level yet (I5)",
                       {"state": case.state, "action": "record_upper_answer"})
    case.upper_answer = field_text(answer, "answer")
    case.upper_answered_on = today(uow)
    audit(uow, case, "upper_answered", person_id, case.upper_answer)
    return case_record(case)


def explain_silence(uow, case_id: str, person_id: str, explanation: str) -> dict:
    case = get_case(uow, case_id)
    require(case, "explain_silence")
    if case.escalated_on is None:
        raise Conflict("the case was never escalated", {"state": case.state, "action": "explain_silence"})
    if case.silence_flagged_at is None:
        settings = RULES.load(uow)
        limit = silence_due(calendar(uow), case.escalated_on, settings["escalation_silence_days"])
        raise Conflict(f"no explanation is due before the upper level has been silent until {limit.day}",
                       {"state": case.state, "action": "explain_silence"})
    case.silence_explanation = field_text(explanation, "explanation")
    audit(uow, case, "silence_explained", person_id, case.silence_explanation)
    return case_record(case)


# -- extension (C3) and special procedures (C11) ------------------------------------------

def extend(uow, case_id: str, person_id: str, roles, days: int, reason: str) -> dict:
    case = get_case(uow, case_id)
    require(case, "extend")
    settings = RULES.load(uow)
    if not set(roles) & set(settings["extension_approver_roles"]):
        raise Forbidden("an extension is approved by: " + ", ".join(settings["extension_approver_roles"]) + " (C3)")
    reason = field_text(reason, "reason")
    deadlines.check_extension(days, case.promised_days, case.extension_days, settings["extension_max_days"])
    if case.due_date and deadlines.is_overdue(today(uow), case.due_date):
        raise Conflict(f"the deadline passed on {case.due_date}: an extension must be granted before it",
                       {"state": case.state, "action": "extend"})
    case.extension_days, case.extension_reason = days, reason
    case.extension_by, case.extended_at = person_id, uow.now()
    audit(uow, case, "extended", person_id, reason, days=days)
    recompute_due(uow, case, reason="extension", by=person_id)
    return case_record(case)


def start_pause(uow, case_id: str, person_id: str, procedure: str, reason: str | None = None) -> dict:
    """特别程序开始: the clock stops (C11); the applicant is told in writing (returned notice)."""
    case = get_case(uow, case_id)
    require(case, "pause")
    settings = RULES.load(uow)
    if procedure not in settings["special_procedures"]:
        raise field_error("procedure", "one of " + ", ".join(settings["special_procedures"]))
    started = today(uow)
    uow.session.add(Pause(case_id=case.id, township_id=case.township_id, procedure=procedure,
                          reason=field_text(reason, "reason", required=False), started_on=started,
                          started_by=person_id))
    case.resume_state = case.state
    transition(uow, case, "suspended", "special_start", person_id, f"{procedure}: {reason or ''}".strip(": "))
    rec = case_record(case)
    rec["notice"] = (f"办件 {case.receipt_no}（{case.item_name}）自 {started.isoformat()} 起进入特别程序（{procedure}），"
                     "所需时间不计入办理时限（行政许可法第四十五条）。")
    return rec


def end_pause(uow, case_id: str, person_id: str, reason: str | None = None) -> dict:
    """特别程序结束: the working days inside the pause are added to the deadline (C11)."""
    case = get_case(uow, case_id)
    require(case, "resume")
    pause = uow.session.scalar(select(Pause).where(Pause.case_id == case.id, Pause.ended_on.is_(None)))
    if pause is None:
        raise Conflict("the case has no open special procedure", {"state": case.state, "action": "resume"})
    ended = today(uow)
    cal = calendar(uow)
    pause.ended_on, pause.ended_by = ended, person_id
    pause.days_added = deadlines.paused_working_days(cal, pause.started_on, ended)
    case.paused_days = (case.paused_days or 0) + pause.days_added
    back = case.resume_state or "in_review"
    case.resume_state = None
    recompute_due(uow, case, cal, reason="special procedure", by=person_id)
    transition(uow, case, back, "special_end", person_id,
               field_text(reason, "reason", required=False) or f"{pause.procedure} ended")
    rec = case_record(case)
    rec["days_added"] = pause.days_added
    rec["notice"] = (f"办件 {case.receipt_no} 特别程序于 {ended.isoformat()} 结束，"
                     f"办理时限顺延 {pause.days_added} 个工作日，至 {case.due_date.isoformat()}。")
    return rec


# review of a rejection or a return (复核, C10): services/cases/reviews.py


# -- queries --------------------------------------------------------------------------------

def list_cases(uow, state: str | None = None, overdue: bool | None = None, holder: str | None = None,
               limit: int = 100, past_target: bool | None = None) -> list[dict]:
    stmt = select(Case).order_by(Case.created_at.desc()).limit(max(1, min(int(limit), 500)))
    if state:
        if state not in STATES:
            raise field_error("state", "one of " + ", ".join(STATES))
        stmt = stmt.where(Case.state == state)
    if overdue is not None:
        stmt = stmt.where(Case.overdue_at.is_not(None) if overdue else Case.overdue_at.is_(None))
    if holder:
        stmt = stmt.where(Case.holder_person_id == holder)
    if past_target is not None:  # I5: immediate cases open past their target (for the director)
        flagged = Case.target_flagged_at.is_not(None)
        stmt = stmt.where(flagged & Case.state.in_(OPEN) if past_target else ~flagged)
    return [case_record(c) for c in uow.scalars(stmt)]
