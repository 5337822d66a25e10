"""Timer sweeps (DOMAIN C5, C6, C7, I5): plain functions ``sweep(run)`` (services.common.sweep)
the service's sweep timer calls.

Each sweep finds candidates across townships, then, township by township, claims every row
with an atomic conditional UPDATE before acting (``services.common.db.claim`` one row at a
time; the reminder and overdue sweeps, C5, a chunk of rows with one ``UPDATE … WHERE id IN (…)
AND <still unclaimed> … RETURNING id``), so several instances running at once act exactly
once: one reminder per deadline, one ``case_overdue`` per case, one tacit approval, one silence
flag, one hand-over per absence.
Nothing irreversible happens on a provisional deadline (C2): no overdue, no tacit approval.
"""
from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import load_only

from services.common.calendar import load_calendar
from services.common.clock import DEFAULT_TZ, earliest_local_date, latest_local_date, local_date
from services.common.db import NATIONAL, claim

from . import deadlines, posts, reviews
from .casebook import (
    RUNNING, audit, awaits_upper, calendar, claim_chunk, insert_trail, mark_overdue_many, silence_due, today, trail,
    transition,
)
from .models import Absence, Case, Review, TownshipCopy
from .rules import RULES

log = logging.getLogger(__name__)

#: I5: an escalated case once forwarded waits for the upper level (never reminded or overdue here)
FORWARDED = (Case.kind == "escalated") & Case.escalated_on.is_not(None)
#: C5: not yet reminded of its present deadline (a new deadline gets its own reminder)
NOT_REMINDED = Case.reminded_for.is_(None) | (Case.reminded_for != Case.due_date)


def _by_own_date(uow, condition):
    """``condition(local_date)`` for each case at its own township's date now (the zone of the
    township's copy, else ``DEFAULT_TZ``, as ``casebook.today``), as one SQL condition: one arm a
    zone. A candidate query bounds by the dates any township can have (an index range), this
    keeps out what no township of the case's zone can act on yet — a case due today in Shanghai
    is not read again every sweep while UTC+14 is a day ahead (issue 9)."""
    now = uow.now()
    zones: dict[str, list[str]] = {}
    for township_id, tz in uow.session.execute(select(TownshipCopy.id, TownshipCopy.timezone)):
        zones.setdefault(tz or DEFAULT_TZ, []).append(township_id)
    known = [township_id for ids in zones.values() for township_id in ids]
    return or_(*(Case.township_id.in_(ids) & condition(local_date(now, tz)) for tz, ids in zones.items()),
               Case.township_id.not_in(known) & condition(local_date(now, DEFAULT_TZ)))

def _rows(uow, stmt) -> list[tuple[str, str]]:
    """(township_id, id) of the rows a sweep looks at (``stmt`` selects id, township_id); each
    is re-read and claimed."""
    return [(tid, cid) for cid, tid in uow.session.execute(stmt).all()]

def _candidates(run, stmt) -> list[tuple[str, str]]:
    """``_rows`` in a unit of work of its own, for a sweep whose query needs no bound read first."""
    with run.unit_of_work() as uow:
        return _rows(uow, stmt)

def remind(uow, case_ids) -> int:
    """C5 催办 for a chunk of one township's candidates, once per deadline: read together, judged
    by the township's date, calendar and setting, and those due claimed with one conditional
    UPDATE (``reminded_for`` still not their due date, and the due date still the one judged —
    a deadline moved meanwhile is judged afresh by the next sweep); the trail rows and the
    ``case_reminder`` events in one INSERT each. How many were reminded here."""
    settings = RULES.load(uow)
    cal, day = calendar(uow), today(uow)
    cases = [case for case in uow.session.scalars(select(Case).where(Case.id.in_(case_ids)))
             if case.state in RUNNING and case.due_date is not None and case.reminded_for != case.due_date
             and not awaits_upper(case)
             and deadlines.reminder_due(cal, day, case.due_date, settings["reminder_working_days"])]
    if not cases:
        return 0
    now = uow.now()
    claimed = claim_chunk(uow, cases, NOT_REMINDED, {"reminded_for": Case.due_date, "reminded_at": now},
                          lambda case: {"reminded_for": case.due_date, "reminded_at": now})
    if claimed:
        insert_trail(uow, [trail(uow, case, "reminded", None, f"due {case.due_date}") for case in claimed])
        uow.emit_many("cases.case_reminder", [dict(
            case_id=case.id, receipt_no=case.receipt_no, holder_person_id=case.holder_person_id,
            window_id=case.window_id, due_date=case.due_date.isoformat(), provisional=bool(case.provisional))
            for case in claimed])
    return len(claimed)

