"""S2 Attendance (考勤): sign-in and sign-out each half-day, the daily classification, the
5-lates rule, proxy sign-in, the weekly sheet and objections.

The rules (seed 004 五、考勤制度; numbers are settings, ``rules.RULES``):

* hours 08:00–12:00 and 14:30–17:30, summer afternoons 15:00–18:00 (``summer_from`` …
  ``summer_to``, default 05-01 … 09-30);
* sign-in more than 20 min after the start, or no sign-in but a sign-out → late (迟到);
* sign-out more than 20 min before the end, or a sign-in but no sign-out → early leave (早退);
* neither, or away more than 1 hour without leave → absence (旷工) for that half-day;
* exactly 20 min is still on time ("more than");
* every 5th late or early leave within a calendar month adds one day's absence, on top;
* a proxy sign-in (代签) → one absence for both people;
* working days from the shared calendar: no absence on a holiday, attendance expected on
  a make-up working day;
* approved leave covering a session excuses it; leave at the start or end of a session moves
  the start or end the lateness is measured from;
* published weekly; objections within 2 working days of publication.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select

from services.common import csvsafe
from services.common.calendar import load_calendar
from services.common.errors import Conflict, NotFound, field_error

from services.contracts.staff import ArrangedDuty as ArrangedDutyOut
from services.contracts.staff import AttendanceDayClosed as DayClosedOut
from services.contracts.staff import AttendanceIncident as IncidentOut
from services.contracts.staff import AttendanceMark as MarkOut
from services.contracts.staff import AttendanceObjection as ObjectionOut
from services.contracts.staff import AttendancePublication as PublicationOut
from services.contracts.staff import AttendanceSheet as SheetOut

from . import periods, scoring
from .periods import refuse_closed_day  # noqa: F401  (re-exported)
from .models import (
    ArrangedDuty, AttendanceClosure, AttendanceDay, AttendanceIncident, AttendanceMark, AttendanceObjection, Leave,
    Person, WeeklyPublication, Window,
)
from .rules import RULES
from services.contracts import shared

HALVES = ("am", "pm")
STATUS_ZH = {"on_time": "正常", "late": "迟到", "early": "早退", "late_early": "迟到早退", "absent": "旷工",
             "leave": "请假", "rest": "休息", "accumulated": "累计旷工",
             "overtime": "加班"}


# -- pure rules -----------------------------------------------------------------------

@dataclass(frozen=True)
class HalfResult:
    status: str  # on_time, late, early, late_early, absent, leave, rest
    detail: str = ""

    @property
    def lates(self) -> int:
        """Late and early-leave instances this half-day counts for the 5-lates rule."""
        return {"late": 1, "early": 1, "late_early": 2}.get(self.status, 0)


def in_summer(day: date, settings: dict) -> bool:
    key = day.strftime("%m-%d")
    lo, hi = settings["summer_from"], settings["summer_to"]
    return lo <= key <= hi if lo <= hi else (key >= lo or key <= hi)


def session_hours(day: date, half: str, settings: dict) -> tuple[str, str]:
    if half == "am":
        return tuple(settings["hours_am"])
    return tuple(settings["summer_hours_pm"] if in_summer(day, settings) else settings["hours_pm"])


def half_of(local_moment: datetime, settings: dict) -> str:
    """Which half-day a mark belongs to: the morning up to midway between the sessions."""
    day = local_moment.date()
    am_end = _minutes(session_hours(day, "am", settings)[1])
    pm_start = _minutes(session_hours(day, "pm", settings)[0])
    return "am" if local_moment.hour * 60 + local_moment.minute < (am_end + pm_start) / 2 else "pm"


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def classify_half(sign_in: datetime | None, sign_out: datetime | None, start: datetime, end: datetime,
                  *, late_grace: int = 20, early_grace: int = 20, away_minutes: int = 0,
                  away_limit: int = 60, working: bool = True, on_leave: bool = False,
                  proxy: bool = False) -> HalfResult:
    """Classify one half-day (S2). ``start``/``end`` are the session's (already moved by a
    leave at its start or end); ``sign_in`` the first sign-in, ``sign_out`` the last."""
    if not working:
        return HalfResult("rest")
    if on_leave:
        return HalfResult("leave")
    if proxy:
        return HalfResult("absent", "proxy sign-in (代签)")
    if sign_in is None and sign_out is None:
        return HalfResult("absent", "neither sign-in nor sign-out")
    if away_minutes > away_limit:
        return HalfResult("absent", f"away {away_minutes} min without leave")
    late = sign_in is None or (sign_in - start) > timedelta(minutes=late_grace)
    early = sign_out is None or (end - sign_out) > timedelta(minutes=early_grace)
    if late and early:
        return HalfResult("late_early")
    if late:
        return HalfResult("late", "no sign-in" if sign_in is None else "")
    if early:
        return HalfResult("early", "no sign-out" if sign_out is None else "")
    return HalfResult("on_time")


def accumulated_absences(before: int, after: int, per: int = 5) -> list[int]:
    """Every ``per``-th late/early in the month adds a day's absence: the thresholds crossed
    going from ``before`` to ``after`` instances (e.g. 4 → 6 crosses 5)."""
    return [k for k in range(before + 1, after + 1) if k % per == 0]


# -- recording ------------------------------------------------------------------------

def _closed(uow, day: date) -> bool:
    return uow.session.scalar(select(AttendanceClosure.id).where(
        AttendanceClosure.day == day, AttendanceClosure.state == "closed")) is not None


def _mark(uow, person: Person, kind: str, at: datetime, by: str | None) -> dict:
    settings = RULES.load(uow)
    moment = periods.local(at, periods.township_tz(uow))
    day, half = moment.date(), half_of(moment, settings)
    if _closed(uow, day):
        raise Conflict(f"attendance of {day} is already closed", {"at": ["day closed"]})
    mark = AttendanceMark(person_id=person.id, kind=kind, at=at, day=day, half=half, recorded_by=by)
    uow.session.add(mark)
    uow.session.flush()
    return shared(MarkOut).dump(mark)


def sign(uow, person_id: str, kind: str) -> dict:
    """The caller signs in or out now (the clock's now)."""
    if kind not in ("in", "out"):
        raise field_error("kind", "in or out")
    return _mark(uow, periods.person(uow, person_id), kind, uow.now(), person_id)


def record_mark(uow, by: str, person_id: str, kind: str, at) -> dict:
    """An inspector or director records a mark with its time (e.g. imported from the
    fingerprint machine). Not in the future; not into a closed day."""
    if kind not in ("in", "out"):
        raise field_error("kind", "in or out")
    moment = periods.parse_moment(at, "at")
    if moment > uow.now():
        raise field_error("at", "not in the future")
    return _mark(uow, periods.person(uow, person_id), kind, moment, by)


def record_incident(uow, by: str, kind: str, person_id: str, day, half: str, minutes: int | None = None,
                    other_person_id: str | None = None) -> dict:
    """An inspector records an absence from the post (``away``, minutes) or a proxy sign-in
    (``proxy``: ``other_person_id`` signed for ``person_id``; both are absent, S2)."""
    if kind not in ("away", "proxy"):
        raise field_error("kind", "away or proxy")
    if half not in HALVES:
        raise field_error("half", "am or pm")
    day = periods.parse_day(day)
    if day > periods.local_today(uow):
        raise field_error("day", "not in the future")
    refuse_closed_day(uow, day)
    target = periods.person(uow, person_id)
    other = None
    if kind == "away":
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 600:
            raise field_error("minutes", "1–600")
    else:
        other = periods.person(uow, other_person_id, "other_person_id")
        if other.id == target.id:
            raise field_error("other_person_id", "the signer is someone else")
    incident = AttendanceIncident(kind=kind, person_id=target.id, other_person_id=other.id if other else None,
                                  day=day, half=half, minutes=minutes, recorded_by=by, created_at=uow.now())
    uow.session.add(incident)
    uow.session.flush()
    if _closed(uow, day):
        settings = RULES.load(uow)
        if kind == "proxy":
            for p in (target, other):
                _absent_after_close(uow, p, day, half, "proxy sign-in (代签)")
        elif minutes > settings["away_limit_minutes"] and not _leave_covers_whole(uow, target.id, day, half, settings):
            _absent_after_close(uow, target, day, half, f"away {minutes} min without leave")
    return shared(IncidentOut).dump({"id": incident.id, "kind": kind, "person_id": target.id,
                               "other_person_id": incident.other_person_id, "day": day, "half": half,
                               "minutes": minutes})


def _absent_after_close(uow, p: Person, day: date, half: str, detail: str) -> None:
    row = uow.session.scalar(select(AttendanceDay).where(
        AttendanceDay.person_id == p.id, AttendanceDay.day == day, AttendanceDay.half == half))
    if row is None:
        row = AttendanceDay(person_id=p.id, day=day, half=half, status="absent", detail=detail, created_at=uow.now())
        uow.session.add(row)
    elif row.status == "absent":
        return
    else:
        row.status, row.detail = "absent", detail
    uow.session.flush()
    scoring.add_entry(uow, p.id, "absence_half", day, "attendance", f"{day}:{half}:absent", detail,
                      window_id=p.window_id)
    uow.emit("staff.absence_recorded", person_id=p.id, day=day.isoformat(), half=half, reason=detail)


# -- closing a day ----------------------------------------------------------------------

def _approved_leaves(uow, day: date) -> list[Leave]:
    tz = periods.township_tz(uow)
    lo, hi = periods.at_local(day, "00:00", tz), periods.at_local(day + timedelta(days=1), "00:00", tz)
    return list(uow.scalars(select(Leave).where(
        Leave.state.in_(("approved", "returned")), Leave.starts_at < hi, Leave.ends_at > lo)))


def _session_window(leaves, start: datetime, end: datetime) -> tuple[bool, datetime, datetime]:
    """(whole session on leave, effective start, effective end)."""
    for leave in leaves:
        if leave.starts_at <= start and periods.leave_end(leave) >= end:
            return True, start, end
    eff_start, eff_end = start, end
    for leave in leaves:
        if leave.starts_at <= eff_start < periods.leave_end(leave):
            eff_start = periods.leave_end(leave)
        if leave.starts_at < eff_end <= periods.leave_end(leave):
            eff_end = leave.starts_at
    return False, eff_start, eff_end


def _leave_covers_whole(uow, person_id, day, half, settings) -> bool:
    tz = periods.township_tz(uow)
    s, e = session_hours(day, half, settings)
    leaves = [lv for lv in _approved_leaves(uow, day) if lv.person_id == person_id]
    return _session_window(leaves, periods.at_local(day, s, tz), periods.at_local(day, e, tz))[0]


def expected_people(uow, settings) -> list[Person]:
    roles = set(settings["attendance_roles"])
    people = uow.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.name))
    return [p for p in people if roles & set(p.roles or [])]


