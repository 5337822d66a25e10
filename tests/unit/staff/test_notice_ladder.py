"""S6 / I3: the one-time-notice ladder — the 1st, 2nd and 3rd violation of a person bring an
oral warning, an admonition talk, and a written efficiency warning with public criticism, on
record (accountability cases and ladder steps); redelivery climbs once; the year restarts the
count (a setting); hand-recorded I3 deductions climb too; tenancy (DOMAIN S6, I3; seed 004)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from services.common import events
from services.common.errors import NotFound
from services.staff import accountability, noticeladder
from services.staff import organisation as org
from services.staff.models import AccountabilityCase, HomeUnitNotice, NoticeLadderStep, ScoreEntry
from services.staff.rules import RULES

LADDER = ["oral_warning", "admonition_talk", "efficiency_warning"]


@pytest.mark.parametrize("ordinal, ladder, measure", [
    (1, LADDER, "oral_warning"),                     # S6: first → oral warning (口头警告)
    (2, LADDER, "admonition_talk"),                  # second → admonition talk (诫勉谈话)
    (3, LADDER, "efficiency_warning"),               # third → 效能告诫书 with 通报批评
    (4, LADDER, "efficiency_warning"),               # later ones take the last step again
    (9, LADDER, "efficiency_warning"),
    (1, ["admonition_talk", "efficiency_warning"], "admonition_talk"),   # rules are data
    (2, ["admonition_talk", "efficiency_warning"], "efficiency_warning"),
])
def test_s6_the_measure_of_each_violation(ordinal, ladder, measure):
    assert noticeladder.measure_for(ordinal, ladder) == measure


def violation(world, person, when=(2025, 3, 5, 2), township_id=None, event_id=None):
    ev = events.build("intake.notice_violation", township_id or world.township_id,
                      datetime(*when, tzinfo=timezone.utc), application_id=uuid.uuid4().hex,
                      person_id=person, material="户口簿", reason="not_on_first_notice")
    if event_id:
        ev["event_id"] = event_id
    return events.parse("intake.notice_violation", ev)


def deliver(world, ev, township_id=None):
    with world.uow(township_id or world.township_id) as uow:
        return noticeladder.on_notice_violation(uow, ev)


def faults(world, key):
    with world.uow() as uow:
        return [(c.kind, c.measure, c.removed_from_window) for c in uow.scalars(
            select(AccountabilityCase).where(AccountabilityCase.person_id == world.people[key])
            .order_by(AccountabilityCase.created_at))]


def ladder_of(world, key):
    with world.uow() as uow:
        return [(s.ordinal, s.measure) for s in noticeladder.steps(uow, world.people[key])]


def test_s6_three_violations_climb_the_ladder_on_record_and_redelivery_climbs_once(world):
    world.at(2025, 3, 6, 9)
    first = violation(world, world.people["a"])
    deliver(world, first)
    deliver(world, first)                                   # the same event again: nothing more
    for day in (6, 7):
        deliver(world, violation(world, world.people["a"], when=(2025, 3, day, 2)))
    assert ladder_of(world, "a") == [(1, "oral_warning"), (2, "admonition_talk"), (3, "efficiency_warning")]
    one_time = [f for f in faults(world, "a") if f[0] == "one_time_notice"]
    assert one_time == [("one_time_notice", "oral_warning", False), ("one_time_notice", "admonition_talk", False),
                        ("one_time_notice", "efficiency_warning", False)]
    with world.uow() as uow:   # S4 still deducts −3 for each violation, once
        points = [e.points for e in uow.scalars(select(ScoreEntry).where(
            ScoreEntry.person_id == world.people["a"], ScoreEntry.rule_code == "notice_incomplete"))]
        listed = accountability.list_cases(uow, world.people["a"])
    assert points == [-3, -3, -3]
    assert {c["measure"] for c in listed} == set(LADDER)
    assert all(c["appeal_until"] and "I3" in c["facts"] and "户口簿" in c["facts"] for c in listed)
    assert ladder_of(world, "b") == []                      # per person


@pytest.mark.parametrize("per_year, second_measure", [
    (True, "oral_warning"),        # default: a new year starts the count again
    (False, "admonition_talk"),    # setting off: counted ever
])
def test_s6_the_count_is_per_calendar_year_by_default(world, per_year, second_measure):
    world.at(2026, 1, 10, 9)
    with world.uow() as uow:
        RULES.update(uow, {"notice_ladder_per_year": per_year})
    deliver(world, violation(world, world.people["a"], when=(2025, 12, 30, 2)))
    deliver(world, violation(world, world.people["a"], when=(2026, 1, 6, 2)))
    assert [m for _, m in ladder_of(world, "a")] == ["oral_warning", second_measure]


def test_s6_the_efficiency_warning_is_a_public_criticism_two_in_a_year_return_the_person(world):
    world.at(2025, 3, 10, 9)
    P = world.people
    with world.uow() as uow:   # one public criticism already (a repeated minor fault)
        accountability.record_fault(uow, P["inspector"], P["c"], "attitude", "serious", "争吵", day="2025-03-03")
    for day in (4, 5, 6):
        deliver(world, violation(world, P["c"], when=(2025, 3, day, 2)))
    with world.uow() as uow:
        returns = [(n.kind, n.cause) for n in uow.scalars(select(HomeUnitNotice).where(
            HomeUnitNotice.person_id == P["c"]))]
    assert ("return", "public_criticism:2025") in returns
    assert world.events("staff.home_unit_notified")[-1]["cause"] == "public_criticism:2025"


@pytest.mark.parametrize("rule_code, climbs", [
    ("notice_incomplete", True),      # an I3 deduction by hand (a verified complaint about the notice)
    ("forbidden_language", False),    # any other deduction does not
])
def test_s6_a_hand_recorded_i3_deduction_climbs_too(world, rule_code, climbs):
    world.at(2025, 3, 6, 9)
    with world.uow() as uow:
        noticeladder.record_score(uow, world.people["inspector"], world.people["b"], rule_code, "复核查实",
                                  day="2025-03-05")
    assert ladder_of(world, "b") == ([(1, "oral_warning")] if climbs else [])


def test_s6_unknown_and_other_townships_people_do_not_climb(world):
    world.at(2025, 3, 6, 9)
    with world.uow(None) as uow:
        other = org.create_township(uow, "other", "别镇", {"name": "X"})["township"]["id"]
    deliver(world, violation(world, uuid.uuid4().hex))
    deliver(world, violation(world, world.people["a"], township_id=other), township_id=other)
    with world.uow(other) as uow:
        assert noticeladder.steps(uow) == []
        with pytest.raises(NotFound):
            noticeladder.record_score(uow, None, world.people["a"], "notice_incomplete", "x")
    with world.uow() as uow:
        assert list(uow.scalars(select(NoticeLadderStep))) == []
