"""S2 year tally and S5 year-end board (年终总评) on a real unit of work (SQLite, frozen clock):
leave and absence days per person and year, the assessment award forfeited over 90 days of
leave or at 30 days of absence; the year-end score (mean of the quarters + 3 per quarterly
honour), the yearly veto and 60-point bar, return to the home unit after an unfit year or a
sanction, a window's two unfit quarters barring its staff from the year's honours; CSV;
closing the year once; tenancy (DOMAIN S2, S5, S6, S7; seeds 000, 003, 004)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from services.common import events
from services.common.errors import Conflict, ValidationFailed
from services.staff import accountability, attendance, honours, scoring, yearend, yeartally
from services.staff import organisation as org
from services.staff.models import HomeUnitNotice, Leave
from services.staff.rules import RULES

from .conftest import local

DEFAULTS = RULES.defaults()


# -- S2: the year tally -------------------------------------------------------------------

@pytest.mark.parametrize("leave_days, absence_days, why", [
    (0, 0, []),
    (90, 0, []),                        # 90 days is not over 90 (seed 000: 超过九十天)
    (90.5, 0, ["leave"]),
    (0, 29.5, []),
    (0, 30, ["absence"]),               # 30 days or more (seed 000: 三十天及以上)
    (91, 30, ["leave", "absence"]),
])
def test_s2_what_forfeits_the_years_assessment_award(leave_days, absence_days, why):
    assert yeartally.forfeits(leave_days, absence_days, DEFAULTS) == why


@pytest.mark.parametrize("statuses, days", [
    ([("absent", False)], 0.5),                          # a half-day absent
    ([("absent", False), ("absent", False)], 1.0),       # a whole day
    ([("accumulated", False)], 1.0),                     # a day added by the 5-lates rule
    ([("absent", True), ("late", False), ("leave", False)], 0.0),   # excused on objection; others are not absence
])
def test_s2_absence_days(statuses, days):
    assert yeartally.absence_days(statuses) == days


def add_leave(world, key, start, end, state="approved", returned=None):
    with world.uow() as uow:
        uow.session.add(Leave(person_id=world.people[key], starts_at=local(*start), ends_at=local(*end),
                              level="director", length_days=0, state=state, created_at=uow.now(),
                              returned_at=local(*returned) if returned else None))


def tally_rows(world, year):
    with world.uow() as uow:
        return {r["person_id"]: r for r in yeartally.tally(uow, year)["rows"]}


def test_s2_leave_days_count_approved_leave_inside_the_year_in_working_days(world):
    world.at(2026, 1, 10, 9)
    add_leave(world, "a", (2025, 3, 3, 8), (2025, 3, 7, 17, 30))                      # Mon–Fri: 5 days
    add_leave(world, "a", (2025, 3, 10, 8), (2025, 3, 14, 17, 30), state="rejected")   # not counted
    add_leave(world, "a", (2025, 3, 17, 8), (2025, 3, 21, 17, 30), state="requested")  # not counted
    add_leave(world, "b", (2025, 3, 3, 8), (2025, 3, 7, 17, 30), state="returned",
              returned=(2025, 3, 5, 8))                                                 # back Wed: 2 days
    add_leave(world, "c", (2025, 12, 31, 8), (2026, 1, 9, 17, 30))                      # 31 Dec in 2025
    rows = tally_rows(world, 2025)
    P = world.people
    assert rows[P["a"]]["leave_days"] == 5 and rows[P["b"]]["leave_days"] == 2 and rows[P["c"]]["leave_days"] == 1
    assert not any(r["award_forfeited"] for r in rows.values())
    assert tally_rows(world, 2026)[P["c"]]["leave_days"] > 0 and tally_rows(world, 2026)[P["a"]]["leave_days"] == 0
    with world.uow() as uow:   # rules are data: the bar lowered to 4 days
        RULES.update(uow, {"year_leave_max_days": 4})
    rows = tally_rows(world, 2025)
    assert rows[P["a"]]["forfeit_reasons"] == ["leave"] and rows[P["b"]]["award_forfeited"] is False


def test_s2_absence_days_from_closed_attendance(world):
    world.at(2025, 3, 4, 9)
    with world.uow() as uow:
        attendance.close_day(uow, date(2025, 3, 3))     # nobody signed: a whole day absent for everyone kept
        RULES.update(uow, {"year_absence_forfeit_days": 1})
    rows = tally_rows(world, 2025)
    a = rows[world.people["a"]]
    assert a["absence_days"] == 1.0 and a["award_forfeited"] and a["forfeit_reasons"] == ["absence"]
    assert tally_rows(world, 2024)[world.people["a"]]["absence_days"] == 0


@pytest.mark.parametrize("year", ["twenty", "1999", None, "2101"])
def test_s2_a_year_that_is_not_one_answers_422_naming_year(world, year):
    with pytest.raises(ValidationFailed) as err, world.uow() as uow:
        yeartally.tally(uow, year)
    assert "year" in err.value.details


# -- S5: the year-end board ------------------------------------------------------------------

@pytest.mark.parametrize("composites, honours_count, quarter_mean, score", [
    ([90, 80], 0, 85, 85),
    ([90, 80], 2, 85, 91),           # each quarterly honour +3 (seed 004)
    ([100, 100, 100, 100], 4, 100, 112),
    ([59], 0, 59, 59),
])
def test_s5_the_year_score_is_the_mean_of_the_quarters_plus_3_per_honour(composites, honours_count, quarter_mean,
                                                                          score):
    assert yearend.year_score(composites, honours_count, DEFAULTS) == (quarter_mean, score)


@pytest.mark.parametrize("scores, charged, unfit", [
    ({"Q1": 50, "Q2": 55}, {}, True),           # two 不称职 quarters (< 60) in the year
    ({"Q1": 50, "Q2": 60, "Q3": 59.99}, {}, True),
    ({"Q1": 50, "Q2": 60, "Q3": 95}, {}, False),  # 60 is 基本称职
    ({"Q1": 10}, {}, False),
    ({"Q1": 50, "Q2": 62}, {"Q2": -4}, True),     # a substitute's overdue case −4 is the window's (S3)
    ({"Q1": 50, "Q2": 62}, {"Q1": -4}, False),
])
def test_s5_a_window_with_two_unfit_quarters(scores, charged, unfit):
    rows = {q: {f"p{i}": {"window_id": "w", "composite": s}} for i, (q, s) in enumerate(scores.items())}
    charges = {q: {"w": {"points": p}} for q, p in charged.items()}
    windows = yearend.unfit_windows(rows, DEFAULTS, charges)
    assert yearend.window_is_unfit(windows["w"], DEFAULTS) is unfit


def wreck(world, key, *days):
    """A quarter at centre score 0: a −100 rule in every category (each stops at its cap)."""
    with world.uow() as uow:
        for category in RULES.load(uow)["category_caps"]:
            scoring.update_rule(uow, f"wreck-{category}", points=-100, category=category, description="测试")
        for day in days:
            for category in RULES.load(uow)["category_caps"]:
                scoring.manual_entry(uow, world.people["inspector"], world.people[key], f"wreck-{category}", "x",
                                     day=day)


@pytest.fixture
def year(world):
    """2025 as the board sees it on 10 Jan 2026: see each person's story below."""
    P = world.people
    world.at(2025, 12, 1, 9)
    with world.uow() as uow:
        w3 = org.create_window(uow, 3, "社保")["id"]
        P["e"] = org.create_person(uow, "E", ["clerk"], window_id=w3, badge_no="E01", home_unit="社保局")["id"]
        P["f"] = org.create_person(uow, "F", ["clerk"], window_id=w3, badge_no="F01", home_unit="社保局")["id"]
    world.windows["w3"] = w3
    wreck(world, "c", "2025-03-10", "2025-06-10", "2025-09-10")      # c: three quarters at 0 → an unfit year
    wreck(world, "f", "2025-03-10", "2025-06-10")                    # f: window 3 unfit in Q1 and Q2
    complaint = events.build("complaints.complaint_verified", world.township_id,
                             datetime(2025, 8, 5, 2, tzinfo=timezone.utc), complaint_id="k-b",
                             target_person_id=P["b"], category="attitude")
    with world.uow() as uow:                                         # b: a verified complaint in Q3
        scoring.on_complaint_verified(uow, events.parse("complaints.complaint_verified", complaint))
        sanction = accountability.record_fault(uow, P["inspector"], P["d"], "bribery", "grave", "收受财物",
                                               day="2025-11-12")     # d: a disciplinary sanction
    add_leave(world, "head", (2025, 4, 7, 8), (2025, 4, 11, 17, 30))  # head: 5 days' leave
    with world.uow() as uow:
        RULES.update(uow, {"year_leave_max_days": 4})
    world.at(2026, 1, 10, 9)
    return SimpleNamespace(sanction=sanction["id"])


