"""Two instances of cases recompute one township's deadlines at once, on PostgreSQL (issue 7,
"Heavy handlers never block"; ARCHITECTURE "Timers are safe to scale"): they share the pass
chunk by chunk (the township's row is claimed with FOR UPDATE SKIP LOCKED and the cursor saved
with each chunk), so every deadline is right and each change is recorded and announced once."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import eventlet
from sqlalchemy import select

from services.cases import recompute
from services.cases.models import Base, CalendarRecompute, CaseLog
from services.common.calendar import apply_calendar_change
from services.common.clock import SystemClock
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
