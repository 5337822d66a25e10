"""S2 Study sessions (学习) and staff meetings (例会): scheduled, and who attended, who came
late and who was absent and why (seeds 000 学习培训制度, 002 学习教育制度 五: "指派专人记录参加人数、
缺席者姓名及缺席原因").

* A session is scheduled by a section head, deputy director or director (``SESSION_KEEPERS``)
  with its kind (study, meeting), topic, start and end; its day is the local date of the start
  and must be a working day (C2a: nothing counts against a person for a day the hall was closed).
* Once it has started, the keeper records each person: ``present``, ``late``, ``early`` (left
  before the end) or ``absent``; an
  absence is ``excused`` (因故请假, a reason is required) or not.
* Missing one without leave counts as absence ("无故不参加学习者，按旷工论处"): it is scored by the
  rule the setting ``meeting_absence_rule`` names (default ``absence_half``, −3, the same rule
  an attendance absence uses). A late arrival or early departure is scored by
  ``meeting_late_rule`` (default ``meeting_late``, −1; seed 000 "迟到、早退的，每次扣1分"). Present and excused cost nothing.
  A person whose approved leave covers the session is excused whatever was recorded.
* Each record scores at most once (source ``meeting``, id ``<session>:<person>``); recording a
  person again corrects the record and replaces its deduction.
* Meeting lateness does not feed the 5-lates rule of the hall's attendance (that counts the
  half-day sign-in records); it is its own −1.
* C2: while the session's day rests on a year without calendar data, a record that would
  deduct is refused (409), since nothing irreversible happens on a provisional day.
"""
from __future__ import annotations

from sqlalchemy import delete, select

from services.common.calendar import load_calendar
from services.common.errors import Conflict, ValidationFailed, field_error

from services.contracts.staff import StudySession as SessionOut

from . import periods, scoring
from .models import Leave, Person, ScoreEntry, SessionAttendance, StudySession
from .rules import RULES
from services.contracts import shared

KINDS = ("study", "meeting")
STATUSES = ("present", "late", "early", "absent")  # early: left before the end (早退)
KIND_ZH = {"study": "学习", "meeting": "例会"}
STATUS_ZH = {"late": "迟到", "early": "早退"}
SOURCE = "meeting"


# -- pure rules -----------------------------------------------------------------------

def outcome(status: str, excused: bool, on_leave: bool = False) -> str | None:
    """What a record costs (S2): ``"absence"`` (missed without leave), ``"late"`` or None."""
    if status == "absent":
        return None if (excused or on_leave) else "absence"
    if status in ("late", "early"):  # seed 000: 迟到、早退的，每次扣1分
        return None if on_leave else "late"
    return None


def record_problems(record, index: int) -> dict[str, str]:
    """What is wrong with one attendance record (field → problem)."""
    where = f"records.{index}"
    if not isinstance(record, dict):
        return {where: "an object with person_id and status"}
    problems = {}
    if not isinstance(record.get("person_id"), str) or not record.get("person_id"):
        problems[f"{where}.person_id"] = "required"
    if record.get("status") not in STATUSES:
        problems[f"{where}.status"] = " / ".join(STATUSES)
    excused = record.get("excused", False)
    if not isinstance(excused, bool):
        problems[f"{where}.excused"] = "true or false"
    elif excused and record.get("status") != "absent":
        problems[f"{where}.excused"] = "only an absence is excused"
    reason = record.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        problems[f"{where}.reason"] = "text of at most 500 characters"
    elif excused is True and not (reason or "").strip():
        problems[f"{where}.reason"] = "an excused absence says why (因故请假)"
    return problems


# -- use cases --------------------------------------------------------------------------