def close_day(uow, day) -> dict:
    """Classify every expected person's half-days of ``day`` once (S2), score them (S4),
    announce absences (staff.absence_recorded, for A/B handover) and apply the 5-lates rule.
    Closing is claimed by a unique row: a second close (or a second instance) is a conflict.

    C2: a day of a year without calendar data is left open ("open" closure row): nothing is
    classified, scored or announced until the year is loaded (``settle_open_days``).
    C2a: a day the hall was closed classifies nobody; work done on it is overtime (S4 credit)."""
    day = periods.parse_day(day)
    if day >= periods.local_today(uow):
        raise field_error("day", "only a past day can be closed")
    existing = uow.session.scalar(select(AttendanceClosure).where(AttendanceClosure.day == day))
    if existing is not None:
        if existing.state == "open":
            raise Conflict(f"attendance of {day} is left open until its year's calendar is loaded (C2)")
        raise Conflict(f"attendance of {day} is already closed")
    calendar = load_calendar(uow.session, uow.common, uow.township_id)
    if calendar.is_provisional(day):
        uow.session.add(AttendanceClosure(day=day, closed_at=uow.now(), state="open"))
        uow.session.flush()
        return shared(DayClosedOut).dump({"day": day, "working_day": None, "provisional": True, "people": 0, "absent": 0,
                                    "late_or_early": 0, "accumulated": 0, "overtime": 0})
    uow.session.add(AttendanceClosure(day=day, closed_at=uow.now(), state="closed"))
    uow.session.flush()
    return shared(DayClosedOut).dump(_classify_day(uow, day, calendar))


