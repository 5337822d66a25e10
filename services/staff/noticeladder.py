"""S6 / I3 One-time-notice ladder (一次性告知): violations of the one-time notice escalate per
person (seed 004, 一次性告知制 6): the 1st brings an oral warning (口头警告), the 2nd an
admonition talk (诫勉谈话), the 3rd a written efficiency warning (效能告诫书) with public
criticism (通报批评). A 4th and later take the ladder's last step again.

How a violation reaches staff: intake refuses a clerk's later request for a material that was
not on the one-time notice and emits ``intake.notice_violation`` (I3); staff deducts
``notice_incomplete`` −3 for it (S4, ``scoring.on_notice_violation``) and — here — puts the
person one step up the ladder. An inspector's hand-recorded ``notice_incomplete`` deduction
(e.g. after a complaint about an incomplete notice is verified, seed 004) climbs it too.

Each step is on record twice over: a ``NoticeLadderStep`` (the violation, its ordinal, unique
per source, so a redelivered event climbs once) and the decision as an ``AccountabilityCase``
of kind ``one_time_notice`` (listed with the faults, appealable within 30 working days like
any other). The efficiency warning counts as a public criticism for "two public criticisms in a
year → returned to the home unit" (``accountability.check_public_criticisms``); the seed names
no removal from the window for it, so none follows. Like any fault, a step counts among the
person's faults of the year (a later fault weighs heavier, 从重).

Counting (settings): ``notice_ladder`` is the list of measures by ordinal (rules are data);
``notice_ladder_per_year`` (default on) counts the violations of the calendar year of the
violation — the seed gives no period, and the assessment it feeds is yearly; off counts ever.
Two violations of one person handled at once are serialised on the person's row, so they get
the 1st and the 2nd step, never two 1st.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from services.common.calendar import load_calendar
from . import accountability, periods, scoring
from .models import AccountabilityCase, NoticeLadderStep, Person
from .rules import RULES

#: the S4 rule an I3 violation deducts by (its hand-recorded entries climb the ladder too)
I3_RULE = "notice_incomplete"
KIND = "one_time_notice"
LABELS = {"oral_warning": "口头警告", "admonition_talk": "诫勉谈话", "efficiency_warning": "效能告诫书并通报批评"}
REASONS = {"not_on_first_notice": "所需材料未列入首次告知", "not_in_catalogue": "索要办事指南以外的材料"}


# -- pure rule ------------------------------------------------------------------------

def measure_for(ordinal: int, ladder: list[str]) -> str:
    """The measure for a person's ``ordinal``-th violation (1-based); past the end, the last."""
    if ordinal < 1:
        raise ValueError("ordinal starts at 1")
    return ladder[min(ordinal, len(ladder)) - 1]


# -- use cases ------------------------------------------------------------------------

def _lock_person(uow, person_id: str) -> Person | None:
    """The person's row, locked until commit (PostgreSQL; SQLite writes one at a time anyway)."""
    return uow.session.scalars(select(Person).where(Person.id == person_id).with_for_update()).first()


def climb(uow, person: Person, day: date, source: str, source_id: str, application_id: str | None = None,
          material: str | None = None, reason: str | None = None, by: str | None = None) -> NoticeLadderStep | None:
    """One violation: the next step for ``person`` (None if this source already climbed)."""
    settings = RULES.load(uow)
    _lock_person(uow, person.id)
    if uow.session.scalar(select(NoticeLadderStep.id).where(
            NoticeLadderStep.source == source, NoticeLadderStep.source_id == source_id)):
        return None
    earlier = select(func.count(NoticeLadderStep.id)).where(NoticeLadderStep.person_id == person.id)
    if settings["notice_ladder_per_year"]:
        earlier = earlier.where(NoticeLadderStep.day >= day.replace(month=1, day=1),
                                NoticeLadderStep.day <= day.replace(month=12, day=31))
    ordinal = uow.session.scalar(earlier) + 1
    measure = measure_for(ordinal, settings["notice_ladder"])
    prior_faults = uow.session.scalar(select(func.count(AccountabilityCase.id)).where(
        AccountabilityCase.person_id == person.id, AccountabilityCase.day >= day.replace(month=1, day=1),
        AccountabilityCase.day <= day.replace(month=12, day=31)))
    facts = f"未履行一次性告知（I3）第{ordinal}次：{LABELS[measure]}"
    if material:
        facts += f"；补要材料「{material}」"
    if reason:
        facts += f"（{REASONS.get(reason, reason)}）"
    calendar = load_calendar(uow.session, uow.common, uow.township_id)
    case = AccountabilityCase(
        person_id=person.id, kind=KIND, severity="minor", self_reported=False, prior_faults=prior_faults,
        measure=measure, removed_from_window=False, facts=facts, day=day, notified_on=day,
        appeal_until=accountability.appeal_until(calendar, day, settings["appeal_days"]).day,
        recorded_by=by, created_at=uow.now())
    uow.session.add(case)
    uow.session.flush()
    step = NoticeLadderStep(person_id=person.id, day=day, source=source, source_id=source_id,
                            application_id=application_id, material=material, reason=reason, ordinal=ordinal,
                            measure=measure, accountability_case_id=case.id, created_at=uow.now())
    uow.session.add(step)
    uow.session.flush()
    if measure in accountability.PUBLIC_CRITICISM:
        accountability.check_public_criticisms(uow, person, day)
    return step


def on_notice_violation(uow, event):
    """``intake.notice_violation`` (I3): the S4 deduction, then the S6 ladder's next step."""
    entry = scoring.on_notice_violation(uow, event)
    person = scoring._known_person(uow, event["person_id"])
    if person is not None:
        climb(uow, person, scoring._event_day(uow, event), event["event_type"], event["event_id"],
              application_id=event.get("application_id"), material=event.get("material"),
              reason=event.get("reason"))
    return entry


def record_score(uow, by_person_id: str, person_id: str, rule_code: str, reason: str, day=None) -> dict:
    """An inspector's deduction or credit (S4, ``scoring.manual_entry``); an I3 deduction by hand
    puts the person one step up the ladder as well."""
    out = scoring.manual_entry(uow, by_person_id, person_id, rule_code, reason, day)
    if rule_code == I3_RULE:
        person = periods.person(uow, person_id)
        climb(uow, person, periods.parse_day(out["day"]), "manual", out["id"], by=by_person_id)
    return out


def steps(uow, person_id: str | None = None) -> list[NoticeLadderStep]:
    stmt = select(NoticeLadderStep).order_by(NoticeLadderStep.day, NoticeLadderStep.created_at)
    if person_id:
        stmt = stmt.where(NoticeLadderStep.person_id == person_id)
    return list(uow.scalars(stmt))