def reminder_window(uow) -> tuple[date, date]:
    """C5: the due dates a reminder can be due for somewhere now, as ``[first, last]``: a reminder
    is due from the start of the last N working days up to the due day itself
    (``deadlines.reminder_due``). No township's date is earlier than the date at UTC−12 nor later
    than ``clock.latest_local_date``, no township's N is above the largest setting, and the
    (N+1)-th working day after a day comes no earlier on any calendar loaded here (the national
    one, and each with a township's own days) than on that township's — so a due date outside
    cannot be reminded anywhere. 10^6 open cases are not all read each sweep (issue 9)."""
    now = uow.now()
    settings = uow.common.settings
    most = max([RULES.defaults()["reminder_working_days"], *uow.session.scalars(
        select(settings.c.value).where(settings.c.key == "reminder_working_days"))])
    days = uow.common.calendar_days
    scopes = [None, *(s for s in uow.session.scalars(select(days.c.scope).distinct()) if s != NATIONAL)]
    latest = latest_local_date(now)
    last = max(load_calendar(uow.session, uow.common, scope).add_working_days(latest, most + 1).day
               for scope in scopes) - timedelta(days=1)
    return earliest_local_date(now), last

def sweep_reminders(run) -> int:
    """C5 催办: once the last N working days begin (default 1), remind the holder — once per
    deadline (a new deadline after an extension or a pause gets its own reminder). Candidates
    are the running cases due within ``reminder_window`` (the partial index
    ``ix_cases_running_due`` finds them), done a chunk of one township at a time."""
    with run.unit_of_work() as uow:  # the bounds and the candidates read in one transaction
        first, last = reminder_window(uow)
        candidates = _rows(uow, select(Case.id, Case.township_id).where(
            Case.state.in_(RUNNING), Case.due_date.is_not(None), Case.due_date >= first, Case.due_date <= last,
            _by_own_date(uow, lambda day: Case.due_date >= day), NOT_REMINDED, ~FORWARDED))
    return run.each_batch("reminders", candidates, remind)

#: what judging and counting a case overdue reads: a chunk loads these, not all ~60 columns (and
#: reading any other raises, rather than costing a query a case)
OVERDUE_COLUMNS = (Case.township_id, Case.state, Case.kind, Case.provisional, Case.escalated_on, Case.due_date,
                   Case.handler_person_id, Case.holder_person_id, Case.receipt_no, Case.window_id)

def overdue(uow, case_ids) -> int:
    """C5 for a chunk of one township's candidates: read together, each judged by the township's
    date, the overdue ones counted together (``casebook.mark_overdue_many`` claims them)."""
    day = today(uow)
    cases = uow.session.scalars(
        select(Case).options(load_only(*OVERDUE_COLUMNS, raiseload=True)).where(Case.id.in_(case_ids))).all()
    return mark_overdue_many(uow, [case for case in cases
                                   if case.state in RUNNING and not case.provisional and not awaits_upper(case)
                                   and deadlines.is_overdue(day, case.due_date)])

