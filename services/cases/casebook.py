"""The case book (DOMAIN C1, C5, C13): states and the allowed moves, the audit trail,
transitions with their status codes, the township's local time, and counting a case overdue.

The lowest layer of the cases service: ``lifecycle``, ``posts`` and ``timers`` build on it and
it imports none of them, so imports run one way (casebook ← posts ← lifecycle ← timers).
"""
from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case as sql_case
from sqlalchemy import insert, literal, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm.attributes import set_committed_value

from services.common.calendar import WorkingCalendar, load_calendar
from services.common.clock import DEFAULT_TZ, as_utc, local_date
from services.common.db import pg_array
from services.common.errors import Conflict, NotFound
from services.common.validate import text

from .models import RUNNING, Case, CaseLog, TownshipCopy

KINDS = ("immediate", "promised", "supplement", "joint", "escalated")
STARTED_KINDS = ("immediate", "promised", "joint", "escalated")  # what a supplement case becomes

OPEN = ("received", "supplement_pending", *RUNNING, "suspended")  # undecided
STATES = (*OPEN, "decided", "delivered", "withdrawn", "reconsideration")

# C13: status codes for exchanges with county systems (code, label)
STATUS = {
    "received": ("RECEIVED", "已接件"),
    "accepted": ("ACCEPTED", "已受理"),
    "not_accepted": ("NOT_ACCEPTED", "不予受理"),  # intake's 退回件 (intake.application_returned)
    "supplement": ("SUPPLEMENT", "补正"),
    "special_start": ("SPECIAL_START", "特别程序开始"),
    "special_end": ("SPECIAL_END", "特别程序结束"),
    "decided": ("DECIDED", "审批决定"),
    "completed": ("COMPLETED", "办结"),
    "withdrawn": ("WITHDRAWN", "撤件"),
    "reconsideration": ("RECONSIDERATION", "复核"),
}

# action -> states it may start from (C1). Anything else is a Conflict naming both.
ALLOWED = {
    "accept": ("received", "supplement_pending"),
    "await_supplement": ("received",),
    "review": RUNNING,
    "record_opinion": ("awaiting_departments",),
    "decide": RUNNING,
    "tacit_approve": RUNNING,
    "deliver": ("decided",),
    "withdraw": OPEN,
    "pause": RUNNING,
    "resume": ("suspended",),
    "extend": (*RUNNING, "suspended"),
    "forward": ("escalated",),
    "record_upper_answer": ("escalated",),
    "explain_silence": ("escalated", "suspended", "decided", "delivered"),
    "collect_fee": (*RUNNING, "suspended", "decided"),
    "rate": ("delivered",),
    "request_reconsideration": ("decided", "delivered"),
    "decide_reconsideration": ("reconsideration",),
}

OUTCOMES = ("approved", "rejected")


# -- helpers ---------------------------------------------------------------------

def require(case: Case, action: str) -> None:
    allowed = ALLOWED[action]
    if case.state not in allowed:
        raise Conflict(
            f"cannot {action.replace('_', ' ')} a case in state {case.state!r}",
            {"state": case.state, "action": action, "allowed_from": list(allowed)},
        )


def timezone_of(uow, township_id: str | None = None) -> str:
    """The township's time zone from the copy (read once per unit of work, found or not)."""
    township_id = township_id or uow.township_id
    zones = uow.session.info.setdefault("timezones", {})
    if township_id not in zones:
        copy = uow.session.get(TownshipCopy, township_id)
        zones[township_id] = copy.timezone if copy and copy.timezone else DEFAULT_TZ
    return zones[township_id]


def today(uow, township_id: str | None = None):
    return local_date(uow.now(), timezone_of(uow, township_id))


def calendar(uow, township_id: str | None = None) -> WorkingCalendar:
    return load_calendar(uow.session, uow.common, township_id or uow.township_id)


def get_case(uow, case_id: str) -> Case:
    return uow.get(Case, case_id, "case")


def find_by_receipt(uow, receipt_no: str) -> Case:
    case = uow.session.scalar(select(Case).where(Case.receipt_no == receipt_no))
    if case is None:
        raise NotFound(f"case with receipt {receipt_no} not found")
    return case


def audit(uow, case: Case, action: str, by: str | None, reason: str | None = None,
          from_state=None, to_state=None, status_code=None, **data) -> CaseLog:
    entry = CaseLog(**trail(uow, case, action, by, reason, from_state, to_state, status_code, **data))
    uow.session.add(entry)
    return entry