def open_days(uow) -> list[date]:
    """C2: the days left open because their year had no calendar data."""
    return list(uow.scalars(select(AttendanceClosure.day).where(AttendanceClosure.state == "open")
                            .order_by(AttendanceClosure.day)))


def settle_open_days(uow) -> dict:
    """C2: once a year is loaded, every day of it left open is classified as the loaded
    calendar says — in date order (the 5-lates rule counts earlier days first). Each day is
    claimed with a conditional update (open → closed), so several instances or a redelivered
    event settle it once. Announced by ``staff.attendance_settled``."""
    from services.common.db import claim

    calendar = load_calendar(uow.session, uow.common, uow.township_id)
    rows = list(uow.scalars(select(AttendanceClosure).where(AttendanceClosure.state == "open")
                            .order_by(AttendanceClosure.day)))
    settled, working, absences = [], [], 0
    for row in rows:
        if calendar.is_provisional(row.day):
            continue
        if not claim(uow.session, AttendanceClosure, row.id, {"state": "open"},
                     {"state": "closed", "closed_at": uow.now()}):
            continue
        summary = _classify_day(uow, row.day, calendar)
        settled.append(row.day)
        if summary["working_day"]:
            working.append(row.day)
        absences += summary["absent"]
    if settled:
        uow.emit("staff.attendance_settled", days=[d.isoformat() for d in settled],
                 working_days=[d.isoformat() for d in working], absences=absences)
    return {"settled": [d.isoformat() for d in settled], "working_days": [d.isoformat() for d in working],
            "absences": absences}


