"""Two instances sweep overdue cases (C5) in bulk at the same moment, on PostgreSQL (issue 9;
ARCHITECTURE "Timers are safe to scale"): a chunk is claimed with one conditional
``UPDATE … WHERE id IN (…) AND overdue_at IS NULL … RETURNING id``, so where two chunks overlap
each case goes to exactly one of them — one trail row, one ``case_overdue`` event. And the
sweeps' candidate queries (overdue, reminders) are answered from the partial index, not by
reading every open case."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import eventlet
import pytest
from sqlalchemy import select, text

from services.cases import timers
from services.cases.models import Base, Case, CaseLog
from services.common.clock import FrozenClock
from services.common.sweep import SweepRun
from tests.support.system import migrated
from tests.support.units import UnitsOfWork

TOWN = "t-overdue-instances"
NOW = datetime(2025, 3, 12, 2, tzinfo=timezone.utc)  # Wed 10:00 in Shanghai


def _seed(units, n_due: int, n_open: int) -> list[str]:
    """``n_due`` running cases due yesterday (local), ``n_open`` due in a month."""
    today = NOW.date()
    rows = [dict(id=f"{i:032x}", township_id=TOWN, application_id=f"a{i}", receipt_no=f"OI-{i}", item_code="MZ-002",
                 item_version=1, item_name="低保", kind="promised", original_kind="promised", state="in_review",
                 transitions=1, handler_person_id=f"clerk-{i % 3}", holder_person_id=f"clerk-{i % 3}",
                 accepted_at=NOW, accepted_on=today - timedelta(days=20), deemed_accepted=False,
                 clock_started_on=today - timedelta(days=20), promised_days=5, extension_days=0, paused_days=0,
                 due_date=today - timedelta(days=1) if i < n_due else today + timedelta(days=30),
                 provisional=False, tacit_allowed=False, departments=[], major=False, proxy=False, created_at=NOW)
            for i in range(n_due + n_open)]
    with units.engine.begin() as conn:
        conn.execute(Case.__table__.insert(), rows)
        conn.exec_driver_sql("ANALYZE cases")
    return [r["id"] for r in rows[:n_due]]


def _units(database):
    return UnitsOfWork(Base, "cases", FrozenClock(NOW), url=migrated(database, "cases"))


def test_two_instances_sweeping_overlapping_chunks_count_each_case_once(database):
    units = _units(database)
    due = _seed(units, 600, 200)
    candidates = [(TOWN, case_id) for case_id in due]
    runs = [SweepRun(units, batch=40), SweepRun(units, batch=40)]
    # one instance from each end (they meet in the middle, chunks overlapping), and a third pass
    # as the sweep itself, from the start again
    jobs = [eventlet.spawn(runs[0].each_batch, "overdue", candidates, timers.overdue),
            eventlet.spawn(runs[1].each_batch, "overdue", candidates[::-1], timers.overdue)]
    sweep = SweepRun(units, batch=40)
    jobs.append(eventlet.spawn(timers.sweep_overdue, sweep))
    done = [job.wait() for job in jobs]
    assert [r.errors for r in (*runs, sweep)] == [{}, {}, {}]
    assert done[0] > 0 and done[1] > 0  # both instances took part
    assert sum(done) == 600
    with units.unit_of_work(TOWN) as uow:
        trail = Counter(uow.session.scalars(select(CaseLog.case_id).where(CaseLog.action == "overdue")))
        marked = dict(uow.session.execute(select(Case.id, Case.overdue_person_id).where(Case.overdue_at.is_not(None))).all())
    events = units.outbox("cases.case_overdue")
    assert trail == Counter(due)  # each case once in the trail …
    assert Counter(e["case_id"] for e in events) == Counter(due)  # … and announced once
    assert marked == {case_id: f"clerk-{int(case_id, 16) % 3}" for case_id in due}
    assert {e["handler_person_id"] for e in events} == {"clerk-0", "clerk-1", "clerk-2"}
    assert timers.sweep_overdue(SweepRun(units)) == 0
    units.engine.dispose()


@pytest.mark.parametrize("sweep", [timers.sweep_overdue, timers.sweep_reminders])
def test_the_candidate_query_uses_the_partial_index(database, sweep):
    units = _units(database)
    _seed(units, 50, 5000)
    captured = []

    def rows(uow, stmt):
        captured.append(stmt)
        return []
    original, timers._rows = timers._rows, rows
    try:
        sweep(SweepRun(units))
    finally:
        timers._rows = original
    sql = str(captured[0].compile(units.engine, compile_kwargs={"literal_binds": True}))
    with units.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")  # the index must be usable, whatever the size
        plan = "\n".join(row[0] for row in conn.execute(text("EXPLAIN " + sql)))
    assert "ix_cases_running_due" in plan, plan
    units.engine.dispose()


def test_trail_rows_written_as_arrays_read_back_as_given(database):
    """``casebook.insert_trail`` on PostgreSQL passes the rows as one array a column: every value
    comes back as it was — NULLs, quotes, backslashes, commas, braces, CJK, JSON data, each row's
    own moment — and after the rows ``audit`` added before them in the same transaction."""
    from services.cases import casebook

    units = _units(database)
    case_id = _seed(units, 1, 0)[0]
    odd = ['引号 "q" \\ 反斜杠, {braces}', None, "NULL", "", "plain"]
    with units.unit_of_work(TOWN) as uow:
        case = uow.session.get(Case, case_id)
        casebook.audit(uow, case, "first", "p0", "added before")
        rows = [dict(casebook.trail(uow, case, "bulk", None, reason), by_person_id=reason,
                     at=NOW + timedelta(seconds=i), data={"note": reason, "n": i})
                for i, reason in enumerate(odd)]
        casebook.insert_trail(uow, rows)
    with units.unit_of_work(TOWN) as uow:
        got = uow.session.execute(select(CaseLog.action, CaseLog.reason, CaseLog.by_person_id, CaseLog.data,
                                         CaseLog.at, CaseLog.holder_person_id, CaseLog.township_id)
                                  .where(CaseLog.case_id == case_id).order_by(CaseLog.id)).all()
    assert [g.action for g in got] == ["first"] + ["bulk"] * len(odd)
    assert [(g.reason, g.by_person_id, g.data, g.at) for g in got[1:]] == [
        (r, r, {"note": r, "n": i}, NOW + timedelta(seconds=i))
        for i, r in enumerate(odd)]
    assert {(g.holder_person_id, g.township_id) for g in got} == {("clerk-0", TOWN)}
    units.engine.dispose()