def board_of(world, y=2025, township_id="default"):
    with world.uow(township_id) as uow:
        return yearend.board(uow, y)


def honours_won(world, person_id):
    count = 0
    with world.uow() as uow:
        for q in range(1, 5):
            h = honours.honours(uow, f"2025Q{q}")
            count += sum(1 for r in h["service_models"] + h["advanced_individuals"] if r["person_id"] == person_id)
            count += sum(1 for w in h["red_flag_windows"] if w["window_id"] == world.people_window(person_id))
    return count


def test_s5_the_year_end_board(world, year):
    P = world.people
    world.people_window = lambda pid: {P["a"]: world.windows["civil"], P["b"]: world.windows["civil"],
                                       P["e"]: world.windows["w3"], P["f"]: world.windows["w3"]}.get(pid)
    data = board_of(world)
    assert data["final"] is True and data["quarters"] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    rows = {r["person_id"]: r for r in data["rows"]}
    a, b, c, d, e, head = (rows[P[k]] for k in ("a", "b", "c", "d", "e", "head"))
    # a: clean all year — 优秀, each quarterly honour +3 (as the quarters' honours chose them)
    won = honours_won(world, P["a"])
    assert won >= 4 and a["honour_points"] == 3 * won and len(a["honours"]) == won
    assert a["quarter_mean"] == 100 and a["year_score"] == 100 + 3 * won and a["grade"] == "优秀"
    assert a["assessment_award"] and a["honours_eligible"] and not a["return_to_home_unit"]
    assert [q["grade"] for q in a["quarters"]] == ["优秀"] * 4
    # b: a verified complaint in Q3 bars 优秀 for the year (the yearly veto) and the year's honours
    assert b["vetoed"] and b["year_score"] >= 90 and b["grade"] == "称职" and b["honours_barred_by"] == ["complaint"]
    # c: 0, 0, 0, 100 → 25: an unfit year → returned; 1,800 points deducted → no award, no honours (60-point bar)
    assert c["quarter_mean"] == 25 and c["grade"] == "不称职" and c["return_causes"] == ["unfit_year"]
    assert not c["award_eligible"] and "deductions" in c["award_forfeit_reasons"] and not c["assessment_award"]
    assert "deductions" in c["honours_barred_by"]
    # d: a disciplinary sanction in the year → returned, whatever the grade
    assert d["sanctions"] == [year.sanction] and d["return_causes"] == ["sanction"] and d["return_to_home_unit"]
    # e: clean, but window 3 had two 不称职 quarters (mean of e 100 and f 0 = 50) → no honours this year
    assert e["grade"] == "优秀" and e["honours_barred_by"] == ["window_unfit"] and not e["honours_eligible"]
    w3 = next(w for w in data["windows"] if w["window_id"] == world.windows["w3"])
    assert w3["unfit_quarters"] == 2 and w3["year_unfit"] and [q["grade"] for q in w3["quarters"]][:2] == ["不称职"] * 2
    civil = next(w for w in data["windows"] if w["window_id"] == world.windows["civil"])
    assert civil["year_unfit"] is False
    # head: 5 days' leave with the bar set to 4 → no assessment award (S2), honours still open
    assert head["leave_days"] == 5 and head["award_forfeit_reasons"] == ["leave"] and not head["assessment_award"]
    assert head["honours_eligible"]
    # ordered by year score, ranked
    assert data["rows"][0]["rank"] == 1 and [r["year_score"] for r in data["rows"]] == sorted(
        (r["year_score"] for r in data["rows"]), reverse=True)


