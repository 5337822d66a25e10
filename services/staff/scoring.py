"""S4 Scoring (考核): the rule table, deductions and credits, category caps.

A quarter starts at ``base_points`` (100). Every deduction or credit is a ``ScoreEntry``
naming its rule (code, category, points from the township's ``score_rules`` table, seeded
with ``rules.SCORE_RULE_SEEDS``). Deductions stop at zero within a category (its cap: 服务态度
15, 工作纪律 20, 业务办理 30, 业务技能 10, 计算机管理 15, 环境卫生 10); credits (加分) are added on
top, so a total may exceed 100.

Where entries come from: events (cases.case_overdue → the handler, intake.notice_violation,
cases.fee_violation, complaints.complaint_verified, staff.patrol_finding), attendance
(attendance.close_day), and inspectors by hand with a reason. Each source counts exactly
once: ``(source, source_id, person_id)`` is unique, on top of the handler's ``handle_once``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from services.common.errors import field_error

from services.contracts.staff import ScoreEntry as EntryOut, ScoreRule as RuleOut

from . import periods, substitutes
from .models import ApplicantRating, Person, ScoreEntry, ScoreRule, VerifiedComplaint, Window
from .rules import CREDIT_CATEGORY, RULES, SCORE_RULE_SEEDS
from services.contracts import shared

log = logging.getLogger(__name__)


# -- pure rules ---------------------------------------------------------------------

@dataclass(frozen=True)
class Scored:
    total: float
    by_category: dict
    credits: int
    deducted: int  # raw deductions (before caps), positive


def centre_score(entries, caps: dict, base: int = 100) -> Scored:
    """S4: ``entries`` are (category, points). Deductions in a category stop at its cap
    (the category cannot go below zero); credits are added on top, uncapped.

    >>> centre_score([("工作纪律", -25), ("加分", 2)], {"工作纪律": 20}).total
    82
    """
    deducted: dict[str, int] = {c: 0 for c in caps}
    credits, raw = 0, 0
    for category, points in entries:
        if points > 0 or category == CREDIT_CATEGORY:
            credits += points
            continue
        raw += -points
        deducted[category] = deducted.get(category, 0) + (-points)
    by_category, lost = {}, 0
    for category, amount in deducted.items():
        cap = caps.get(category)
        counted = amount if cap is None else min(amount, cap)
        lost += counted
        by_category[category] = {
            "cap": cap, "deducted": amount, "counted": counted,
            "score": None if cap is None else cap - counted,
        }
    return Scored(base - lost + credits, by_category, credits, raw)


# -- the rule table -------------------------------------------------------------------

def ensure_rules(uow) -> dict[str, ScoreRule]:
    """The township's rule table, seeded with the defaults the first time."""
    rules = {r.code: r for r in uow.scalars(select(ScoreRule))}
    missing = [code for code in SCORE_RULE_SEEDS if code not in rules]
    for code in missing:
        category, points, description = SCORE_RULE_SEEDS[code]
        rule = ScoreRule(code=code, category=category, points=points, description=description, active=True)
        uow.session.add(rule)
        rules[code] = rule
    if missing:
        uow.session.flush()
    return rules


def list_rules(uow) -> list[dict]:
    rules = ensure_rules(uow)
    return shared(RuleOut, many=True).dump(sorted(rules.values(), key=lambda r: (r.category, r.code)))


def update_rule(uow, code: str, points=None, category=None, description=None, active=None) -> dict:
    """A director changes (or adds) a rule: rules are data. Deductions are negative points,
    credits positive and in the 加分 category."""
    settings = RULES.load(uow)
    rules = ensure_rules(uow)
    if not code or len(code) > 40:
        raise field_error("code", "1–40 characters")
    rule = rules.get(code)
    if rule is None and (points is None or category is None or not description):
        raise field_error("points", "a new rule needs points, category and description")
    new_category = category if category is not None else rule.category
    new_points = points if points is not None else rule.points
    if new_category not in settings["category_caps"] and new_category != CREDIT_CATEGORY:
        raise field_error("category", f"one of {', '.join(list(settings['category_caps']) + [CREDIT_CATEGORY])}")
    if not isinstance(new_points, int) or isinstance(new_points, bool) or new_points == 0 or abs(new_points) > 100:
        raise field_error("points", "a non-zero whole number within ±100")
    if (new_category == CREDIT_CATEGORY) != (new_points > 0):
        raise field_error("points", "credits are positive and in 加分; deductions negative elsewhere")
    if rule is None:
        rule = ScoreRule(code=code, category=new_category, points=new_points, description=description,
                         active=True)
        uow.session.add(rule)
    rule.category, rule.points = new_category, new_points
    if description is not None:
        rule.description = description
    if active is not None:
        rule.active = bool(active)
    uow.session.flush()
    return shared(RuleOut).dump(rule)


# -- entries --------------------------------------------------------------------------