def trail(uow, case: Case, action: str, by: str | None, reason: str | None = None,
          from_state=None, to_state=None, status_code=None, **data) -> dict:
    """The columns of one audit-trail row (C1): ``audit`` adds it, bulk work inserts many at once."""
    return dict(case_id=case.id, township_id=case.township_id, action=action,
                from_state=from_state, to_state=to_state, status_code=status_code,
                by_person_id=by, holder_person_id=case.holder_person_id, reason=reason,
                data=_jsonable(data), at=uow.now())


# PostgreSQL: many trail rows as one array a column (one statement, compiled once per process;
# the server unpacks the rows): the generic multi-row INSERT cost 3x as much (issue 9)
_TRAIL_TEXT = ("case_id", "township_id", "action", "from_state", "to_state", "status_code", "by_person_id",
               "holder_person_id", "reason", "data")
_PG_TRAIL = sql_text(
    f"INSERT INTO case_log ({', '.join(_TRAIL_TEXT)}, at)"
    f" SELECT {', '.join('v.' + c for c in _TRAIL_TEXT[:-1])}, CAST(v.data AS json), v.at FROM unnest("
    + ", ".join(f"CAST(:{c} AS varchar[])" for c in _TRAIL_TEXT)
    + f", CAST(:at AS timestamptz[])) AS v({', '.join(_TRAIL_TEXT)}, at)")


def insert_trail(uow, rows: list[dict]) -> None:
    """Many audit-trail rows (C1; each ``trail``'s columns) in one INSERT, in this transaction."""
    if not rows:
        return
    if uow.session.get_bind().dialect.name != "postgresql":
        uow.session.execute(insert(CaseLog), rows)
        return
    uow.session.flush()  # rows ``audit`` added before these come before them in the trail
    values = {c: pg_array([r[c] for r in rows]) for c in _TRAIL_TEXT[:-1]}
    values["data"] = pg_array([json.dumps(r["data"]) for r in rows])
    values["at"] = pg_array([as_utc(r["at"]).isoformat() for r in rows])
    uow.session.execute(_PG_TRAIL, values)


def _jsonable(data: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items() if v is not None}


def transition(uow, case: Case, to_state: str, status: str, by: str | None, reason: str | None = None,
               action: str = "transition") -> None:
    """Move the case, record who/when/why (C1), emit case_transitioned with its C13 code."""
    if to_state not in STATES:
        raise ValueError(f"unknown state {to_state}")
    from_state = case.state
    code, label = STATUS[status]
    case.state = to_state
    case.transitions = (case.transitions or 0) + 1
    audit(uow, case, action, by, reason, from_state=from_state, to_state=to_state, status_code=code,
          due_date=case.due_date, outcome=case.outcome)
    uow.emit(
        "cases.case_transitioned", township_id=case.township_id,
        case_id=case.id, application_id=case.application_id, receipt_no=case.receipt_no,
        from_state=from_state, to_state=to_state, status_code=code, status_label=label,
        by_person_id=by, reason=reason, kind=case.kind, outcome=case.outcome,
        due_date=case.due_date.isoformat() if case.due_date else None,
        provisional=bool(case.provisional), seq=case.transitions,
    )


def awaits_upper(case: Case) -> bool:
    """I5: an escalated case already forwarded waits for the upper level; its delay never counts
    against anyone here (its only promise, the forwarding date, was kept or already counted)."""
    return case.kind == "escalated" and case.escalated_on is not None


def silence_due(cal: WorkingCalendar, escalated_on, days: int):
    """I5: the upper level's silence must be explained after N calendar days (Art. 203 roll-over)."""
    return cal.add_calendar_days(escalated_on, days)


def end_of_local_day(day, tz: str) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(tz))


# -- C5: overdue, once -------------------------------------------------------------

def responsible_on(uow, case: Case, day) -> str:
    """C5: the handler responsible on ``day`` — who held the case at its close (A, or B for A)."""
    return responsible_on_many(uow, [(case, day)])[case.id]


