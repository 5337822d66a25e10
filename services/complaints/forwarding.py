"""P7 Forwarding (seed 002 投诉制度 五, seed 000 投诉制度 七).

* ``forward`` — a complaint about a department's own work is forwarded to that department with a
  deadline (``forward_answer_working_days``, C2 counting); its heads (else all its people) are
  told (``complaints.complaint_forwarded``, N1). One forwarding open at a time.
* ``answer`` — the department answers (one of its people, or the complaint office recording a
  paper answer); the complaint officer is told (``complaints.forwarding_answered``).
* ``check`` — the centre checks the answer: ``accepted`` (it is passed on to the complainant with
  the reply, P4 — ``handling.reply`` marks it passed on) or ``returned`` (a new round with a new
  deadline; the department is told again).
* ``report_upward`` — a major complaint is reported to the discipline inspection body above, on
  record (setting ``discipline_body``).
* overdue — the sweep marks a forwarding not answered by its deadline once
  (``complaints.forwarding_overdue``).

P2: the department reads the complaint like the accused do — no complainant identity, free text
with name, phone and ID-shaped numbers hidden — and events carry ids only.
"""
from __future__ import annotations

from sqlalchemy import select

from services.common.calendar import load_calendar
from services.common.clock import local_date
from services.common.db import claim
from services.common.errors import Conflict, Forbidden, NotFound, field_error
from services.common.validate import text
from services.contracts import complaints as contract, shared

from . import orgcopy
from .models import Complaint, Forwarding, UpwardReport
from .rules import DEPARTMENT_HEADS, IDENTITY_ROLES, RULES, forward_due, is_overdue
from .viewing import get_for, redact

PENDING = ("forwarded", "answered")
DECISIONS = ("accepted", "returned")
MAX_TEXT = 5000


def _redact(value, c: Complaint, viewer):
    return value if viewer.sees_identity else redact(value, c)


def record(uow, f: Forwarding, c: Complaint, viewer) -> dict:
    dept = orgcopy.department(uow, f.department_id)
    return shared(contract.Forwarding).dump({
        "id": f.id, "complaint_id": f.complaint_id, "number": c.number, "department_id": f.department_id,
        "department_name": dept.name if dept is not None else None, "round": f.round,
        "instructions": _redact(f.instructions, c, viewer), "forwarded_at": f.forwarded_at,
        "due_on": f.due_on, "due_provisional": f.due_provisional, "state": f.state,
        "answer": _redact(f.answer, c, viewer), "answered_at": f.answered_at,
        "checked_at": f.checked_at, "check_note": _redact(f.check_note, c, viewer),
        "passed_on_at": f.passed_on_at, "overdue": f.overdue_at is not None,
    })


def of_complaint(uow, complaint_id: str) -> list[Forwarding]:
    return list(uow.scalars(select(Forwarding).where(Forwarding.complaint_id == complaint_id)
                            .order_by(Forwarding.round)))


def pending_of(uow, complaint_id: str) -> Forwarding | None:
    return uow.session.scalar(select(Forwarding).where(
        Forwarding.complaint_id == complaint_id, Forwarding.state.in_(PENDING)))


def department_people(uow, department_id: str) -> list[str]:
    """Who in a department answers: its heads (DECIDERS), else all its active people."""
    people = [p for p in orgcopy.active_people(uow) if p.department_id == department_id]
    heads = [p for p in people if set(p.roles or ()) & set(DEPARTMENT_HEADS)]
    return [p.id for p in (heads or people)]


def _department_of(uow, c: Complaint, department_id: str | None) -> str:
    if department_id is not None:
        if not isinstance(department_id, str) or orgcopy.department(uow, department_id) is None:
            raise field_error("department_id", "no such department in this township")
        return department_id
    if c.target_department_id:
        return c.target_department_id
    w = orgcopy.window(uow, c.target_window_id)
    if w is not None and w.department_id:
        return w.department_id
    raise field_error("department_id", "required: the complaint names no department (nor a window of one)")