def add_entry(uow, person_id: str, rule_code: str, day: date, source: str, source_id: str,
              reason: str | None = None, recorded_by: str | None = None, window_id: str | None = None):
    """Record one deduction/credit by rule; None if this source already counted for the
    person (exactly once), or the rule is switched off."""
    rules = ensure_rules(uow)
    rule = rules.get(rule_code)
    if rule is None:
        raise field_error("rule_code", f"no rule {rule_code!r}")
    if not rule.active:
        return None
    seen = uow.session.scalar(select(ScoreEntry.id).where(
        ScoreEntry.source == source, ScoreEntry.source_id == source_id, ScoreEntry.person_id == person_id))
    if seen:
        return None
    # S3: a substitute's entry is charged to the window they stand in for (substitutes.py)
    window_id, stood_in = substitutes.charged_window(uow, person_id, day, window_id)
    entry = ScoreEntry(person_id=person_id, rule_code=rule.code, category=rule.category, points=rule.points,
                       day=day, quarter=periods.quarter_of(day), source=source, source_id=source_id,
                       reason=reason, recorded_by=recorded_by, window_id=window_id, created_at=uow.now(),
                       substitute_leave_id=stood_in)
    uow.session.add(entry)
    uow.session.flush()
    if entry.points < 0:
        from . import accountability  # S6: three of a kind in a month

        accountability.check_same_kind(uow, person_id, rule.code, day)
    return entry


def manual_entry(uow, by_person_id: str, person_id: str, rule_code: str, reason: str, day=None) -> dict:
    """An inspector deducts (or credits) by hand, always with a reason (S4)."""
    if not reason or not str(reason).strip():
        raise field_error("reason", "a reason is required")
    target = periods.person(uow, person_id)
    day = periods.parse_day(day) if day else periods.local_today(uow)
    if day > periods.local_today(uow):
        raise field_error("day", "not in the future")
    rule = ensure_rules(uow).get(rule_code)
    if rule is not None and rule.points < 0:
        periods.refuse_closed_day(uow, day)  # C2a: nothing counts against a person for a closed day
    from services.common.db import new_id

    entry = add_entry(uow, target.id, rule_code, day, "manual", new_id(), reason=str(reason).strip(),
                      recorded_by=by_person_id, window_id=target.window_id)
    if entry is None:
        raise field_error("rule_code", "this rule is switched off")
    return shared(EntryOut).dump(entry)


def person_entries(uow, person_id: str, quarter: str) -> list[dict]:
    periods.parse_quarter(quarter)
    periods.person(uow, person_id, active=False)
    rows = uow.scalars(select(ScoreEntry).where(ScoreEntry.person_id == person_id, ScoreEntry.quarter == quarter)
                       .order_by(ScoreEntry.day, ScoreEntry.created_at))
    return shared(EntryOut, many=True).dump(rows)


# -- effects of other services' events ------------------------------------------------------

def _known_person(uow, person_id: str | None) -> Person | None:
    if not person_id:
        return None
    p = uow.session.get(Person, person_id)
    if p is None or p.township_id != uow.township_id:
        log.warning("event for a person unknown to this township; not scored")
        return None
    return p


def _event_day(uow, event, field: str | None = None) -> date:
    if field and event.get(field):
        return event[field]
    return periods.local(event["occurred_at"], periods.township_tz(uow)).date()


def score_event(uow, event, person_id: str, rule_code: str, day_field: str | None = None):
    """Apply one source event's deduction to one person, once (S4)."""
    p = _known_person(uow, person_id)
    if p is None:
        return None
    return add_entry(uow, p.id, rule_code, _event_day(uow, event, day_field), event["event_type"],
                     event["event_id"], reason=event["event_type"], window_id=p.window_id)


def on_case_overdue(uow, event):
    """C5 → S4: overdue case −4 to the handler responsible on the due date."""
    return score_event(uow, event, event["handler_person_id"], "overdue_case", "due_date")


def on_notice_violation(uow, event):
    """I3 → S4: incomplete one-time notice −3."""
    return score_event(uow, event, event["person_id"], "notice_incomplete")


def on_fee_violation(uow, event):
    """C8 → S4: fee violation −10."""
    return score_event(uow, event, event["person_id"], "fee_violation")


def on_patrol_finding(uow, event):
    """S8 → S4: a patrol finding by its rule code."""
    return score_event(uow, event, event["person_id"], event["rule_code"])


def on_complaint_verified(uow, event):
    """P4 → S4/S5/S7: verified complaint −5 (argument, bribery by their own rules), and the
    record that bars 优秀 (veto) and honours for the quarter."""
    day = _event_day(uow, event)
    person = _known_person(uow, event.get("target_person_id"))
    window_id = event.get("target_window_id") or (person.window_id if person else None)
    if window_id and uow.session.get(Window, window_id) is None:
        window_id = None
    if person is None and window_id is None:
        return None
    if uow.session.scalar(select(VerifiedComplaint.id).where(VerifiedComplaint.complaint_id == event["complaint_id"])):
        return None  # this complaint already counted (S4: once)
    uow.session.add(VerifiedComplaint(complaint_id=event["complaint_id"], person_id=person.id if person else None,
                                      window_id=window_id, quarter=periods.quarter_of(day), day=day))
    if person is None:
        uow.session.flush()
        return None
    codes = RULES.load(uow)["complaint_category_rules"]
    code = codes.get(event.get("category") or "", "complaint_verified")
    return add_entry(uow, person.id, code, day, event["event_type"], event["event_id"],
                     reason=event["event_type"], window_id=window_id)


def on_rating_submitted(uow, event):
    """C9 → S5: an applicant's rating of the handler, one per case."""
    p = _known_person(uow, event["handler_person_id"])
    if p is None or not 1 <= int(event["rating"]) <= 5:
        return None
    if uow.session.scalar(select(ApplicantRating.id).where(ApplicantRating.case_id == event["case_id"])):
        return None
    day = _event_day(uow, event)
    uow.session.add(ApplicantRating(case_id=event["case_id"], person_id=p.id, rating=int(event["rating"]),
                                    quarter=periods.quarter_of(day)))
    uow.session.flush()
    return None