def schedule(uow, by: str | None, kind: str, topic: str, starts_at, ends_at, location: str | None = None) -> dict:
    if kind not in KINDS:
        raise field_error("kind", " or ".join(KINDS))
    if not isinstance(topic, str) or not topic.strip() or len(topic) > 200:
        raise field_error("topic", "1–200 characters")
    if location is not None and (not isinstance(location, str) or len(location) > 100):
        raise field_error("location", "at most 100 characters")
    start = periods.parse_moment(starts_at, "starts_at")
    end = periods.parse_moment(ends_at, "ends_at")
    if end <= start:
        raise field_error("ends_at", "after starts_at")
    day = periods.local(start, periods.township_tz(uow)).date()
    if periods.local(end, periods.township_tz(uow)).date() != day:
        raise field_error("ends_at", "on the same day as starts_at")
    periods.refuse_closed_day(uow, day, "starts_at")  # C2a
    session = StudySession(kind=kind, topic=topic.strip(), location=(location or "").strip() or None,
                           starts_at=start, ends_at=end, day=day, scheduled_by=by, created_at=uow.now())
    uow.session.add(session)
    uow.session.flush()
    return _out(uow, session)


def _on_leave(uow, person_ids: list[str], session: StudySession) -> set[str]:
    """Who of ``person_ids`` has approved leave covering the whole session (one query)."""
    return set(uow.scalars(select(Leave.person_id).where(
        Leave.person_id.in_(person_ids), Leave.state.in_(("approved", "returned")),
        Leave.starts_at <= session.starts_at, Leave.ends_at >= session.ends_at)))


def record_attendance(uow, by: str | None, session_id: str, records) -> dict:
    """Record (or correct) who attended; every record is checked before any is written."""
    session = uow.get(StudySession, session_id, "session")
    if session.starts_at > uow.now():
        raise Conflict("the session has not started yet")
    if not isinstance(records, list) or not records:
        raise field_error("records", "a list of at least one record")
    problems: dict[str, str] = {}
    for i, r in enumerate(records):
        problems.update(record_problems(r, i))
    if problems:
        raise ValidationFailed("records: " + "; ".join(f"{k}: {v}" for k, v in problems.items()),
                               {k: [v] for k, v in problems.items()})
    seen: set[str] = set()
    people: list[Person] = []
    for i, r in enumerate(records):
        if r["person_id"] in seen:
            raise field_error(f"records.{i}.person_id", "listed twice")
        seen.add(r["person_id"])
        people.append(periods.person(uow, r["person_id"], f"records.{i}.person_id", active=False))
    settings = RULES.load(uow)
    rule_of = {"absence": settings["meeting_absence_rule"], "late": settings["meeting_late_rule"]}
    rules = scoring.ensure_rules(uow)
    for code in set(rule_of.values()):
        if code not in rules:
            raise Conflict(f"the score rule {code!r} named by the settings does not exist")
    covered = _on_leave(uow, [p.id for p in people], session)
    leaves = [p.id in covered for p in people]
    costs = [outcome(r["status"], r.get("excused", False), on_leave) for r, on_leave in zip(records, leaves)]
    if any(costs):
        calendar = load_calendar(uow.session, uow.common, uow.township_id)
        if calendar.is_provisional(session.day):
            raise Conflict(f"{session.day}'s year has no calendar data yet: nothing is deducted on it (C2)")
    label = f"{KIND_ZH[session.kind]}：{session.topic}"
    recorded = {row.person_id: row for row in uow.scalars(select(SessionAttendance).where(
        SessionAttendance.session_id == session.id, SessionAttendance.person_id.in_([p.id for p in people])))}
    for r, p, cost, on_leave in zip(records, people, costs, leaves):
        row = recorded.get(p.id)
        if row is None:
            row = SessionAttendance(session_id=session.id, person_id=p.id)
            uow.session.add(row)
        row.status, row.excused = r["status"], bool(r.get("excused", False))
        row.reason = (r.get("reason") or "").strip() or None
        if on_leave and r["status"] == "absent":  # approved leave covers the session: excused
            row.excused, row.reason = True, row.reason or "请假（已批准）"
        row.recorded_by, row.recorded_at = by, uow.now()
        source_id = f"{session.id}:{p.id}"
        uow.session.execute(delete(ScoreEntry).where(
            ScoreEntry.township_id == uow.township_id, ScoreEntry.source == SOURCE,
            ScoreEntry.source_id == source_id, ScoreEntry.person_id == p.id).execution_options(
            synchronize_session=False))
        if cost:
            scoring.add_entry(uow, p.id, rule_of[cost], session.day, SOURCE, source_id,
                              reason=f"{label}（{'无故缺席' if cost == 'absence' else STATUS_ZH[r['status']]}）",
                              recorded_by=by, window_id=p.window_id)
    uow.session.flush()
    return _out(uow, session)