def _open(uow, c: Complaint, department_id: str, by, instructions, round_: int) -> Forwarding:
    rules = RULES.load(uow)
    today = local_date(uow.now(), rules["timezone"])
    due = forward_due(load_calendar(uow.session, uow.common, uow.township_id), today, rules)
    f = Forwarding(complaint_id=c.id, department_id=department_id, round=round_, instructions=instructions,
                   forwarded_at=uow.now(), forwarded_by=by, due_on=due.day, due_provisional=due.provisional,
                   state="forwarded")
    uow.session.add(f)
    uow.session.flush()
    uow.emit("complaints.complaint_forwarded", forwarding_id=f.id, complaint_id=c.id, number=c.number,
             department_id=department_id, department_person_ids=department_people(uow, department_id),
             due_date=f.due_on.isoformat(), round=round_)
    return f


def forward(uow, complaint_id: str, department_id, instructions, by: str | None, viewer) -> dict:
    """P7: forward an open complaint to the department whose work it is about."""
    c = get_for(uow, complaint_id, viewer)
    instructions = text({"instructions": instructions}, "instructions", MAX_TEXT)
    dept = _department_of(uow, c, department_id)
    if c.state != "open":
        raise Conflict(f"the complaint is already {c.state}", {"state": [c.state]})
    if pending_of(uow, c.id) is not None:
        raise Conflict("the complaint is already with a department (P7)", {"state": ["forwarded"]})
    rounds = len(of_complaint(uow, c.id))
    f = _open(uow, c, dept, by, instructions, rounds + 1)
    if c.target_department_id is None:
        c.target_department_id = dept
    return record(uow, f, c, viewer)


def _get(uow, forwarding_id: str, viewer) -> tuple[Forwarding, Complaint]:
    f = uow.get(Forwarding, forwarding_id, "forwarding")
    c = uow.session.get(Complaint, f.complaint_id)
    if not (viewer.reads_all or (viewer.department_id and viewer.department_id == f.department_id)
            or viewer.may_read(c)):
        raise NotFound(f"forwarding {forwarding_id} not found")
    return f, c


def get(uow, forwarding_id: str, viewer) -> dict:
    f, c = _get(uow, forwarding_id, viewer)
    return record(uow, f, c, viewer)


def list_for_complaint(uow, complaint_id: str, viewer) -> list[dict]:
    c = get_for(uow, complaint_id, viewer)
    return [record(uow, f, c, viewer) for f in of_complaint(uow, c.id)]


def list_for(uow, viewer, state: str | None = None) -> list[dict]:
    """Complaint staff: every forwarding; a department's people: their department's."""
    stmt = (select(Forwarding, Complaint).join(Complaint, Complaint.id == Forwarding.complaint_id)
            .order_by(Forwarding.forwarded_at.desc()))
    if not viewer.reads_all:
        if not viewer.department_id:
            return []
        stmt = stmt.where(Forwarding.department_id == viewer.department_id)
    if state:
        stmt = stmt.where(Forwarding.state == state)
    return [record(uow, f, c, viewer) for f, c in uow.session.execute(stmt.limit(500)).all()]


def answer(uow, forwarding_id: str, answer_text, by: str | None, viewer) -> dict:
    """P7: the department answers (one of its people; or the complaint office records a paper answer)."""
    f, c = _get(uow, forwarding_id, viewer)
    if not (viewer.sees_identity or (viewer.department_id and viewer.department_id == f.department_id)):
        raise Forbidden("only the department the complaint was forwarded to, or the complaint office, answers")
    answer_text = text({"answer": answer_text}, "answer", MAX_TEXT, required=True)
    if f.state != "forwarded":
        raise Conflict(f"the forwarding is already {f.state}", {"state": [f.state]})
    f.state, f.answer, f.answered_at, f.answered_by = "answered", answer_text, uow.now(), by
    uow.emit("complaints.forwarding_answered", forwarding_id=f.id, complaint_id=c.id, number=c.number,
             department_id=f.department_id)
    return record(uow, f, c, viewer)


