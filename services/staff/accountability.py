"""S6 Accountability (责任追究): the ladder, repeat and self-report adjustments, home-unit
notices, appeal.

The ladder (seed 000 责任追究制; seed 004 十一.6): criticism (批评教育) < public criticism
(通报批评, with removal from the window) < disciplinary sanction (处分).

* base by severity: minor → criticism, serious → public criticism, grave → sanction;
* a second or later fault in the same calendar year weighs heavier (从重): one step up
  (so a repeated minor fault is a public criticism);
* self-reported and corrected weighs lighter (从轻): one step down (never below criticism);
* three violations of one kind (the same score rule) in a calendar month → the home unit is
  notified; two public criticisms in a year → returned to the home unit;
* an appeal (复核) within 30 working days of being notified of the decision (seed 004: 期限均不
  包括法定节假日) — the notification day is recorded (default: the day the fault is recorded)
  and not counted (Art. 201);
* public criticism or worse removes the person from the window at once: they leave the A/B post
  (the other post holds their cases), get no new cases and leave the public on-duty list
  (``organisation.remove_from_window``); the window and post are kept on the case, and an
  appeal that lowers the measure below removal (to criticism) puts the person back there, on
  record (``restored_at``; ``organisation.restore_to_window``).
"""
from __future__ import annotations

from sqlalchemy import func, select

from services.common.calendar import load_calendar
from services.common.errors import Conflict, NotFound, field_error

from . import periods
from services.contracts.staff import AccountabilityCase as CaseOut, HomeUnitNotice as HomeUnitNoticeOut

from .models import AccountabilityCase, HomeUnitNotice, Person, ScoreEntry
from .rules import RULES
from services.contracts import shared

MEASURES = ("criticism", "public_criticism", "sanction")
#: measures that are (or carry) a public criticism (通报批评): the I3 ladder's third step, a
#: written efficiency warning, comes with one (``noticeladder``, seed 004)
PUBLIC_CRITICISM = ("public_criticism", "efficiency_warning")
SEVERITY_BASE = {"minor": 0, "serious": 1, "grave": 2}


def ladder(severity: str, prior_faults_this_year: int, self_reported: bool) -> str:
    """The measure for a fault (pure)."""
    if severity not in SEVERITY_BASE:
        raise field_error("severity", "minor, serious or grave")
    level = SEVERITY_BASE[severity]
    if prior_faults_this_year >= 1:
        level += 1
    if self_reported:
        level -= 1
    return MEASURES[max(0, min(level, len(MEASURES) - 1))]


def notify_home_unit(uow, person: Person, kind: str, cause: str) -> bool:
    """Record (once per cause) that the home unit is told or the person returned to it, and
    announce it (``staff.home_unit_notified``); False if this cause was already recorded."""
    if uow.session.scalar(select(HomeUnitNotice.id).where(
            HomeUnitNotice.person_id == person.id, HomeUnitNotice.cause == cause)):
        return False
    uow.session.add(HomeUnitNotice(person_id=person.id, kind=kind, cause=cause, home_unit=person.home_unit,
                                   created_at=uow.now()))
    uow.session.flush()
    uow.emit("staff.home_unit_notified", person_id=person.id, home_unit=person.home_unit, kind=kind, cause=cause)
    return True


def check_same_kind(uow, person_id: str, rule_code: str, day) -> bool:
    """Three deductions of one rule in a calendar month → notify the home unit (once)."""
    settings = RULES.load(uow)
    start, end = periods.month_bounds(day)
    count = uow.session.scalar(select(func.count(ScoreEntry.id)).where(
        ScoreEntry.person_id == person_id, ScoreEntry.rule_code == rule_code, ScoreEntry.points < 0,
        ScoreEntry.day >= start, ScoreEntry.day <= end))
    if count < settings["same_kind_per_month_notice"]:
        return False
    person = uow.session.get(Person, person_id)
    return notify_home_unit(uow, person, "notice", f"{rule_code}:{start.strftime('%Y-%m')}")


def appeal_until(calendar, notified_on, days: int):
    """S6: the last day of the appeal period — ``days`` working days after the notification."""
    return calendar.add_working_days(notified_on, days)


