"""Recomputing running deadlines after a calendar change (DOMAIN C2; issue 7 "Heavy handlers
never block").

A deadline is always recomputed from its inputs (``deadlines.due``), so a calendar change — a
township's local holiday, a year of the national schedule loaded — must reach every running
case. Doing that inside the ``staff.calendar_changed`` handler held one worker and the CPU for
seconds per change (20 changes with 1,000 open cases stalled every township for 25 s). Instead:

* ``mark(uow, scope)`` — the handler, in the same transaction as the calendar copy, bumps the
  township's row in ``calendar_recompute`` (a national change: every township with running
  cases). The need to recompute is durable: a crash or a restart resumes it.
* ``Recomputer.run(...)`` — a timer polls the rows and works township by township, round-robin,
  ONE chunk (default 50 cases) per township per turn, each chunk its own transaction, yielding
  to the other green threads between chunks and stopping between chunks when the service stops.
* **coalesced** — a township's pass starts only once its calendar has been quiet for
  ``quiet`` seconds (default 1; at most ``max_delay``, default 10 s, after the first change),
  so a burst of 20 changes is one pass, not 20; a change that arrives during a pass restarts
  it from the first case (``version`` moved past ``pass_version``).
* **claimed** — a chunk locks the township's row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL)
  and the chunk's cases, reads the cursor, recomputes, and saves the cursor in that same
  transaction: two instances of cases share the work chunk by chunk and never do a chunk twice;
  a case changed meanwhile (an extension, a pause) waits for the chunk or is seen after it.
* **cheap** — the calendar is loaded once per pass (cached by township and version), cases are
  read as plain rows, and only changed deadlines are written: one bulk UPDATE, one bulk
  INSERT of audit rows, one multi-row INSERT of ``cases.deadline_changed`` events.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from sqlalchemy import Boolean, Date, String, column, insert, select, update, values

from services.common import green
from services.common.calendar import load_calendar

from . import deadlines
from .casebook import RUNNING, _jsonable
from .models import CalendarRecompute, Case, CaseLog

log = logging.getLogger(__name__)

RECOMPUTED = (*RUNNING, "suspended")  # cases whose deadline is counted (C2, C11)
CHUNK = 50
YIELD_EVERY = 10  # cases computed between two yields inside a chunk
PAUSE = 0.01  # seconds between two chunks: requests waiting for the hub go first
QUIET = 1.0
MAX_DELAY = 10.0
REASON = "calendar changed"


def _dialect(uow) -> str:
    return uow.session.get_bind().dialect.name


def mark(uow, scope: str | None) -> list[str]:
    """The calendar of ``scope`` (a township id; None = national) changed: record, in this
    transaction, that its townships' running deadlines must be recomputed. Returns them."""
    table = CalendarRecompute.__table__
    if scope:
        townships = [scope]
    else:
        with_cases = uow.session.execute(
            select(Case.township_id).where(Case.state.in_(RECOMPUTED), Case.clock_started_on.is_not(None))
            .distinct()).scalars()
        known = uow.session.execute(select(table.c.township_id)).scalars()
        townships = sorted(set(with_cases) | set(known))
    now = uow.now()
    dialect = _dialect(uow)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    for township_id in townships:
        stmt = upsert(table).values(township_id=township_id, version=1, pass_version=0, done_version=0,
                                    passes=0, changed_at=now)
        uow.session.execute(stmt.on_conflict_do_update(
            index_elements=[table.c.township_id], set_={"version": table.c.version + 1, "changed_at": now}))
    return townships


def pending(uow) -> list[tuple[str, int]]:
    """(township, 1) for every township whose deadlines wait for a recompute (a gauge)."""
    table = CalendarRecompute.__table__
    rows = uow.session.execute(select(table.c.township_id).where(table.c.version > table.c.done_version))
    return [(township_id, 1) for township_id, in rows]


def _update_deadlines(uow, updates: list[dict]) -> None:
    """One UPDATE … FROM (VALUES …) on PostgreSQL (an executemany is a round trip per row)."""
    if _dialect(uow) != "postgresql":
        uow.session.execute(update(Case), updates)
        return
    cases = Case.__table__
    rows = values(column("id", String), column("due_date", Date), column("provisional", Boolean), name="v").data(
        [(u["id"], u["due_date"], u["provisional"]) for u in updates])
    uow.session.execute(update(cases).where(cases.c.id == rows.c.id)
                        .values(due_date=rows.c.due_date, provisional=rows.c.provisional))