def _out(uow, session: StudySession) -> dict:
    return _outs(uow, [session])[0]


def _outs(uow, sessions: list[StudySession]) -> list[dict]:
    """The sessions with their attendance, names and points: three queries however many."""
    ids = [s.id for s in sessions]
    rows: dict[str, list] = {i: [] for i in ids}
    for r in uow.scalars(select(SessionAttendance).where(SessionAttendance.session_id.in_(ids))):
        rows[r.session_id].append(r)
    people = {r.person_id for listed in rows.values() for r in listed}
    names = {p.id: p.name for p in uow.scalars(select(Person).where(Person.id.in_(people)))}
    points = {e.source_id: e.points for e in uow.scalars(select(ScoreEntry).where(
        ScoreEntry.source == SOURCE, ScoreEntry.source_id.in_([f"{r.session_id}:{r.person_id}"
                                                                for listed in rows.values() for r in listed])))}
    out = []
    for session in sessions:
        attendance = [{"person_id": r.person_id, "name": names.get(r.person_id, ""), "status": r.status,
                       "excused": r.excused, "reason": r.reason,
                       "points": points.get(f"{session.id}:{r.person_id}", 0)}
                      for r in sorted(rows[session.id], key=lambda r: (names.get(r.person_id, ""), r.person_id))]
        out.append(shared(SessionOut).dump({"id": session.id, "kind": session.kind, "topic": session.topic,
                                      "location": session.location, "starts_at": session.starts_at,
                                      "ends_at": session.ends_at, "day": session.day,
                                      "scheduled_by": session.scheduled_by, "attendance": attendance}))
    return out


def get_session(uow, session_id: str) -> dict:
    return _out(uow, uow.get(StudySession, session_id, "session"))


def list_sessions(uow, day_from=None, day_to=None) -> list[dict]:
    stmt = select(StudySession).order_by(StudySession.starts_at.desc())
    if day_from:
        stmt = stmt.where(StudySession.day >= periods.parse_day(day_from, "from"))
    if day_to:
        stmt = stmt.where(StudySession.day <= periods.parse_day(day_to, "to"))
    return _outs(uow, list(uow.scalars(stmt.limit(200))))


def counts(uow, first, last) -> dict[str, dict]:
    """Per person, their sessions in ``[first, last]`` (for the monthly report)."""
    out: dict[str, dict] = {}
    rows = uow.session.execute(select(SessionAttendance.person_id, SessionAttendance.status,
                                      SessionAttendance.excused)
                               .join(StudySession, StudySession.id == SessionAttendance.session_id)
                               .where(StudySession.day >= first, StudySession.day <= last,
                                      StudySession.township_id == uow.township_id))
    for person_id, status, excused in rows:
        c = out.setdefault(person_id, {"attended": 0, "late": 0, "absent_excused": 0, "absent_unexcused": 0})
        if status == "present":
            c["attended"] += 1
        elif status in ("late", "early"):
            c["attended"] += 1
            c["late"] += 1
        elif excused:
            c["absent_excused"] += 1
        else:
            c["absent_unexcused"] += 1
    return out