def sweep_overdue(run) -> int:
    """C5: every undecided case past its (non-provisional) due date, exactly once.

    Only cases whose due date can have passed in some township are candidates: no township's
    date is later than ``clock.latest_local_date``, so a due date from then on cannot be overdue
    anywhere (the partial index ``ix_cases_running_due`` finds them among 10^6 open cases).
    They are done a chunk of one township at a time (``run.each_batch``: one read, one claiming
    UPDATE, one INSERT of trail rows and one of events a chunk; 10^4 marked one unit of work
    each took ~100 s, issue 9); each is still judged by its own township's date."""
    with run.unit_of_work() as uow:  # the bounds and the candidates read in one transaction
        candidates = _rows(uow, select(Case.id, Case.township_id).where(
            Case.state.in_(RUNNING), Case.overdue_at.is_(None), Case.provisional.is_(False),
            Case.due_date.is_not(None), Case.due_date < latest_local_date(uow.now()),
            _by_own_date(uow, lambda day: Case.due_date < day), ~FORWARDED))
    return run.each_batch("overdue", candidates, overdue)

def approve_tacitly(uow, case_id) -> bool:
    """C6 for one case: claimed on its undecided outcome."""
    settings = RULES.load(uow)
    case = uow.session.get(Case, case_id)
    if not settings["tacit_approval_enabled"] or case.kind not in settings["tacit_approval_kinds"]:
        return False
    if case.state not in RUNNING or case.provisional or awaits_upper(case) \
            or not deadlines.is_overdue(today(uow), case.due_date):
        return False
    if not claim(uow.session, Case, case.id, {"state": case.state, "outcome": None},
                 {"outcome": "tacitly_approved", "decided_at": uow.now()}):
        return False
    uow.session.refresh(case)
    transition(uow, case, "decided", "decided", None, "tacit approval: no decision by the deadline (C6)",
               action="tacitly_approved")
    uow.emit("cases.case_tacitly_approved", case_id=case.id, receipt_no=case.receipt_no,
             handler_person_id=case.overdue_person_id or case.handler_person_id,
             due_date=case.due_date.isoformat())
    return True

def sweep_tacit_approval(run) -> int:
    """C6 超时默许: a case of an allowed kind past its deadline, undecided, is approved
    automatically when the township's switch is on and its item allows it; still overdue (C5)."""
    stmt = select(Case.id, Case.township_id).where(Case.state.in_(RUNNING), Case.overdue_at.is_not(None),
                                                   Case.tacit_allowed.is_(True), Case.provisional.is_(False))
    return run.each("tacit", _candidates(run, stmt), approve_tacitly)

def flag_silence(uow, case_id) -> bool:
    """I5 for one case: claimed on ``silence_flagged_at``."""
    case = uow.session.get(Case, case_id)
    limit = silence_due(calendar(uow), case.escalated_on, RULES.load(uow)["escalation_silence_days"])
    if today(uow) <= limit.day:
        return False
    if not claim(uow.session, Case, case.id, {"silence_flagged_at": None}, {"silence_flagged_at": uow.now()}):
        return False
    audit(uow, case, "escalation_silent", None, f"no answer from above by {limit.day}: explanation due")
    uow.emit("cases.escalation_silent", case_id=case.id, receipt_no=case.receipt_no,
             holder_person_id=case.holder_person_id, escalated_on=case.escalated_on.isoformat(),
             silent_since=limit.day.isoformat())
    return True

def sweep_escalation_silence(run) -> int:
    """I5: an escalated case whose upper level is silent for N calendar days (Art. 203 roll-over)
    is flagged once; an explanation must then be put on record."""
    stmt = select(Case.id, Case.township_id).where(Case.escalated_on.is_not(None), Case.upper_answered_on.is_(None),
                                                   Case.silence_flagged_at.is_(None), Case.state.in_(("escalated", "suspended")))
    return run.each("silence", _candidates(run, stmt), flag_silence)

