"""P3 / P5 / P6 deadlines, table-driven, on the real statutory calendar (C2): across the
2025 Spring Festival (make-up Sunday 26 Jan), National Day 2025 and plain weekends."""
from __future__ import annotations

from datetime import date

import pytest

from services.common.calendar import WorkingCalendar
from services.complaints.rules import (
    RULES, complaint_due, follow_up_due, is_collective, is_overdue, opens_follow_up, petition_due,
    reception_due,
)

CAL = WorkingCalendar()
R = RULES.defaults()


@pytest.mark.parametrize("received, complex_, several, due", [
    # P3 simple: the next working day
    (date(2025, 3, 3), False, False, date(2025, 3, 4)),      # Mon → Tue
    (date(2025, 3, 7), False, False, date(2025, 3, 10)),     # Fri → Mon (weekend skipped)
    (date(2025, 3, 8), False, False, date(2025, 3, 10)),     # Sat → Mon
    (date(2025, 1, 24), False, False, date(2025, 1, 26)),    # Fri → Sun 26 Jan, a make-up working day
    (date(2025, 1, 26), False, False, date(2025, 1, 27)),    # make-up Sun → Mon
    (date(2025, 1, 27), False, False, date(2025, 2, 5)),     # Mon before Spring Festival → Wed 5 Feb
    (date(2025, 9, 30), False, False, date(2025, 10, 9)),    # National Day holiday 1–8 Oct
    # P3 complex or several units: 7 calendar days, a non-working last day rolls over (Art. 203)
    (date(2025, 3, 3), True, False, date(2025, 3, 10)),      # Mon + 7 = Mon
    (date(2025, 3, 1), True, False, date(2025, 3, 10)),      # Sat + 7 = Sat → Mon
    (date(2025, 3, 3), False, True, date(2025, 3, 10)),      # several units counts as complex
    (date(2025, 1, 24), True, False, date(2025, 2, 5)),      # + 7 = Fri 31 Jan, holiday → Wed 5 Feb
    (date(2025, 9, 29), True, False, date(2025, 10, 9)),     # + 7 = Mon 6 Oct, holiday → Thu 9 Oct
    (date(2025, 10, 4), True, True, date(2025, 10, 11)),     # + 7 = Sat 11 Oct, a make-up working day
])
def test_complaint_reply_deadline(received, complex_, several, due):
    assert complaint_due(CAL, received, complex_=complex_, several_units=several, rules=R).day == due


def test_same_day_setting_and_longer_complex_period_are_data():
    rules = dict(R, simple_reply_working_days=0, complex_reply_calendar_days=10)
    assert complaint_due(CAL, date(2025, 3, 3), complex_=False, several_units=False, rules=rules).day == date(2025, 3, 3)
    assert complaint_due(CAL, date(2025, 3, 3), complex_=True, several_units=False, rules=rules).day == date(2025, 3, 13)


@pytest.mark.parametrize("received, due", [
    (date(2025, 3, 3), date(2025, 3, 6)),    # Mon → Thu
    (date(2025, 3, 6), date(2025, 3, 11)),   # Thu → Fri, Mon, Tue
    (date(2025, 1, 24), date(2025, 2, 5)),   # DOMAIN C2's own example: Sun 26 Jan, Mon 27 Jan, Wed 5 Feb
    (date(2025, 9, 29), date(2025, 10, 10)),  # Tue 30 Sep (1), holiday 1–8 Oct, Thu 9 (2), Fri 10 (3)
])
def test_petition_reply_deadline_three_working_days(received, due):
    assert petition_due(CAL, received, R).day == due


@pytest.mark.parametrize("received, due", [
    (date(2025, 3, 3), date(2025, 3, 10)),
    (date(2025, 3, 1), date(2025, 3, 10)),   # Sat + 7 → Mon
    (date(2025, 9, 28), date(2025, 10, 9)),  # + 7 = Sun 5 Oct, holiday → 9 Oct
])
def test_leader_reception_within_a_week(received, due):
    assert reception_due(CAL, received, R).day == due


@pytest.mark.parametrize("rated, due", [
    (date(2025, 3, 3), date(2025, 3, 24)),   # 15 working days = three plain weeks
    (date(2025, 9, 22), date(2025, 10, 17)),  # across National Day: make-up Sun 28 Sep and Sat 11 Oct count
])
def test_low_rating_rectification_fifteen_working_days(rated, due):
    assert follow_up_due(CAL, rated, R).day == due


@pytest.mark.parametrize("rating, opens", [(1, True), (2, True), (3, False), (4, False), (5, False)])
def test_only_ratings_of_one_or_two_open_a_follow_up(rating, opens):
    assert opens_follow_up(rating, R) is opens


def test_low_rating_threshold_is_a_setting():
    assert opens_follow_up(3, dict(R, low_rating_max=3))


@pytest.mark.parametrize("persons, collective", [(1, False), (4, False), (5, True), (40, True)])
def test_collective_petition_threshold(persons, collective):
    assert is_collective(persons, R) is collective


@pytest.mark.parametrize("due, today, overdue", [
    (date(2025, 3, 4), date(2025, 3, 4), False),  # the deadline day is not over yet
    (date(2025, 3, 4), date(2025, 3, 5), True),
    (date(2025, 3, 4), date(2025, 3, 3), False),
])
def test_overdue_from_the_day_after_the_deadline(due, today, overdue):
    assert is_overdue(due, today) is overdue


@pytest.mark.parametrize("key, bad", [
    ("close_roles", ["pope"]), ("close_roles", []), ("close_roles", ["operator"]),
    ("timezone", "Mars/Olympus"), ("complex_reply_calendar_days", 0), ("low_rating_max", 5),
])
def test_settings_refuse_bad_values(key, bad):
    assert not RULES.rules[key].check(bad)