class Recomputer:
    """The in-memory side of the work of one service instance: when each dirty township was
    first and last seen changing (to coalesce bursts) and the calendar of each pass."""

    def __init__(self, chunk: int = CHUNK, quiet: float = QUIET, max_delay: float = MAX_DELAY,
                 monotonic: Callable[[], float] = time.monotonic, pause: float = PAUSE):
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        self.chunk, self.quiet, self.max_delay, self.monotonic = chunk, quiet, max_delay, monotonic
        self.pause = pause
        self.seen: dict[str, tuple[int, float, float]] = {}  # township → (version, first, last seen change)
        self.calendars: dict[tuple[str, int], object] = {}

    # -- which townships are ready ------------------------------------------------
    def ready(self, db) -> list[str]:
        table = CalendarRecompute.__table__
        with db.unit_of_work() as uow:
            rows = uow.session.execute(
                select(table.c.township_id, table.c.version, table.c.pass_version, table.c.cursor)
                .where(table.c.version > table.c.done_version).order_by(table.c.changed_at)).all()
        now = self.monotonic()
        ready = []
        dirty = set()
        for township_id, version, pass_version, cursor in rows:
            dirty.add(township_id)
            seen = self.seen.get(township_id)
            if seen is None:
                seen = (version, now, now)
            elif seen[0] != version:
                seen = (version, seen[1], now)
            self.seen[township_id] = seen
            resuming = pass_version == version and cursor is not None  # a pass under way (or left by a crash)
            if resuming or now - seen[2] >= self.quiet or now - seen[1] >= self.max_delay:
                ready.append(township_id)
        for township_id in set(self.seen) - dirty:
            del self.seen[township_id]
        return ready

    # -- the work -------------------------------------------------------------------
    def run(self, db, clock=None, stopping: Callable[[], bool] = lambda: False) -> dict:
        """Work until no township is ready: one chunk per ready township per turn (fair between
        townships), yielding after each chunk. Returns what this instance did."""
        done = {"chunks": 0, "cases": 0, "changed": 0, "passes": 0}
        while not stopping():
            townships = self.ready(db)
            if not townships:
                break
            worked = False
            for township_id in townships:
                if stopping():
                    break
                result = self.chunk_of(db, township_id, clock)
                green.sleep(self.pause)  # a bounded chunk is done: let the service's other workers run
                if result is None:
                    continue
                worked = True
                done["chunks"] += 1
                for key in ("cases", "changed", "passes"):
                    done[key] += result[key]
            if not worked:  # every ready township is being worked by another instance
                break
        return done

    def calendar(self, uow, township_id: str, version: int):
        key = (township_id, version)
        cal = self.calendars.get(key)
        if cal is None:
            for old in [k for k in self.calendars if k[0] == township_id]:
                del self.calendars[old]
            cal = self.calendars[key] = load_calendar(uow.session, uow.common, township_id)
        return cal

    def chunk_of(self, db, township_id: str, clock=None) -> dict | None:
        """One chunk of ``township_id``'s pass, in one transaction; None if there is nothing to
        do or another instance holds the township right now."""
        table = CalendarRecompute.__table__
        with db.unit_of_work(township_id, clock=clock) as uow:
            postgres = _dialect(uow) == "postgresql"
            stmt = select(table).where(table.c.township_id == township_id)
            if postgres:
                stmt = stmt.with_for_update(skip_locked=True)
            row = uow.session.execute(stmt).mappings().first()
            if row is None or row["done_version"] >= row["version"]:
                return None
            pass_version, cursor, passes, started = row["pass_version"], row["cursor"], row["passes"], 0
            if pass_version != row["version"]:  # a new pass, or a change restarted this one
                pass_version, cursor, passes, started = row["version"], None, passes + 1, 1
            cal = self.calendar(uow, township_id, pass_version)
            cases = select(Case.id, Case.clock_started_on, Case.promised_days, Case.extension_days,
                           Case.paused_days, Case.due_date, Case.provisional, Case.receipt_no,
                           Case.holder_person_id).where(
                Case.township_id == township_id, Case.state.in_(RECOMPUTED),
                Case.clock_started_on.is_not(None)).order_by(Case.id).limit(self.chunk)
            if cursor is not None:
                cases = cases.where(Case.id > cursor)
            if postgres:  # an extension or a pause of one of these waits for this chunk
                cases = cases.with_for_update(of=Case.__table__)
            rows = uow.session.execute(cases).all()
            changed = self._apply(uow, township_id, cal, rows)
            finished = len(rows) < self.chunk
            values = {"pass_version": pass_version, "passes": passes,
                      "cursor": None if finished else rows[-1].id}
            if finished:
                values.update(done_version=pass_version, done_at=uow.now())
            uow.session.execute(update(table).where(table.c.township_id == township_id).values(**values))
        if finished:
            log.info("deadlines recomputed after a calendar change", extra={"township_id": township_id})
        return {"cases": len(rows), "changed": changed, "passes": started, "finished": finished}

    @staticmethod
    def _apply(uow, township_id: str, cal, rows) -> int:
        """Recompute each row's deadline (C2/C3/C11); write only those that changed."""
        now = uow.now()
        updates, trail, events = [], [], []
        provisional = 0
        for n, r in enumerate(rows):
            if n and n % YIELD_EVERY == 0:
                green.sleep(0)  # computing a chunk must not hold the hub either
            due = deadlines.due(cal, deadlines.DeadlineInputs(
                r.clock_started_on, r.promised_days, r.extension_days or 0, r.paused_days or 0))
            if (due.day, due.provisional) == (r.due_date, bool(r.provisional)):
                continue
            provisional += due.provisional
            updates.append({"id": r.id, "due_date": due.day, "provisional": due.provisional})
            trail.append(dict(case_id=r.id, township_id=township_id, action="deadline_changed",
                              holder_person_id=r.holder_person_id, reason=REASON, at=now,
                              data=_jsonable({"due_date": due.day, "provisional": due.provisional})))
            events.append(dict(case_id=r.id, receipt_no=r.receipt_no, due_date=due.day.isoformat(),
                               provisional=due.provisional, reason=REASON))
        if updates:
            _update_deadlines(uow, updates)
            green.sleep(0)
            uow.session.execute(insert(CaseLog), trail)
            for start in range(0, len(events), YIELD_EVERY):  # validating events costs ~1 ms each
                green.sleep(0)
                uow.emit_many("cases.deadline_changed", events[start:start + YIELD_EVERY], township_id=township_id)
        if provisional:
            log.warning("%s provisional deadlines: a year without calendar data (C2); the operator must load it",
                        provisional, extra={"township_id": township_id})
        return len(updates)

    def settle(self, db, clock=None) -> dict:
        """Tests and tools: recompute everything now, ignoring the quiet period."""
        quiet, max_delay = self.quiet, self.max_delay
        self.quiet = self.max_delay = 0
        try:
            return self.run(db, clock)
        finally:
            self.quiet, self.max_delay = quiet, max_delay