def record_fault(uow, by: str, person_id: str, kind: str, severity: str, facts: str,
                 self_reported: bool = False, day=None, notified_on=None) -> dict:
    if not kind or not kind.strip():
        raise field_error("kind", "required")
    if not facts or not facts.strip():
        raise field_error("facts", "required")
    target = periods.person(uow, person_id, active=False)
    today = periods.local_today(uow)
    day = periods.parse_day(day) if day else today
    if day > today:
        raise field_error("day", "not in the future")
    notified = periods.parse_day(notified_on, "notified_on") if notified_on else today
    if notified > today:
        raise field_error("notified_on", "not in the future")
    if notified < day:
        raise field_error("notified_on", "not before the fault")
    year_start, year_end = day.replace(month=1, day=1), day.replace(month=12, day=31)
    prior = uow.session.scalar(select(func.count(AccountabilityCase.id)).where(
        AccountabilityCase.person_id == target.id, AccountabilityCase.day >= year_start,
        AccountabilityCase.day <= year_end))
    measure = ladder(severity, prior, bool(self_reported))
    settings = RULES.load(uow)
    calendar = load_calendar(uow.session, uow.common, uow.township_id)
    until = appeal_until(calendar, notified, settings["appeal_days"]).day
    case = AccountabilityCase(person_id=target.id, kind=kind.strip(), severity=severity,
                              self_reported=bool(self_reported), prior_faults=prior, measure=measure,
                              removed_from_window=measure != "criticism", facts=facts.strip(), day=day,
                              notified_on=notified, appeal_until=until, recorded_by=by, created_at=uow.now())
    uow.session.add(case)
    uow.session.flush()
    if case.removed_from_window:
        from .organisation import remove_from_window

        removed = remove_from_window(uow, target, f"{measure}: {case.kind}", case.id)
        case.removed_window_id, case.removed_post = removed["window_id"], removed["post"]
        uow.session.flush()
    if measure in PUBLIC_CRITICISM:
        check_public_criticisms(uow, target, day)
    if measure == "sanction":
        sanctioned(uow, target, case)
    return shared(CaseOut).dump(case)


def check_public_criticisms(uow, target: Person, day) -> bool:
    """Two public criticisms in a year (the I3 ladder's efficiency warning carries one) →
    returned to the home unit (S6, seed 004 (5.2)); once a year."""
    publics = uow.session.scalar(select(func.count(AccountabilityCase.id)).where(
        AccountabilityCase.person_id == target.id, AccountabilityCase.measure.in_(PUBLIC_CRITICISM),
        AccountabilityCase.day >= day.replace(month=1, day=1), AccountabilityCase.day <= day.replace(month=12, day=31)))
    if publics >= RULES.load(uow)["public_criticisms_to_return"]:
        return notify_home_unit(uow, target, "return", f"public_criticism:{day.year}")
    return False


def sanctioned(uow, target: Person, case: AccountabilityCase) -> bool:
    """A disciplinary sanction returns the person to the home unit (S5, seed 004 (5.3)); the
    year-end board shows it too (``yearend``)."""
    return notify_home_unit(uow, target, "return", f"sanction:{case.id}")


def appeal(uow, person_id: str, case_id: str, reason: str) -> dict:
    case = uow.get(AccountabilityCase, case_id, "accountability case")
    if case.person_id != person_id:
        raise NotFound(f"accountability case {case_id} not found")
    if not reason or not reason.strip():
        raise field_error("reason", "required")
    if case.appeal_state is not None:
        raise Conflict("already appealed")
    # recomputed now from the notification (C2: a period resting on an unloaded year firms up;
    # while provisional, nobody loses the right to appeal on it)
    calendar = load_calendar(uow.session, uow.common, uow.township_id)
    until = appeal_until(calendar, case.notified_on or case.day, RULES.load(uow)["appeal_days"])
    case.appeal_until = until.day
    if periods.local_today(uow) > until.day and not until.provisional:
        raise Conflict(f"the appeal period ended on {until.day}", {"appeal_until": until.day.isoformat()})
    case.appeal_state, case.appeal_reason = "open", reason.strip()
    uow.session.flush()
    return shared(CaseOut).dump(case)


def decide_appeal(uow, case_id: str, upheld: bool, revised_measure: str | None = None) -> dict:
    case = uow.get(AccountabilityCase, case_id, "accountability case")
    if case.appeal_state != "open":
        raise Conflict("no open appeal")
    if upheld:
        case.appeal_state = "upheld"
    else:
        if revised_measure not in MEASURES:
            raise field_error("revised_measure", ", ".join(MEASURES))
        was_removed = case.removed_from_window
        case.appeal_state, case.revised_measure = "revised", revised_measure
        case.removed_from_window = revised_measure != "criticism"
        if was_removed and not case.removed_from_window:
            _restore(uow, case)
    uow.session.flush()
    return shared(CaseOut).dump(case)


def _restore(uow, case: AccountabilityCase) -> None:
    """S6: the appeal lowered the measure below removal — the removal is undone: the person goes
    back to the window (and post) it took them from, unless another case's removal still stands."""
    from .organisation import restore_to_window

    others = uow.session.scalar(select(func.count(AccountabilityCase.id)).where(
        AccountabilityCase.person_id == case.person_id, AccountabilityCase.id != case.id,
        AccountabilityCase.removed_from_window.is_(True)))
    if others:
        return
    person = uow.session.get(Person, case.person_id)
    if person is not None and restore_to_window(uow, person, case.removed_window_id, case.removed_post):
        case.restored_at = uow.now()


def list_cases(uow, person_id: str | None = None) -> list[dict]:
    stmt = select(AccountabilityCase).order_by(AccountabilityCase.day.desc(), AccountabilityCase.created_at.desc())
    if person_id:
        stmt = stmt.where(AccountabilityCase.person_id == person_id)
    return shared(CaseOut, many=True).dump(uow.scalars(stmt))


def list_notices(uow) -> list[dict]:
    return shared(HomeUnitNoticeOut, many=True).dump(uow.scalars(select(HomeUnitNotice).order_by(HomeUnitNotice.created_at)))
