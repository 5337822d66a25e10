"""S7 red-flag window (红旗窗口): a window is honoured for a quarter only if it served the whole
quarter (opened on or before its first day) and its staff worked in it (signed in during the
quarter); a verified complaint against the window bars it for the rest of the year (S5 veto)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from services.common import events
from services.staff import honours, scoring

from .conftest import local


def _red_flag(world, quarter):
    with world.uow() as uow:
        return [w["number"] for w in honours.honours(uow, quarter)["red_flag_windows"]]


def test_s7_a_window_opened_during_the_quarter_is_not_its_red_flag_window(world):
    # the fixture opens windows 1 and 2 on Mon 3 March 2025 and nobody has a deduction
    world.at(2025, 3, 3, 9)
    with world.uow() as uow:
        from services.staff import attendance
        for key in ("a", "b", "c", "d"):
            attendance.record_mark(uow, world.people["director"], world.people[key], "in",
                                   local(2025, 3, 3, 8).isoformat())
    world.at(2025, 4, 2, 9)
    assert _red_flag(world, "2025Q1") == []          # opened on 3 March: did not serve Q1 whole


def test_s7_only_a_window_whose_staff_worked_in_the_quarter(world):
    world.at(2025, 7, 2, 9)
    assert _red_flag(world, "2025Q2") == []          # served Q2, but nobody signed in: no window
    world.windows_served(local(2025, 3, 3, 9), date(2025, 5, 6), people=("c", "d"))
    assert _red_flag(world, "2025Q2") == [2]         # window 2's staff worked; window 1's did not


def test_s5_s7_a_verified_complaint_against_a_window_bars_it_for_the_rest_of_the_year(world):
    world.at(2025, 3, 20, 9)
    ev = events.build("complaints.complaint_verified", world.township_id,
                      datetime(2025, 3, 12, 2, tzinfo=timezone.utc), complaint_id="kw",
                      target_window_id=world.windows["civil"])
    with world.uow() as uow:
        scoring.on_complaint_verified(uow, events.parse("complaints.complaint_verified", ev))
    world.at(2026, 1, 5, 9)
    world.windows_served(local(2024, 12, 31, 9), date(2025, 5, 6))
    world.windows_served(local(2024, 12, 31, 9), date(2025, 12, 2))
    world.windows_served(local(2024, 12, 31, 9), date(2026, 1, 2))
    assert _red_flag(world, "2025Q2") == [2]         # complained about in Q1: still barred in Q2
    assert _red_flag(world, "2025Q4") == [2]         # … and in Q4
    assert _red_flag(world, "2026Q1") == [1]         # a new year: the lower number wins the tie
