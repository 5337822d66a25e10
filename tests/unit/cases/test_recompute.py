"""Recomputing deadlines after a calendar change (DOMAIN C2; issue 7 "Heavy handlers never
block"): recorded with the change, done later in bounded chunks, a burst coalesced into one
pass, resumed after a restart, fair between townships, and right — the same due dates a fresh
computation gives."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from services.cases import deadlines, lifecycle, recompute
from services.common import recompute as engine
from services.cases.models import CalendarRecompute, Case
from services.common.calendar import apply_calendar_change

from .helpers import T1, T2, World, at

HOLIDAYS = ["2025-02-06", "2025-02-07", "2025-02-10", "2025-02-11", "2025-02-12"]


@pytest.fixture
def w():
    world = World(at(2025, 1, 27, 10))  # Mon 27 Jan 2025
    world.org(T1)
    world.org(T2, window="w9", a="t2-a", b="t2-b", reviewer2="t2-c", prefix="t2-")
    return world


def open_cases(w, township, n):
    return [w.accept(township_id=township, kind="promised", days=3 + i % 5, application_id=f"{township}-{i}")
            for i in range(n)]


def change(w, scope, day, working):
    """staff.calendar_changed as the service's handler applies it: the copy, then the mark."""
    with w(None if scope == "*" else scope) as uow:
        apply_calendar_change(uow.session, uow.common, {"scope": scope, "days": [{"day": day, "working": working}]},
                              uow.now())
        uow.session.flush()
        return recompute.mark(uow, None if scope == "*" else scope)


def fresh(w, township):
    """Every running deadline of the township as a fresh computation gives it."""
    with w(township) as uow:
        cal = lifecycle.calendar(uow, township)
        rows = uow.session.execute(select(Case).where(Case.clock_started_on.is_not(None))).scalars().all()
        return {c.id: (deadlines.due(cal, deadlines.DeadlineInputs(
            c.clock_started_on, c.promised_days, c.extension_days, c.paused_days)).day, c.due_date) for c in rows}


def marker(w, township):
    with w(township) as uow:
        return uow.session.get(CalendarRecompute, township)


def assert_right(w, township):
    for case_id, (expected, stored) in fresh(w, township).items():
        assert stored == expected, case_id


def test_a_burst_of_changes_is_one_pass_in_bounded_chunks_and_every_deadline_is_right(w):
    cases = open_cases(w, T1, 23)
    for i in range(20):  # a director toggles holidays 20 times in a row
        change(w, T1, HOLIDAYS[i % 5], working=i % 2 == 1)
    assert marker(w, T1).version == 20
    work = recompute.Recomputer(chunk=5).settle(w)
    assert work["passes"] == 1 and work["chunks"] == 5 and work["cases"] == 23  # 5+5+5+5+3
    assert_right(w, T1)
    row = marker(w, T1)
    assert (row.done_version, row.cursor, row.passes) == (20, None, 1)
    changed = w.events("cases.deadline_changed")
    assert changed and {e["case_id"] for e in changed} <= set(cases)
    assert all(e["reason"] == "calendar changed" for e in changed)
    # nothing more to do
    assert recompute.Recomputer(chunk=5).settle(w)["chunks"] == 0


def test_the_mark_is_durable_and_a_restart_resumes_at_the_saved_cursor(w):
    open_cases(w, T1, 12)
    change(w, T1, "2025-02-06", working=False)
    first = recompute.Recomputer(chunk=5)
    assert first.chunk_of(w, T1)["cases"] == 5  # ... and the process dies here
    row = marker(w, T1)
    assert row.cursor is not None and row.done_version == 0
    again = recompute.Recomputer(chunk=5).settle(w)  # a new process
    assert (again["cases"], again["passes"]) == (7, 0)  # the rest, within the same pass
    assert marker(w, T1).passes == 1
    assert_right(w, T1)


def test_a_change_during_a_pass_restarts_it_with_the_new_calendar(w):
    open_cases(w, T1, 12)
    change(w, T1, "2025-02-06", working=False)
    r = recompute.Recomputer(chunk=5)
    r.chunk_of(w, T1)
    change(w, T1, "2025-02-07", working=False)
    work = r.settle(w)
    assert work["passes"] == 1 and work["cases"] == 12  # restarted from the first case
    assert marker(w, T1).passes == 2
    assert_right(w, T1)


def test_a_national_change_is_one_pass_per_township_taken_in_turns(w):
    open_cases(w, T1, 9)
    open_cases(w, T2, 9)
    assert change(w, "*", "2025-02-06", working=False) == [T1, T2]
    r = recompute.Recomputer(chunk=3)
    order = []
    chunk_of = r.chunk_of
    r.chunk_of = lambda db, township, clock=None: order.append(township) or chunk_of(db, township, clock)
    work = r.settle(w)
    assert work["passes"] == 2
    assert order[:6] == [T1, T2, T1, T2, T1, T2]  # fair: one chunk each in turn
    assert_right(w, T1)
    assert_right(w, T2)


