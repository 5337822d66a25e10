"""Table-driven tests of the pure discipline rules (DOMAIN S2–S7); numbers are the seeds'
defaults from services.staff.rules.RULES."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.calendar import WorkingCalendar
from services.staff import accountability, attendance, grades, honours, leave, scoring
from services.staff.rules import CATEGORY_CAPS, RULES

SETTINGS = RULES.defaults()
SH = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 3, 3, 8, 0, tzinfo=SH)
END = datetime(2025, 3, 3, 12, 0, tzinfo=SH)
M = timedelta(minutes=1)


# -- S2: the 20-minute and 1-hour rules ---------------------------------------------------
@pytest.mark.parametrize("sign_in, sign_out, away, expected", [
    (START, END, 0, "on_time"),
    (START + 20 * M, END, 0, "on_time"),            # exactly 20 min: not "more than"
    (START + 21 * M, END, 0, "late"),               # 21 min after the start
    (START + 20 * M + timedelta(seconds=1), END, 0, "late"),
    (START, END - 20 * M, 0, "on_time"),
    (START, END - 21 * M, 0, "early"),
    (START + 30 * M, END - 30 * M, 0, "late_early"),
    (None, END, 0, "late"),                         # no sign-in but a sign-out = late
    (START, None, 0, "early"),                      # a sign-in but no sign-out = early leave
    (None, None, 0, "absent"),                      # neither = absence
    (START, END, 60, "on_time"),                    # away exactly 1 h: not "more than"
    (START, END, 61, "absent"),                     # away more than 1 h without leave
    (START - 30 * M, END + 30 * M, 0, "on_time"),   # early arrival, late departure
])
def test_half_day_classification_at_the_boundaries(sign_in, sign_out, away, expected):
    assert attendance.classify_half(sign_in, sign_out, START, END, away_minutes=away).status == expected


@pytest.mark.parametrize("kwargs, expected", [
    ({"proxy": True}, "absent"),          # 代签: absence (for both: the caller applies it to both)
    ({"on_leave": True}, "leave"),
    ({"working": False}, "rest"),         # no absence on a holiday
    ({"working": False, "proxy": True}, "rest"),
])
def test_proxy_leave_and_rest_days(kwargs, expected):
    assert attendance.classify_half(START, END, START, END, **kwargs).status == expected


@pytest.mark.parametrize("before, after, per, expected", [
    (0, 4, 5, []),
    (4, 5, 5, [5]),          # the 5th late adds a day's absence
    (5, 6, 5, []),           # the 6th does not
    (8, 10, 5, [10]),        # the 10th adds another
    (3, 11, 5, [5, 10]),
    (0, 3, 3, [3]),          # the number is a setting
])
def test_every_fifth_late_or_early_in_a_month_adds_an_absence(before, after, per, expected):
    assert attendance.accumulated_absences(before, after, per) == expected


@pytest.mark.parametrize("day, half, expected", [
    (date(2025, 3, 3), "pm", ("14:30", "17:30")),
    (date(2025, 5, 1), "pm", ("15:00", "18:00")),   # summer from 05-01
    (date(2025, 9, 30), "pm", ("15:00", "18:00")),
    (date(2025, 10, 1), "pm", ("14:30", "17:30")),
    (date(2025, 7, 1), "am", ("08:00", "12:00")),   # mornings do not change
])
def test_summer_hours(day, half, expected):
    assert attendance.session_hours(day, half, SETTINGS) == expected


@pytest.mark.parametrize("hhmm, expected", [("07:50", "am"), ("12:10", "am"), ("13:14", "am"),
                                            ("13:16", "pm"), ("14:35", "pm"), ("17:40", "pm")])
def test_a_mark_belongs_to_the_nearer_half_day(hhmm, expected):
    h, m = map(int, hhmm.split(":"))
    assert attendance.half_of(datetime(2025, 3, 3, h, m, tzinfo=SH), SETTINGS) == expected


# -- S3: leave routed by length ---------------------------------------------------------------
@pytest.mark.parametrize("minutes, days, level", [
    (30, 0.07, "oral"),
    (59, 0.14, "oral"),
    (60, 0.14, "section_head"),       # 1 h – 1 day: section head
    (420, 1.0, "section_head"),       # exactly one day
    (480, 1.01, "deputy_director"),   # over 1 day – 3 days: deputy director
    (1260, 3.0, "deputy_director"),
    (1300, 3.1, "director"),          # over 3 days: director
    (4200, 10, "director"),
])
def test_leave_is_routed_by_length(minutes, days, level):
    assert leave.route(minutes, days, SETTINGS) == level


@pytest.mark.parametrize("start, end, hours, days", [
    (datetime(2025, 3, 3, 8, 0), datetime(2025, 3, 3, 9, 0), 1.0, 1 / 7),
    (datetime(2025, 3, 3, 8, 0), datetime(2025, 3, 3, 17, 30), 7.0, 1.0),       # a full day = 7 h
    (datetime(2025, 3, 3, 14, 30), datetime(2025, 3, 4, 12, 0), 7.0, 1.0),      # afternoon + next morning
    (datetime(2025, 1, 27, 8, 0), datetime(2025, 2, 5, 17, 30), 14.0, 2.0),     # Spring Festival in between
    (datetime(2025, 1, 25, 8, 0), datetime(2025, 1, 26, 17, 30), 7.0, 1.0),     # Sat off, Sun 26 Jan make-up day
])
def test_leave_length_counts_working_time_only(start, end, hours, days):
    h, d = leave.working_overlap(start.replace(tzinfo=SH), end.replace(tzinfo=SH), SH, WorkingCalendar(), SETTINGS)
    assert h == pytest.approx(hours) and d == pytest.approx(days, abs=1e-3)


@pytest.mark.parametrize("level, roles, allowed", [
    ("section_head", ["section_head"], True), ("section_head", ["clerk"], False),
    ("deputy_director", ["section_head"], False), ("deputy_director", ["deputy_director"], True),
    ("director", ["deputy_director"], False), ("director", ["director"], True),
])
def test_who_approves_which_leave(level, roles, allowed):
    assert leave.may_approve(level, roles, SETTINGS) is allowed


# -- S4: category caps ------------------------------------------------------------------------
@pytest.mark.parametrize("entries, total", [
    ([], 100),
    ([("工作纪律", -1)], 99),
    ([("工作纪律", -4)] * 6, 80),                     # 24 deducted, capped at 20
    ([("服务态度", -10), ("服务态度", -10)], 85),       # cap 15
    ([("工作纪律", -30), ("业务办理", -4)], 76),
    ([("加分", 2), ("加分", 5)], 107),                 # credits on top: above 100
    ([("环境卫生", -12), ("加分", 5)], 95),
])
def test_deductions_stop_at_zero_within_a_category(entries, total):
    assert scoring.centre_score(entries, CATEGORY_CAPS).total == total


@given(st.lists(st.tuples(st.sampled_from(list(CATEGORY_CAPS) + ["加分"]), st.integers(1, 12)), max_size=40))
def test_centre_score_bounds(raw):
    entries = [(c, p if c == "加分" else -p) for c, p in raw]
    scored = scoring.centre_score(entries, CATEGORY_CAPS)
    credits = sum(p for c, p in entries if c == "加分")
    assert credits <= scored.total <= 100 + credits
    assert all(0 <= v["score"] <= v["cap"] for v in scored.by_category.values())
    assert scored.deducted == sum(-p for c, p in entries if c != "加分")


# -- S5: grades ----------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    (59, "不称职"), (59.99, "不称职"), (60, "基本称职"), (69, "基本称职"), (69.99, "基本称职"),
    (70, "称职"), (89, "称职"), (89.99, "称职"), (90, "优秀"), (101, "优秀"),
])
def test_grade_thresholds_without_rounding(value, expected):
    assert grades.grade(value, SETTINGS) == expected


@pytest.mark.parametrize("value, vetoed, expected", [
    (95, True, "称职"), (95, False, "优秀"), (85, True, "称职"), (65, True, "基本称职"),
])
def test_a_verified_complaint_bars_excellent(value, vetoed, expected):
    assert grades.grade(value, SETTINGS, vetoed=vetoed) == expected


def test_veto_and_top_n_are_settings():
    assert grades.grade(95, {**SETTINGS, "complaint_veto": False}, vetoed=True) == "优秀"
    top2 = {**SETTINGS, "excellent_top_n": 2}
    assert grades.grade(95, top2, rank=2) == "优秀"
    assert grades.grade(95, top2, rank=3) == "称职"


@pytest.mark.parametrize("value, vetoed, barred, expected", [
    (95, False, True, "称职"),     # more than 60 points deducted this year: no 优秀 (S5/S7)
    (95, True, True, "称职"),
    (90, False, True, "称职"),
    (89.99, False, True, "称职"),  # the bar only ever lowers 优秀
    (65, False, True, "基本称职"),
    (95, False, False, "优秀"),
])
def test_the_yearly_deduction_bar_lowers_excellent(value, vetoed, barred, expected):
    assert grades.grade(value, SETTINGS, vetoed=vetoed, barred=barred) == expected


@pytest.mark.parametrize("changes, eligible", [
    ({}, True),
    ({"composite": 89.99}, False),
    ({"complaints": 1, "year_complaints": 1}, False),
    ({"year_complaints": 1}, False),          # a complaint earlier this year: the veto lasts the year
    ({"overdue": 1}, False),
    ({"violations": 1}, False),
    ({"award_eligible": False}, False),       # past the 60-point bar this year (S5)
])
def test_who_may_be_honoured(changes, eligible):
    row = {"composite": 95, "complaints": 0, "year_complaints": 0, "overdue": 0, "violations": 0,
           "award_eligible": True, **changes}
    assert honours.person_eligible(row, 90) is eligible


@pytest.mark.parametrize("centre, ratings, peer, expected", [
    (100, 95, 95, 98.0),
    (80, None, None, 80.0),          # no ratings, no peer review: the centre score stands in
    (80, 50, None, 74.0),            # 0.6*80 + 0.2*50 + 0.2*80
    (90, 90, 80, 88.0),
])
def test_composite(centre, ratings, peer, expected):
    assert grades.composite(centre, ratings, peer, SETTINGS) == pytest.approx(expected)


def test_ranks_share_places():
    assert grades.competition_ranks([90, 95, 90, 80]) == [2, 1, 2, 4]


# -- S6: the ladder ------------------------------------------------------------------------------
@pytest.mark.parametrize("severity, prior, self_reported, measure", [
    ("minor", 0, False, "criticism"),
    ("minor", 1, False, "public_criticism"),      # repeated: heavier
    ("minor", 1, True, "criticism"),              # self-reported: lighter
    ("serious", 0, False, "public_criticism"),
    ("serious", 0, True, "criticism"),
    ("serious", 2, False, "sanction"),
    ("grave", 0, False, "sanction"),
    ("grave", 0, True, "public_criticism"),
    ("grave", 3, False, "sanction"),              # nothing above a sanction
    ("minor", 0, True, "criticism"),              # nothing below criticism
])
def test_accountability_ladder(severity, prior, self_reported, measure):
    assert accountability.ladder(severity, prior, self_reported) == measure


# -- S7: honours, with the stated tie rule -----------------------------------------------------------
def _row(pid, composite, centre=None, ratings=None, badge=None, window=None, complaints=0, overdue=0,
         violations=0):
    return {"person_id": pid, "composite": composite, "centre_score": centre if centre is not None else composite,
            "ratings": ratings, "badge_no": badge or pid, "window_id": window, "complaints": complaints,
            "overdue": overdue, "violations": violations}


def test_honours_select_by_composite_with_ties_broken_by_centre_ratings_badge():
    rows = [
        _row("p1", 95, centre=96, badge="B05"),
        _row("p2", 95, centre=97, badge="B09"),        # same composite, higher centre score: first
        _row("p3", 93, centre=93, ratings=95, badge="B07"),
        _row("p4", 93, centre=93, ratings=90, badge="B01"),  # same composite and centre: ratings decide
        _row("p5", 92, badge="B03"), _row("p6", 92, badge="B02"),  # all equal: badge ascending
        _row("p7", 99, complaints=1),                  # verified complaint: not eligible
        _row("p8", 98, overdue=1, violations=1),       # overdue case: not eligible
        _row("p9", 97, violations=1),                  # any violation: not eligible
        _row("p10", 89.99),                            # below 90
    ]
    models, advanced = honours.select_people(rows, SETTINGS)
    assert [r["person_id"] for r in models] == ["p2"]
    assert [r["person_id"] for r in advanced] == ["p1", "p3", "p4"]
    rows = [r for r in rows if r["person_id"] not in ("p1", "p3")]
    models, advanced = honours.select_people(rows, SETTINGS)
    assert [r["person_id"] for r in advanced] == ["p4", "p6", "p5"]


def test_red_flag_window_is_the_best_mean_with_no_blemish():
    windows = [{"id": "w1", "number": 1, "name": "民政", "served": True},
               {"id": "w2", "number": 2, "name": "计生", "served": True},
               {"id": "w3", "number": 3, "name": "医保", "served": True},
               {"id": "w4", "number": 4, "name": "农机", "served": True}]
    rows = [
        _row("a", 96, window="w1"), _row("b", 92, window="w1"),   # mean 94, lowest 92
        _row("c", 94, window="w2"), _row("d", 94, window="w2"),   # mean 94, lowest 94: more even → wins
        _row("e", 99, window="w3"), _row("f", 98, window="w3", violations=1),  # a blemish
        _row("g", 100, window="w4"),                                # complained about as a window
    ]
    worked = {r["person_id"] for r in rows}
    chosen = honours.select_windows(rows, windows, {"w4"}, SETTINGS, worked=worked)
    assert [w["id"] for w in chosen] == ["w2"]
    chosen = honours.select_windows(rows, windows, {"w4"}, {**SETTINGS, "honour_red_flag_windows": 2},
                                    worked=worked)
    assert [w["id"] for w in chosen] == ["w2", "w1"]


@pytest.mark.parametrize("served, worked, new_year_complaints, chosen", [
    (True, {"a", "b", "n1"}, 0, "w1"),       # w1 (mean 96) served the quarter, its staff worked
    (False, {"a", "b", "n1"}, 0, "w2"),      # w1 opened during the quarter: not the quarter's window
    (True, {"n1"}, 0, "w2"),                 # nobody at w1 signed in this quarter
    (True, {"a", "n1"}, 0, "w1"),            # b did not work: w1's mean is a's 96 alone
    (True, {"a", "b", "n1"}, 1, "w2"),       # b: a verified complaint earlier this year (veto lasts the year)
    (True, set(), 0, None),                  # nobody signed in anywhere: no red-flag window
])
def test_s7_red_flag_window_served_the_whole_quarter_and_its_staff_worked(served, worked, new_year_complaints,
                                                                         chosen):
    """S7 (and S5's year-long complaint veto): a window is honoured for a quarter only if it
    existed at the quarter's start and its staff signed in during the quarter."""
    windows = [{"id": "w1", "number": 1, "name": "新窗口", "served": served},
               {"id": "w2", "number": 2, "name": "老窗口", "served": True}]
    b = _row("b", 96, window="w1")
    b["year_complaints"] = new_year_complaints
    rows = [_row("a", 96, window="w1"), b, _row("n1", 91, window="w2")]
    got = honours.select_windows(rows, windows, set(), SETTINGS, worked=worked)
    assert [w["id"] for w in got] == ([chosen] if chosen else [])