def arrange_duty(uow, by: str, person_id: str, day, note: str | None = None) -> dict:
    """S4/C2a: the director arranges for a person to work on a day the hall is closed (who,
    which day, by whom). Only such work is overtime; a day the hall is open needs none, and a day
    already closed can no longer be arranged (its attendance is settled)."""
    person = periods.person(uow, person_id)
    day = periods.parse_day(day)
    calendar = load_calendar(uow.session, uow.common, uow.township_id)
    if not calendar.is_provisional(day) and calendar.is_working_day(day):
        raise field_error("day", "the hall is open that day: only a closed day's work is arranged")
    if uow.session.scalar(select(AttendanceClosure.id).where(AttendanceClosure.day == day,
                                                             AttendanceClosure.state == "closed")):
        raise Conflict(f"attendance of {day} is already closed")
    if uow.session.scalar(select(ArrangedDuty.id).where(ArrangedDuty.person_id == person.id,
                                                        ArrangedDuty.day == day)):
        raise Conflict(f"duty on {day} is already arranged for this person")
    duty = ArrangedDuty(person_id=person.id, day=day, arranged_by=by,
                        note=(note or "").strip() or None, created_at=uow.now())
    uow.session.add(duty)
    uow.session.flush()
    return shared(ArrangedDutyOut).dump(duty)


def arranged_duties(uow, day=None) -> list[dict]:
    stmt = select(ArrangedDuty).order_by(ArrangedDuty.day, ArrangedDuty.created_at)
    if day is not None:
        stmt = stmt.where(ArrangedDuty.day == periods.parse_day(day))
    return shared(ArrangedDutyOut, many=True).dump(uow.scalars(stmt))


def _overtime(uow, day: date, marks: dict) -> int:
    """C2a/S4: work on a day the hall was closed is overtime only when the director arranged it
    (``ArrangedDuty``): an arranged person who signed in is recorded as overtime and credited
    once per person and day (``holiday_overtime``). A sign-in on a closed day without an
    arrangement earns nothing and costs nothing (no record, no entry)."""
    arranged = set(uow.scalars(select(ArrangedDuty.person_id).where(ArrangedDuty.day == day)))
    people = {pid for (pid, _half), ms in marks.items() if any(m.kind == "in" for m in ms)} & arranged
    count = 0
    for pid in sorted(people):
        p = uow.session.get(Person, pid)
        if p is None:
            continue
        for half in HALVES:
            if marks.get((pid, half)):
                uow.session.add(AttendanceDay(person_id=pid, day=day, half=half, status="overtime",
                                              detail="worked on a closed day (C2a)", created_at=uow.now()))
        if scoring.add_entry(uow, pid, "holiday_overtime", day, "attendance", f"{day}:overtime",
                             "worked on a day the hall was closed (C2a)", window_id=p.window_id):
            count += 1
    uow.session.flush()
    return count


@dataclass
class _DayFacts:
    """What one day's classification reads (S2), each read once."""

    marks: dict      # (person, half) -> sign-in/out marks, in time order
    away: dict       # (person, half) -> minutes away from the post
    proxy: set       # (person, half) caught signing in for another, or signed in by another
    leaves: list     # approved leave touching the day


