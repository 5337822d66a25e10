"""One township changes its calendar 20 times with 1,000 open cases (issue 7, must-show 4):
another township's ``GET /cases/{id}`` keeps a p99 under 500 ms throughout, the burst is
coalesced into one or two passes, and afterwards every deadline is what a fresh computation
gives (DOMAIN C2). Staff, cases and the gateway run as processes on PostgreSQL, as `make run`
starts them; the changes go through the gateway (PUT /calendar → staff → staff.calendar_changed
→ cases)."""
from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta, timezone

import eventlet
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from services.cases import deadlines
from services.cases.models import Base, CalendarRecompute, Case
from services.common.calendar import load_calendar
from services.common.migrate import upgrade
from tests.support.processes import processes
from tests.support.runtime import wait_for
from tests.support.system import Api, Township, operator_token

pytestmark = pytest.mark.e2e

SECRET = "e2e-secret-" + "c" * 40
OPEN_CASES = 1000
CHANGES = 20


def _seed_cases(url: str, township_id: str, n: int, prefix: str) -> list[str]:
    """``n`` running promised cases, accepted over the last days, with their right deadlines."""
    engine = create_engine(url)
    today = datetime.now(timezone.utc).date()
    now = datetime.now(timezone.utc)
    ids = []
    with Session(engine) as session:
        cal = load_calendar(session, Base.common, township_id)
        for i in range(n):
            accepted_on = today - timedelta(days=i % 7)
            promised = 3 + i % 10
            due = deadlines.due(cal, deadlines.DeadlineInputs(accepted_on, promised))
            case = Case(township_id=township_id, application_id=f"{prefix}-app-{i}", receipt_no=f"{prefix}-{i:05d}",
                        item_code="MZ-002", item_version=1, item_name="城乡低保申请", kind="promised",
                        original_kind="promised", state="in_review", handler_person_id="clerk",
                        holder_person_id="clerk", accepted_at=now, accepted_on=accepted_on,
                        clock_started_on=accepted_on, promised_days=promised, extension_days=0, paused_days=0,
                        due_date=due.day, provisional=due.provisional, created_at=now)
            session.add(case)
            ids.append(case)
        session.commit()
        ids = [c.id for c in ids]
    engine.dispose()
    return ids


def _wrong_deadlines(url: str, township_id: str) -> list:
    """Running cases whose stored deadline differs from a fresh computation on the calendar copy."""
    engine = create_engine(url)
    with Session(engine) as session:
        cal = load_calendar(session, Base.common, township_id)
        cases = session.scalars(select(Case).where(Case.township_id == township_id)).all()
        wrong = [(c.id, c.due_date, due.day) for c in cases
                 if (due := deadlines.due(cal, deadlines.DeadlineInputs(
                     c.clock_started_on, c.promised_days, c.extension_days, c.paused_days))).day != c.due_date
                 or due.provisional != c.provisional]
    engine.dispose()
    return wrong


def _marker(url: str, township_id: str):
    engine = create_engine(url)
    with Session(engine) as session:
        row = session.get(CalendarRecompute, township_id)
        result = None if row is None else (row.version, row.done_version, row.passes)
    engine.dispose()
    return result


def _weekdays(start: date, n: int) -> list[str]:
    days, day = [], start
    while len(days) < n:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day.isoformat())
    return days


def test_a_busy_townships_calendar_does_not_stall_another_township(broker, database, tmp_path):
    urls = {name: database(name) for name in ("staff", "cases")}
    for name, url in urls.items():
        upgrade(name, url)
    with processes(broker.uri, tmp_path, urls, ["staff", "cases", "gateway"], GATEWAY_JWT_SECRET=SECRET,
                   SWEEP_INTERVAL="3600") as procs:  # the sweeps are another issue's: not measured here
        api = Api(procs["gateway"].url)
        op = api.as_(operator_token(broker.uri, key=SECRET))
        busy, quiet = Township(api, op, "busy-t", "忙镇"), Township(api, op, "quiet-t", "静镇")
        _seed_cases(urls["cases"], busy.id, OPEN_CASES, "B")
        quiet_cases = _seed_cases(urls["cases"], quiet.id, 20, "Q")
        assert quiet.boss.get(f"/cases/{quiet_cases[0]}").status_code == 200

        samples: list[tuple[float, float, int]] = []  # (when, seconds, status)
        stop = eventlet.event.Event()

        def poll():
            rng = random.Random()
            while not stop.ready():
                started = time.monotonic()
                status = quiet.boss.get(f"/cases/{rng.choice(quiet_cases)}").status_code
                samples.append((started, time.monotonic() - started, status))
                eventlet.sleep(0.02)

        pollers = [eventlet.spawn(poll) for _ in range(2)]
        try:
            eventlet.sleep(4.0)  # the quiet township's normal latency
            baseline = sorted(s[1] for s in samples)
            began = time.monotonic()
            holidays = _weekdays(datetime.now(timezone.utc).date(), CHANGES)
            for i, day in enumerate(holidays):  # 20 changes in a row; two of three are holidays
                r = busy.boss.put("/calendar", {"days": [{"day": day, "working": i % 3 == 2, "note": f"调整{i}"}]})
                assert r.status_code == 200, r.text
            puts_done = time.monotonic()
            wait_for(lambda: (m := _marker(urls["cases"], busy.id)) and m[0] == m[1] == CHANGES, timeout=40,
                     interval=0.2, message="the busy township's deadlines to be recomputed after all 20 changes")
            ended = time.monotonic()
            eventlet.sleep(0.5)
        finally:
            stop.send(True)
            for p in pollers:
                p.wait()

    during = sorted(s[1] for s in samples if began <= s[0] <= ended)
    assert all(s[2] == 200 for s in samples)
    assert len(during) >= 20
    p99 = during[min(len(during) - 1, int(len(during) * 0.99))]
    version, done, passes = _marker(urls["cases"], busy.id)
    before_p99 = baseline[min(len(baseline) - 1, int(len(baseline) * 0.99))]
    print(f"\nquiet township GET /cases/{{id}}: before p50 {baseline[len(baseline) // 2] * 1000:.0f} ms, "
          f"p99 {before_p99 * 1000:.0f} ms; "
          f"during {len(during)} requests over {ended - began:.1f} s: p50 {during[len(during) // 2] * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms, max {during[-1] * 1000:.0f} ms; {CHANGES} changes → {passes} passes; "
          f"PUTs took {puts_done - began:.1f} s, recompute after them {ended - puts_done:.1f} s; "
          f"max while PUTs {max([s[1] for s in samples if began <= s[0] <= puts_done] or [0]) * 1000:.0f} ms, "
          f"max after {max([s[1] for s in samples if puts_done <= s[0] <= ended] or [0]) * 1000:.0f} ms")
    # 500 ms on a machine of its own (CI); where other work loads the machine the quiet township is
    # slow before any change, so the bound is then 4× its own p99 before the changes
    bound = max(0.5, 4 * before_p99)
    assert p99 < bound, f"p99 {p99 * 1000:.0f} ms (bound {bound * 1000:.0f} ms) while another township's " \
                        "deadlines were recomputed"
    assert passes <= 3, f"{CHANGES} changes in a row took {passes} passes (coalescing failed)"
    assert _wrong_deadlines(urls["cases"], busy.id) == []
    assert _wrong_deadlines(urls["cases"], quiet.id) == []