def check(uow, forwarding_id: str, decision: str, note, by: str | None, viewer) -> dict:
    """P7: the centre checks the department's answer: accepted (passed on with the reply, P4) or
    returned to the department for another round with a new deadline."""
    if not viewer.sees_identity:
        raise Forbidden(f"checking an answer needs one of the roles: {', '.join(IDENTITY_ROLES)}")
    f, c = _get(uow, forwarding_id, viewer)
    if decision not in DECISIONS:
        raise field_error("decision", f"one of {', '.join(DECISIONS)}")
    note = text({"note": note}, "note", MAX_TEXT, required=decision == "returned")
    if f.state != "answered":
        raise Conflict("the department has not answered yet" if f.state == "forwarded"
                       else f"the forwarding is already {f.state}", {"state": [f.state]})
    f.state, f.checked_at, f.checked_by, f.check_note = decision, uow.now(), by, note
    uow.session.flush()
    if decision == "returned":
        _open(uow, c, f.department_id, by, note, f.round + 1)
    return record(uow, f, c, viewer)


def blocks_outcome(uow, c: Complaint) -> None:
    """P7: no outcome or reply while the department's answer is awaited or unchecked."""
    f = pending_of(uow, c.id)
    if f is not None:
        raise Conflict("the department's answer is awaited or not checked yet (P7)", {"forwarding": [f.state]})


def mark_passed_on(uow, c: Complaint) -> None:
    """P7: the reply to the complainant passes the accepted answer on (recorded)."""
    for f in of_complaint(uow, c.id):
        if f.state == "accepted" and f.passed_on_at is None:
            f.passed_on_at = uow.now()


# -- reporting upward (P7, seed 000) -----------------------------------------------------------

def report_upward(uow, complaint_id: str, data: dict, by: str | None, viewer) -> dict:
    """P7: a major complaint reported to the discipline inspection body above, on record."""
    c = get_for(uow, complaint_id, viewer)
    summary = text(data, "summary", MAX_TEXT, required=True)
    reference = text(data, "reference", 100)
    reported_to = text(data, "reported_to", 100) or RULES.load(uow)["discipline_body"]
    if not c.major:
        raise Conflict("only a major complaint is reported upward (P7)", {"major": [False]})
    r = UpwardReport(complaint_id=c.id, reported_to=reported_to, reference=reference, summary=summary,
                     reported_at=uow.now(), reported_by=by)
    uow.session.add(r)
    if c.reported_upward_at is None:
        c.reported_upward_at = r.reported_at
    uow.session.flush()
    return upward_record(r, c, viewer)


def upward_record(r: UpwardReport, c: Complaint, viewer) -> dict:
    return shared(contract.UpwardReport).dump({
        "id": r.id, "complaint_id": r.complaint_id, "number": c.number, "reported_to": r.reported_to,
        "reference": r.reference, "summary": _redact(r.summary, c, viewer), "reported_at": r.reported_at,
    })


def upward_reports(uow, complaint_id: str, viewer) -> list[dict]:
    c = get_for(uow, complaint_id, viewer)
    rows = uow.scalars(select(UpwardReport).where(UpwardReport.complaint_id == c.id)
                       .order_by(UpwardReport.reported_at))
    return [upward_record(r, c, viewer) for r in rows]


# -- the overdue sweep ------------------------------------------------------------------------

def find_overdue(uow, today_of, batch: int) -> list[tuple]:
    rows = uow.session.execute(
        select(Forwarding.id, Forwarding.township_id, Forwarding.due_on)
        .where(Forwarding.overdue_at.is_(None), Forwarding.state == "forwarded")
        .order_by(Forwarding.due_on).limit(batch)).all()
    return [(t, (Forwarding, i, "overdue_at")) for i, t, d in rows if is_overdue(d, today_of(t))]


def mark_overdue(uow, ident: str) -> bool:
    if not claim(uow.session, Forwarding, ident, expected={"overdue_at": None, "state": "forwarded"},
                 updates={"overdue_at": uow.now()}):
        return False
    f = uow.session.get(Forwarding, ident)
    uow.session.refresh(f)
    c = uow.session.get(Complaint, f.complaint_id)
    uow.emit("complaints.forwarding_overdue", forwarding_id=f.id, complaint_id=c.id, number=c.number,
             department_id=f.department_id, department_person_ids=department_people(uow, f.department_id),
             due_date=f.due_on.isoformat())
    return True