def test_s5_closing_the_year_records_the_returns_once_and_only_after_the_year(world, year):
    P = world.people
    world.at(2025, 12, 31, 16)
    with pytest.raises(Conflict), world.uow() as uow:
        yearend.close_year(uow, 2025)
    world.at(2026, 1, 10, 9)
    with world.uow() as uow:
        # c and f had unfit years (f: 0, 0, 100, 100 → 50); d's sanction was recorded when it was decided
        assert set(yearend.close_year(uow, 2025)["returned"]) == {P["c"], P["f"]}
    with world.uow() as uow:
        assert yearend.close_year(uow, 2025)["returned"] == []
        causes = {(n.person_id, n.kind, n.cause) for n in uow.scalars(select(HomeUnitNotice))}
    assert (P["c"], "return", "unfit_year:2025") in causes
    assert (P["d"], "return", f"sanction:{year.sanction}") in causes
    announced = {e["cause"] for e in world.events("staff.home_unit_notified")}
    assert {"unfit_year:2025", f"sanction:{year.sanction}"} <= announced


def test_s5_the_board_of_a_year_under_way_has_only_the_quarters_begun(world, year):
    data = board_of(world, 2026)
    assert data["final"] is False and data["quarters"] == ["2026Q1"]


def test_s5_the_board_as_csv(world, year):
    with world.uow() as uow:
        text = yearend.board_csv(uow, 2025)
    lines = text.splitlines()
    assert lines[0].startswith("名次,姓名,工号,窗口,2025Q1 综合得分") and "考核奖" in lines[0]
    assert len(lines) == 1 + len(board_of(world)["rows"]) and "不称职" in text and "取消" in text


