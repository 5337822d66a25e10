"""Two instances of cases recompute one township's deadlines at once, on PostgreSQL (issue 7,
"Heavy handlers never block"; ARCHITECTURE "Timers are safe to scale"): they share the pass
chunk by chunk (the township's row is claimed with FOR UPDATE SKIP LOCKED and the cursor saved
with each chunk), so every deadline is right and each change is recorded and announced once;
and what a pass writes on PostgreSQL (issue 9: arrays, not rows) is what it must."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import eventlet
import pytest
from sqlalchemy import create_engine, select, text

from services.cases import recompute
from services.cases.models import Base, CalendarRecompute, Case, CaseLog
from services.common import events
from services.common.calendar import apply_calendar_change, load_calendar
from services.common.clock import FrozenClock, SystemClock
from services.common.db import pg_array
from tests.e2e.test_calendar_recompute import _seed_cases, _weekdays, _wrong_deadlines
from tests.support.units import UnitsOfWork

TOWN = "t-two-instances"


def test_two_instances_share_a_pass_and_do_each_chunk_once(database):
    url = database("recompute")
    units = UnitsOfWork(Base, "cases", SystemClock(), url=url)
    _seed_cases(url, TOWN, 300, "TI")
    holidays = _weekdays(datetime.now(timezone.utc).date(), 8)
    with units.unit_of_work(TOWN) as uow:
        apply_calendar_change(uow.session, uow.common, {"scope": TOWN, "days": [
            {"day": d, "working": False} for d in holidays]}, uow.now())
        recompute.mark(uow, TOWN)

    def instance():  # a timer ticking until the township is done
        r, total = recompute.Recomputer(chunk=20, quiet=0, max_delay=0, pause=0.001), Counter()
        while units_done() is False:
            total.update(r.run(units))
            eventlet.sleep(0.001)
        return total

    def units_done():
        with units.unit_of_work(TOWN) as uow:
            row = uow.session.get(CalendarRecompute, TOWN)
            return row.done_version >= row.version

    done = [g.wait() for g in [eventlet.spawn(instance) for _ in range(2)]]
    assert all(d["chunks"] for d in done)  # both took part

    assert sum(d["cases"] for d in done) == 300  # every case once, between them
    assert sum(d["chunks"] for d in done) == 16  # 15 full chunks, and one that finds the pass done
    assert sum(d["passes"] for d in done) == 1
    assert _wrong_deadlines(url, TOWN) == []
    with units.unit_of_work(TOWN) as uow:
        row = uow.session.get(CalendarRecompute, TOWN)
        assert (row.version, row.done_version, row.passes, row.cursor) == (1, 1, 1, None)
        trail = Counter(uow.session.scalars(select(CaseLog.case_id).where(CaseLog.action == "deadline_changed")))
    announced = Counter(e["case_id"] for e in units.outbox("cases.deadline_changed"))
    assert trail and set(trail.values()) == {1} and announced == trail  # nothing twice
    assert sum(d["changed"] for d in done) == len(trail)


def test_on_postgresql_only_changed_deadlines_are_written_each_with_its_audit_row_and_event(database):
    """The PostgreSQL path writes a chunk's changes as arrays (issue 9): the same rows the ORM
    path writes — the deadline, one audit row (C1) and one ``cases.deadline_changed`` per moved
    deadline, nothing for a deadline that stayed, nothing in another township."""
    url = database("recompute_writes")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    units = UnitsOfWork(Base, "cases", FrozenClock(now), url=url)
    ids = _seed_cases(url, TOWN, 120, "W")
    others = _seed_cases(url, "t-other", 10, "O")
    with units.unit_of_work(TOWN) as uow:
        # a working day made a holiday moves the deadlines from that day on, not the ones before
        holiday = load_calendar(uow.session, uow.common, TOWN).add_working_days(now.date(), 4).day
        apply_calendar_change(uow.session, uow.common, {"scope": TOWN, "days": [
            {"day": holiday.isoformat(), "working": False}]}, uow.now())
        recompute.mark(uow, TOWN)
    before = _deadlines(units, ids + others)

    done = recompute.Recomputer(chunk=50, quiet=0, max_delay=0, pause=0).settle(units)

    after = _deadlines(units, ids + others)
    moved = {i for i in ids if after[i] != before[i]}
    assert moved and len(moved) < len(ids) and done["changed"] == len(moved)  # some moved, some did not
    assert all(after[i] == before[i] for i in others)
    assert _wrong_deadlines(url, TOWN) == [] and _wrong_deadlines(url, "t-other") == []
    with units.unit_of_work(TOWN) as uow:
        trail = uow.session.scalars(select(CaseLog).where(CaseLog.action == "deadline_changed")).all()
        receipts = dict(uow.session.execute(select(Case.id, Case.receipt_no)).all())
    assert sorted(t.case_id for t in trail) == sorted(moved)
    for t in trail:
        assert (t.township_id, t.holder_person_id, t.reason, t.at) == (TOWN, "clerk", recompute.REASON, now)
        assert t.data == {"due_date": after[t.case_id][0].isoformat(), "provisional": after[t.case_id][1]}
    announced = units.outbox("cases.deadline_changed")
    assert sorted(e["case_id"] for e in announced) == sorted(moved)
    for e in announced:
        assert events.parse("cases.deadline_changed", e)  # a valid body, as the relay sends it
        assert (e["township_id"], e["receipt_no"], e["due_date"], e["provisional"], e["reason"]) == (
            TOWN, receipts[e["case_id"]], after[e["case_id"]][0].isoformat(), after[e["case_id"]][1],
            recompute.REASON)
    assert sorted(e["event_id"] for e in announced) == sorted(e["event_id"] for e in units.emitted)


def _deadlines(units, ids):
    with units.unit_of_work() as uow:
        rows = uow.session.execute(select(Case.id, Case.due_date, Case.provisional).where(Case.id.in_(ids))).all()
    return {i: (d, p) for i, d, p in rows}


@pytest.mark.parametrize("values", [
    ["a", "b"],
    [None, "", "NULL", "null"],
    ['a,b', '{x}', ' spaced ', 'quote"d', 'back\\slash', '\\"', "it's", "人员-01", '{"due_date": "2026-12-01"}'],
])
def test_an_array_literal_reads_back_as_the_values_it_was_made_of(database, values):
    url = database("recompute_arrays")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT CAST(:a AS varchar[])"), {"a": pg_array(values)}).scalar() == values
    finally:
        engine.dispose()