def test_a_pass_waits_for_the_calendar_to_be_quiet_but_not_forever(w):
    open_cases(w, T1, 3)
    now = [100.0]
    r = recompute.Recomputer(quiet=0.5, max_delay=5, monotonic=lambda: now[0])
    change(w, T1, "2025-02-06", working=False)
    assert r.ready(w) == []
    now[0] += 0.6
    assert r.ready(w) == [T1]
    # changes every 0.4 s keep it waiting … until 5 s after the first
    for _ in range(12):
        change(w, T1, "2025-02-07", working=_ % 2 == 0)
        now[0] += 0.4
        if r.ready(w):
            break
    assert now[0] - 100.0 >= 5 and r.ready(w) == [T1]


def test_a_decided_case_and_one_whose_clock_has_not_started_are_not_touched(w):
    running = w.accept(kind="promised", days=3, application_id="run")
    waiting = w.accept(kind="supplement", application_id="sup")
    decided = w.accept(kind="promised", days=3, application_id="dec")
    w.do(lifecycle.review, decided, "clerk-a", ["clerk"], "approve")
    w.do(lifecycle.decide, decided, "head", ["section_head"], "approved")
    # accepted Mon 27 Jan 2025, 3 working days: Spring Festival off → 5, 6, 7 Feb
    assert w.case(running)["due_date"] == w.case(decided)["due_date"] == "2025-02-07"
    change(w, T1, "2025-02-06", working=False)  # a local holiday
    assert recompute.Recomputer().settle(w)["changed"] == 1
    assert w.case(running)["due_date"] == "2025-02-08"  # Sat 8 Feb is a make-up working day
    assert w.case(decided)["due_date"] == "2025-02-07" and w.case(waiting)["due_date"] is None


# -- chunks sized by time (issue 9: 10^4 deadlines in < 2 s, no request stalled) ----------------

@pytest.mark.parametrize("chunk, size, done, seconds, expected", [
    (1000, 50, 50, 0.005, 100),      # fast: at most double ...
    (1000, 400, 400, 0.04, 800),
    (1000, 800, 800, 0.08, 1000),    # ... up to the most a chunk may hold
    (1000, 1000, 1000, 0.4, 250),    # slow: what fits in the budget (0.1 s) ...
    (1000, 250, 250, 5.0, 50),       # ... never below the engine's old fixed size
    (1000, 400, 120, 0.001, 400),    # the pass's last, short chunk says nothing of the pace
    (20, 20, 20, 0.0001, 20),        # a chunk set below 50 is a fixed size
    (20, 20, 20, 10.0, 20),
])
def test_the_next_chunk_is_sized_to_take_the_budget_between_bounds(chunk, size, done, seconds, expected):
    r = recompute.Recomputer(chunk=chunk, budget=0.1)
    r.chunk = size
    r.resize(size, done, seconds)
    assert r.chunk == expected


@pytest.mark.parametrize("pace, sizes", [
    (0.001, [2, 4, 8, 9]),            # 1 ms a case: 100 fit in 0.1 s; doubling up to the rest
    (0.02, [2, 4, 5, 5, 5, 2]),       # 20 ms a case: 5 fit
    (1.0, [2] * 11 + [1]),            # never below the least
])
def test_a_pass_grows_or_shrinks_its_chunks_and_still_does_every_case_once(w, monkeypatch, pace, sizes):
    monkeypatch.setattr(engine, "MIN_CHUNK", 2)
    open_cases(w, T1, 23)
    change(w, T1, "2025-02-06", working=False)
    now = [0.0]
    r = recompute.Recomputer(chunk=16, budget=0.1, timer=lambda: now[0])
    seen = []
    apply = r.apply

    def timed_apply(uow, township_id, cal, rows):
        seen.append(len(rows))
        now[0] += pace * len(rows)
        return apply(uow, township_id, cal, rows)

    r.apply = timed_apply
    work = r.settle(w)
    assert seen == sizes and work["cases"] == 23 and work["chunks"] == len(sizes)
    assert_right(w, T1)
    trail = [e["case_id"] for e in w.events("cases.deadline_changed")]
    assert len(trail) == len(set(trail)) == work["changed"]  # each change announced once


def test_the_chunk_settings_come_from_the_configuration():
    dep = engine.Recomputing(recompute.Recomputer)
    dep.container = type("C", (), {"config": {"RECOMPUTE_CHUNK": "400", "RECOMPUTE_CHUNK_SECONDS": "0.25"}})()
    dep.setup()
    assert (dep.recomputer.max_chunk, dep.recomputer.min_chunk, dep.recomputer.budget) == (400, 50, 0.25)
    dep.container.config = {}
    dep.setup()
    assert (dep.recomputer.max_chunk, dep.recomputer.budget) == (engine.CHUNK, engine.BUDGET)