def _marks_of(uow, day: date) -> dict[tuple[str, str], list[AttendanceMark]]:
    marks: dict[tuple[str, str], list[AttendanceMark]] = {}
    for m in uow.scalars(select(AttendanceMark).where(AttendanceMark.day == day).order_by(AttendanceMark.at)):
        marks.setdefault((m.person_id, m.half), []).append(m)
    return marks


def _incidents_of(uow, day: date) -> tuple[dict, set]:
    away: dict[tuple[str, str], int] = {}
    proxy: set[tuple[str, str]] = set()
    for inc in uow.scalars(select(AttendanceIncident).where(AttendanceIncident.day == day)):
        if inc.kind == "away":
            away[(inc.person_id, inc.half)] = away.get((inc.person_id, inc.half), 0) + (inc.minutes or 0)
        else:
            proxy.add((inc.person_id, inc.half))
            proxy.add((inc.other_person_id, inc.half))
    return away, proxy


def _classify_session(uow, p: Person, day: date, half: str, facts: _DayFacts, settings: dict, tz) -> HalfResult:
    """One person's half-day: classified against the session (less leave), recorded, and a late
    arrival or early departure scored (S2, S4)."""
    s, e = session_hours(day, half, settings)
    start, end = periods.at_local(day, s, tz), periods.at_local(day, e, tz)
    whole, eff_start, eff_end = _session_window([lv for lv in facts.leaves if lv.person_id == p.id], start, end)
    ms = facts.marks.get((p.id, half), [])
    ins = [m.at for m in ms if m.kind == "in"]
    outs = [m.at for m in ms if m.kind == "out"]
    result = classify_half(
        min(ins) if ins else None, max(outs) if outs else None, eff_start, eff_end,
        late_grace=settings["late_grace_minutes"], early_grace=settings["early_grace_minutes"],
        away_minutes=facts.away.get((p.id, half), 0), away_limit=settings["away_limit_minutes"],
        on_leave=whole, proxy=(p.id, half) in facts.proxy)
    uow.session.add(AttendanceDay(person_id=p.id, day=day, half=half, status=result.status,
                                  detail=result.detail, created_at=uow.now()))
    if result.status in ("late", "late_early"):
        scoring.add_entry(uow, p.id, "late", day, "attendance", f"{day}:{half}:late", window_id=p.window_id)
    if result.status in ("early", "late_early"):
        scoring.add_entry(uow, p.id, "early_leave", day, "attendance", f"{day}:{half}:early",
                          window_id=p.window_id)
    return result


def _record_absences(uow, p: Person, day: date, results: dict[str, HalfResult]) -> int:
    """A whole day or a half-day absent: scored (S4) and announced for the A/B hand-over (C7)."""
    absent = [h for h in HALVES if results[h].status == "absent"]
    if len(absent) == 2:
        scoring.add_entry(uow, p.id, "absence_day", day, "attendance", f"{day}:day:absent",
                          window_id=p.window_id)
        uow.emit("staff.absence_recorded", person_id=p.id, day=day.isoformat(), half="day",
                 reason="absent all day")
    elif len(absent) == 1:
        [half] = absent
        scoring.add_entry(uow, p.id, "absence_half", day, "attendance", f"{day}:{half}:absent",
                          results[half].detail, window_id=p.window_id)
        uow.emit("staff.absence_recorded", person_id=p.id, day=day.isoformat(), half=half,
                 reason=results[half].detail)
    return len(absent)


def _classify_day(uow, day: date, calendar) -> dict:
    """Every expected person's day, in steps: read the day's facts, classify each half-day,
    record absences, then the 5-lates rule (S2). A closed day only credits overtime (C2a)."""
    settings = RULES.load(uow)
    working = calendar.is_working_day(day)
    summary = {"day": day, "working_day": working, "provisional": False, "people": 0, "absent": 0,
               "late_or_early": 0, "accumulated": 0, "overtime": 0}
    marks = _marks_of(uow, day)
    if not working:
        summary["overtime"] = _overtime(uow, day, marks)
        return summary  # no late, absence or finding on a day the hall was closed (C2a)
    facts = _DayFacts(marks, *_incidents_of(uow, day), _approved_leaves(uow, day))
    tz = periods.township_tz(uow)
    for p in expected_people(uow, settings):
        summary["people"] += 1
        results = {half: _classify_session(uow, p, day, half, facts, settings, tz) for half in HALVES}
        summary["late_or_early"] += sum(r.lates for r in results.values())
        summary["absent"] += _record_absences(uow, p, day, results)
        uow.session.flush()
        summary["accumulated"] += _five_lates(uow, p, day, settings)
    return summary