def flag_target(uow, case_id) -> bool:
    """I5 for one immediate case past its target: claimed on ``target_flagged_at``."""
    case = uow.session.get(Case, case_id)
    if case.state not in RUNNING or case.target_at is None or case.target_at >= uow.now():
        return False
    if not claim(uow.session, Case, case.id, {"target_flagged_at": None}, {"target_flagged_at": uow.now()}):
        return False
    uow.session.refresh(case)
    audit(uow, case, "target_missed", None, f"immediate case still open past its target {case.target_at} (I5)")
    uow.emit("cases.immediate_target_missed", case_id=case.id, receipt_no=case.receipt_no,
             holder_person_id=case.holder_person_id, window_id=case.window_id,
             target_at=case.target_at.isoformat(), director_person_ids=posts.directors(uow))
    return True

def sweep_immediate_targets(run) -> int:
    """I5: an immediate case (即办件) still open past its target (default 30 minutes) is flagged
    once and the director told (``cases.immediate_target_missed``); the director lists them with
    ``GET /cases?past_target=true``. Not a deduction: overdue is still the due day (C5)."""
    with run.unit_of_work() as uow:
        candidates = _rows(uow, select(Case.id, Case.township_id).where(
            Case.kind == "immediate", Case.state.in_(RUNNING), Case.target_at.is_not(None),
            Case.target_at < uow.now(), Case.target_flagged_at.is_(None)))
    return run.each("immediate_targets", candidates, flag_target)

def hand_over(uow, absence_id) -> int:
    """C7: A's cases to B (``posts.hand_over`` claims the absence)."""
    return posts.hand_over(uow, uow.session.get(Absence, absence_id)).get("moved", 0)

def bring_back(uow, absence_id) -> int:
    """C7: an absence that has ended, claimed on ``returned_at``, brings A's cases back."""
    absence = uow.session.get(Absence, absence_id)
    if not claim(uow.session, Absence, absence.id, {"returned_at": None}, {"returned_at": absence.ends_at}):
        return 0
    return posts.bring_back(uow, absence.person_id, "absence ended (C7)").get("returned", 0)

def sweep_absences(run) -> int:
    """C7: leave that has begun hands A's cases to B; an absence that has ended brings them back.
    Counts the cases moved."""
    with run.unit_of_work() as uow:
        now = uow.now()
        starting = [(a.township_id, a.id) for a in uow.scalars(select(Absence).where(
            Absence.handed_over_at.is_(None), Absence.returned_at.is_(None), Absence.starts_at <= now))]
        ending = [(a.township_id, a.id) for a in uow.scalars(select(Absence).where(
            Absence.source == "absence", Absence.returned_at.is_(None), Absence.ends_at <= now))]
    return run.each("hand_over", starting, hand_over) + run.each("bring_back", ending, bring_back)

def sweep_reviews(run) -> int:
    """C10: a pending review's deciders are reminded before its due day, and once past it the
    review is overdue once (the directors told too), never on a provisional due day (C2: the
    calendar recompute, recompute.py, recounts it once its year is loaded). Each claimed, so
    instances act once."""
    with run.unit_of_work() as uow:
        horizon = latest_local_date(uow.now())  # no township's date is later: a bound, each judged by its own
        reminding = _rows(uow, select(Review.id, Review.township_id).where(
            Review.state == "pending", Review.reminded_at.is_(None)))
        late = _rows(uow, select(Review.id, Review.township_id).where(
            Review.state == "pending", Review.overdue_at.is_(None), Review.provisional.is_not(True),
            Review.due_date < horizon))
    return (run.each("review_reminders", reminding, reviews.remind)
            + run.each("review_overdue", late, reviews.mark_overdue))


def sweep(run) -> dict:
    """Everything, in order: hand-overs first (so the right person is reminded), overdue before
    tacit approval (a tacitly approved case is still overdue)."""
    return {
        "absences": sweep_absences(run),
        "reminders": sweep_reminders(run),
        "overdue": sweep_overdue(run),
        "tacit": sweep_tacit_approval(run),
        "silence": sweep_escalation_silence(run),
        "immediate_targets": sweep_immediate_targets(run),
        "reviews": sweep_reviews(run),
    }