def test_s5_another_townships_board_shows_none_of_these_people(world, year):
    with world.uow(None) as uow:
        other = org.create_township(uow, "other", "别镇", {"name": "X"})["township"]["id"]
    mine = {r["person_id"] for r in board_of(world)["rows"]}
    theirs = {r["person_id"] for r in board_of(world, township_id=other)["rows"]}
    assert mine and not (mine & theirs)
    with world.uow(other) as uow:
        assert not {r["person_id"] for r in yeartally.tally(uow, 2025)["rows"]} & mine
        assert yearend.close_year(uow, 2025)["returned"] == []
        assert yearend._year_facts(uow, 2025) == ({}, {}, {})     # complaints, deductions, sanctions: none seen
    with world.uow() as uow:
        complaints, deducted, sanctions = yearend._year_facts(uow, 2025)
    assert complaints and deducted and sanctions


def test_the_answers_are_what_the_contracts_document(world, year):
    """Every key of the board and the tally is declared in services/contracts/staff.py (the
    conformance run refuses undeclared ones) and every declared key is there."""
    from services.contracts import staff as contract

    with world.uow() as uow:
        board, tally = yearend.board(uow, 2025), yeartally.tally(uow, 2025)
        closed = yearend.close_year(uow, 2025)
    assert contract.YearEndBoard().validate(board) == {}
    assert contract.YearTally().validate(tally) == {}
    assert contract.YearClosed().validate(closed) == {}
    assert set(board["rows"][0]) == set(contract.YearEndRow().fields)