def _late_instances(uow, person_id: str, lo: date, hi: date) -> int:
    rows = uow.scalars(select(AttendanceDay).where(
        AttendanceDay.person_id == person_id, AttendanceDay.day >= lo, AttendanceDay.day <= hi,
        AttendanceDay.excused.is_(False)))
    return sum(HalfResult(r.status).lates for r in rows)


def _five_lates(uow, p: Person, day: date, settings) -> int:
    """S2: every 5th late/early within the calendar month adds one day's absence."""
    start, _ = periods.month_bounds(day)
    before = _late_instances(uow, p.id, start, day - timedelta(days=1)) if day > start else 0
    after = _late_instances(uow, p.id, start, day)
    crossed = accumulated_absences(before, after, settings["lates_per_absence_day"])
    for i, k in enumerate(crossed, 1):
        uow.session.add(AttendanceDay(person_id=p.id, day=day, half=f"a{i}", status="accumulated",
                                      detail=f"{k} lates/early leaves this month", created_at=uow.now()))
        scoring.add_entry(uow, p.id, "absence_day", day, "attendance", f"{day.strftime('%Y-%m')}:acc:{k}",
                          f"{k} lates/early leaves in the month", window_id=p.window_id)
    uow.session.flush()
    return len(crossed)


# -- weekly sheet, publication, objections --------------------------------------------------------

def _week_start(value) -> date:
    day = periods.parse_day(value, "week_start")
    if day.weekday() != 0:
        raise field_error("week_start", "a Monday")
    return day


def weekly_sheet(uow, week_start) -> dict:
    """The week's sheet (S2, internal T2): per person, per working day, am/pm status."""
    start = _week_start(week_start)
    end = start + timedelta(days=6)
    calendar = load_calendar(uow.session, uow.common, uow.township_id)
    days = [start + timedelta(days=i) for i in range(7)]
    working = [d for d in days if calendar.is_working_day(d)]
    rows = list(uow.scalars(select(AttendanceDay).where(AttendanceDay.day >= start, AttendanceDay.day <= end)))
    people = {p.id: p for p in uow.scalars(select(Person))}
    windows = {w.id: w.number for w in uow.scalars(select(Window))}
    settings = RULES.load(uow)
    listed = {p.id for p in expected_people(uow, settings)} | {r.person_id for r in rows}
    by_person: dict[str, dict] = {}
    for pid in listed:
        p = people.get(pid)
        if p is None:
            continue
        by_person[pid] = {"person_id": pid, "name": p.name, "badge_no": p.badge_no,
                          "window": windows.get(p.window_id), "days": {}, "late": 0, "early": 0,
                          "absent_halves": 0, "accumulated": 0, "leave_halves": 0}
    for r in rows:
        entry = by_person.get(r.person_id)
        if entry is None:
            continue
        status = "on_time" if r.excused else r.status
        if r.half in HALVES:
            entry["days"].setdefault(r.day.isoformat(), {})[r.half] = {"status": status, "id": r.id,
                                                                      "excused": r.excused}
        entry["late"] += status in ("late", "late_early")
        entry["early"] += status in ("early", "late_early")
        entry["absent_halves"] += status == "absent"
        entry["accumulated"] += status == "accumulated"
        entry["leave_halves"] += status == "leave"
    closed = {c.day for c in uow.scalars(select(AttendanceClosure).where(
        AttendanceClosure.day >= start, AttendanceClosure.day <= end))}
    pub = uow.session.scalar(select(WeeklyPublication).where(WeeklyPublication.week_start == start))
    return shared(SheetOut).dump({
        "week_start": start, "working_days": working, "closed_days": sorted(closed),
        "published_at": pub.published_at if pub else None,
        "objection_until": pub.objection_until if pub else None,
        "people": sorted(by_person.values(), key=lambda e: (e["window"] or 999, e["name"])),
    })