def responsible_on_many(uow, cases_days) -> dict[str, str]:
    """``responsible_on`` for many ``(case, day)`` at once: case id -> the person who held it at
    the close of its day (the last holder the trail names before then, else its handler). One
    query of the cases' trails up to the latest of those closes, however many cases."""
    cases_days = list(cases_days)
    if not cases_days:
        return {}
    zones = {tid: timezone_of(uow, tid) for tid in {case.township_id for case, _ in cases_days}}
    ends = {case.id: end_of_local_day(day, zones[case.township_id]) for case, day in cases_days}
    held = {case.id: case.handler_person_id for case, _ in cases_days}
    rows = uow.session.execute(
        select(CaseLog.case_id, CaseLog.holder_person_id, CaseLog.at)
        .where(CaseLog.case_id.in_(list(ends)), CaseLog.at < max(ends.values()),
               CaseLog.holder_person_id.is_not(None))
        .order_by(CaseLog.id))
    for case_id, holder, at in rows:  # by id: the last one before the case's own close wins
        if as_utc(at) < ends[case_id]:
            held[case_id] = holder
    return held


def per_case(values: dict):
    """``CASE WHEN id IN (…) THEN value … END``: a value for each case id as one SQL expression,
    one branch per distinct value (a chunk's cases share a few due dates and handlers): cheap to
    build and to run, where a branch per case (or ``(id, due_date) IN (…)``) cost a chunk of 500
    some 40 ms more (issue 9)."""
    ids_of: dict = {}
    for case_id, value in values.items():
        ids_of.setdefault(value, []).append(case_id)
    return sql_case(*[(Case.id.in_(ids), literal(value)) for value, ids in ids_of.items()])


def claim_chunk(uow, cases: list[Case], unclaimed, values: dict, written) -> list[Case]:
    """Those of ``cases`` this call claims, with one conditional UPDATE (``… WHERE id IN (…) AND
    <unclaimed> AND due_date = the one judged … RETURNING id``): one another instance or a
    decision took first is not claimed, nor one whose deadline moved since it was read (an
    extension, a recompute: the next sweep judges it afresh). ``values``: what the UPDATE sets;
    ``written(case)``: what it wrote of each case, kept on the loaded case without another read."""
    if not cases:
        return []
    won = set(uow.session.scalars(
        update(Case)
        .where(Case.id.in_([case.id for case in cases]), unclaimed,
               Case.due_date == per_case({case.id: case.due_date for case in cases}))
        .values(**values)
        .returning(Case.id)
        .execution_options(synchronize_session=False)))
    claimed = [case for case in cases if case.id in won]
    for case in claimed:
        for name, value in written(case).items():
            set_committed_value(case, name, value)
    return claimed


def mark_overdue(uow, case: Case) -> bool:
    """C5: count the case once against the handler responsible on the due date."""
    return mark_overdue_many(uow, [case]) == 1


def mark_overdue_many(uow, cases: list[Case]) -> int:
    """C5: count each case once against the handler responsible on its due date; how many this
    call counted. One conditional UPDATE claims them all (``… WHERE id IN (…) AND overdue_at IS
    NULL AND due_date = the one judged … RETURNING id``): a case another instance, or a decision,
    counted first is skipped, so each counts exactly once however many sweep at once, and a
    deadline moved since it was read (an extension, a recompute) is left for the next sweep to
    judge. The trail rows and the ``case_overdue`` events of those claimed are written with one
    multi-row INSERT each."""
    if not cases:
        return 0
    people = responsible_on_many(uow, [(case, case.due_date) for case in cases])
    now = uow.now()
    claimed = claim_chunk(uow, cases, Case.overdue_at.is_(None),
                          {"overdue_at": now, "overdue_person_id": per_case(people)},
                          lambda case: {"overdue_at": now, "overdue_person_id": people[case.id]})
    if not claimed:
        return 0
    rows, events = [], {}
    for case in claimed:
        person = people[case.id]
        rows.append(trail(uow, case, "overdue", None, f"undecided after {case.due_date} (C5)",
                          handler_person_id=person))
        events.setdefault(case.township_id, []).append(dict(
            case_id=case.id, receipt_no=case.receipt_no, handler_person_id=person, window_id=case.window_id,
            due_date=case.due_date.isoformat()))
    insert_trail(uow, rows)
    for township_id, payloads in events.items():
        uow.emit_many("cases.case_overdue", payloads, township_id=township_id)
    return len(claimed)


def field_text(value, field: str, required: bool = True, limit: int = 2000) -> str | None:
    """A free-text field of a command (a reason, an opinion, an answer): stripped, bounded, and
    422 naming ``field`` when required and empty (``services.common.validate.text``)."""
    return text({field: value}, field, limit, required)