def weekly_csv(uow, week_start) -> str:
    """The weekly sheet as CSV text (the caller encodes UTF-8 with a BOM for Excel)."""
    sheet = weekly_sheet(uow, week_start)
    out = io.StringIO()
    writer = csvsafe.writer(out)
    header = ["姓名", "工号", "窗口"]
    for d in sheet["working_days"]:
        header += [f"{d} 上午", f"{d} 下午"]
    header += ["迟到", "早退", "旷工(半天)", "累计旷工(天)", "请假(半天)"]
    writer.writerow(header)
    for e in sheet["people"]:
        row = [e["name"], e["badge_no"] or "", e["window"] or ""]
        for d in sheet["working_days"]:
            for half in HALVES:
                status = e["days"].get(d, {}).get(half, {}).get("status")
                row.append(STATUS_ZH.get(status, "") if status else "")
        row += [e["late"], e["early"], e["absent_halves"], e["accumulated"], e["leave_halves"]]
        writer.writerow(row)
    return out.getvalue()


def publish_week(uow, week_start) -> dict:
    """Publish the week's sheet (S2 每周公示): every working day of it must be closed.
    Objections run until the end of the 2nd working day after publication."""
    start = _week_start(week_start)
    if uow.session.scalar(select(WeeklyPublication.id).where(WeeklyPublication.week_start == start)):
        raise Conflict(f"the week of {start} is already published")
    sheet = weekly_sheet(uow, start)
    unclosed = sorted(set(sheet["working_days"]) - set(sheet["closed_days"]))
    if unclosed:
        raise Conflict("close these days first: " + ", ".join(unclosed), {"week_start": unclosed})
    settings = RULES.load(uow)
    calendar = load_calendar(uow.session, uow.common, uow.township_id)
    today = periods.local_today(uow)
    until = calendar.add_working_days(today, settings["objection_working_days"]).day
    pub = WeeklyPublication(week_start=start, published_at=uow.now(), published_on=today, objection_until=until)
    uow.session.add(pub)
    uow.session.flush()
    uow.emit("staff.week_published", week_start=start.isoformat(), objection_until=until.isoformat())
    return shared(PublicationOut).dump(pub)


def object_to(uow, person_id: str, attendance_day_id: str, reason: str) -> dict:
    """A person objects to one of their own records within the objection period (S2)."""
    if not reason or not reason.strip():
        raise field_error("reason", "required")
    row = uow.get(AttendanceDay, attendance_day_id, "attendance record")
    if row.person_id != person_id:
        raise NotFound(f"attendance record {attendance_day_id} not found")
    if row.status in ("on_time", "leave", "rest") or row.excused:
        raise Conflict("nothing to object to in this record")
    week = row.day - timedelta(days=row.day.weekday())
    pub = uow.session.scalar(select(WeeklyPublication).where(WeeklyPublication.week_start == week))
    if pub is None:
        raise Conflict("the week's sheet is not published yet")
    if periods.local_today(uow) > pub.objection_until:
        raise Conflict(f"objections to this week closed on {pub.objection_until}",
                       {"objection_until": pub.objection_until.isoformat()})
    if uow.session.scalar(select(AttendanceObjection.id).where(
            AttendanceObjection.attendance_day_id == row.id, AttendanceObjection.state == "open")):
        raise Conflict("an objection to this record is already open")
    obj = AttendanceObjection(attendance_day_id=row.id, person_id=person_id, reason=reason.strip(),
                              state="open", created_at=uow.now())
    uow.session.add(obj)
    uow.session.flush()
    return shared(ObjectionOut).dump(obj)


def decide_objection(uow, by: str, objection_id: str, accept: bool) -> dict:
    """Accepting an objection excuses the record and withdraws its deductions."""
    obj = uow.get(AttendanceObjection, objection_id, "objection")
    if obj.state != "open":
        raise Conflict(f"objection already {obj.state}")
    obj.state, obj.decided_by = ("accepted" if accept else "rejected"), by
    if accept:
        row = uow.get(AttendanceDay, obj.attendance_day_id, "attendance record")
        row.excused = True
        from .models import ScoreEntry

        keys = [f"{row.day}:{row.half}:late", f"{row.day}:{row.half}:early", f"{row.day}:{row.half}:absent"]
        if row.status == "absent":
            keys.append(f"{row.day}:day:absent")
        uow.session.execute(delete(ScoreEntry).where(
            ScoreEntry.township_id == uow.township_id, ScoreEntry.person_id == row.person_id,
            ScoreEntry.source == "attendance",
            ScoreEntry.source_id.in_(keys)).execution_options(synchronize_session=False))
    uow.session.flush()
    return shared(ObjectionOut).dump(obj)
