"""Recomputing what a calendar change moves, township by township, in bounded chunks (DOMAIN C2;
ARCHITECTURE "Work that can take long runs in bounded chunks that yield"). The engine that
cases' running deadlines (``services/cases/recompute.py``) and notices' open acknowledgement
deadlines (``services/notices/recompute.py``) share:

* ``mark(uow, table, townships)`` — the ``staff.calendar_changed`` handler, in the same
  transaction as the calendar copy, bumps each township's row of the service's marker table
  (columns of :class:`RecomputeMarker`). The need to recompute is durable: a crash or a restart
  resumes it.
* ``Recomputer.run(db, clock, stopping)`` — a timer (``recompute_timer``, the one sweep timer,
  run by the :class:`Recomputing` dependency) polls the marker and works township by township,
  round-robin, ONE chunk per township per turn, each chunk its own transaction, yielding to the
  other green threads between chunks and stopping between chunks when the service stops.
* **sized by time** (issue 9) — a chunk holds about ``budget`` seconds of work (0.1 s: its
  rows stay locked that long), between 50 rows (the old fixed size) and ``chunk`` (1,000): the
  size follows the pace of the last chunk (``resize``), so cheap rows share the fixed costs of a
  chunk and a busy machine gets shorter ones.
* **coalesced** — a township's pass starts only once its calendar has been quiet for ``quiet``
  seconds (at most ``max_delay`` after the first change), so a burst of changes is one pass; a
  change that arrives during a pass restarts it from the first row.
* **claimed** — a chunk locks the township's marker row (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL), reads the cursor, recomputes, and saves the cursor in that same transaction:
  two instances share the work chunk by chunk and never do a chunk twice.

A service subclasses :class:`Recomputer` with its marker ``table``, ``rows`` (the next chunk of
its rows after the cursor, ordered by ``id``) and ``apply`` (recompute them, write what changed,
return how many did).
"""
from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Callable

from nameko.extensions import DependencyProvider
from sqlalchemy import Integer, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from . import green
from .calendar import load_calendar
from .sweep import sweep_timer

log = logging.getLogger(__name__)

CHUNK = 1000  # at most this many rows per chunk (RECOMPUTE_CHUNK) ...
MIN_CHUNK = 50  # ... and at least this many (or CHUNK if smaller), sized by time to take about
BUDGET = 0.1  # seconds (RECOMPUTE_CHUNK_SECONDS): a chunk holds its rows' locks that long
YIELD_EVERY = 10  # rows computed between two yields inside a chunk
PAUSE = 0.01  # seconds between two chunks: requests waiting for the hub go first
QUIET = 1.0
MAX_DELAY = 10.0
INTERVAL = 0.25


class RecomputeMarker:
    """Mixin of a service's marker table: a township whose rows wait for a recompute after a
    calendar change. ``version`` counts the changes; a pass recomputes in chunks, ``cursor``
    (the last row id done) saved with each chunk; it is done when ``done_version`` reaches the
    ``pass_version`` it started with. A change during a pass restarts it."""

    township_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    pass_version: Mapped[int] = mapped_column(Integer, default=0)
    done_version: Mapped[int] = mapped_column(Integer, default=0)
    cursor: Mapped[str | None] = mapped_column(String(32))
    passes: Mapped[int] = mapped_column(Integer, default=0)  # passes started (coalescing shows here)
    changed_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


def dialect(uow) -> str:
    return uow.session.get_bind().dialect.name


def mark(uow, table, townships) -> list[str]:
    """Record, in this transaction, that the rows of ``townships`` must be recomputed."""
    townships = sorted(set(townships))
    now = uow.now()
    if dialect(uow) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    for township_id in townships:
        stmt = upsert(table).values(township_id=township_id, version=1, pass_version=0, done_version=0,
                                    passes=0, changed_at=now)
        uow.session.execute(stmt.on_conflict_do_update(
            index_elements=[table.c.township_id], set_={"version": table.c.version + 1, "changed_at": now}))
    return townships


def mark_scope(uow, table, scope: str | None, *open_townships) -> list[str]:
    """The calendar of ``scope`` (a township id; None = national) changed: record, in this
    transaction, which townships' rows must be recomputed — the one township, or for a national
    change every township with rows to recompute (``open_townships``: selects of township ids)
    and every township the marker has seen. Returns them."""
    if scope:
        return mark(uow, table, [scope])
    townships = set(marked(uow, table))
    for query in open_townships:
        townships |= set(uow.session.execute(query.distinct()).scalars())
    return mark(uow, table, townships)


def marked(uow, table) -> list[str]:
    """Every township the marker has seen (a national change reaches them all)."""
    return list(uow.session.execute(select(table.c.township_id)).scalars())


def pending(uow, table) -> list[tuple[str, int]]:
    """(township, 1) for every township whose rows wait for a recompute (a gauge)."""
    rows = uow.session.execute(select(table.c.township_id).where(table.c.version > table.c.done_version))
    return [(township_id, 1) for township_id, in rows]


class Recomputer:
    """The in-memory side of the work of one service instance: when each dirty township was
    first and last seen changing (to coalesce bursts) and the calendar of each pass."""

    table = None  # the service's marker table (columns of RecomputeMarker)
    unit = "rows"  # what the counts call the rows (cases: "cases")
    what = "rows"  # for the log line

    def __init__(self, chunk: int = CHUNK, quiet: float = QUIET, max_delay: float = MAX_DELAY,
                 monotonic: Callable[[], float] = time.monotonic, pause: float = PAUSE,
                 budget: float = BUDGET, timer: Callable[[], float] = time.perf_counter):
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        if budget <= 0:
            raise ValueError("budget must be positive")
        self.quiet, self.max_delay, self.monotonic = quiet, max_delay, monotonic
        self.pause, self.budget, self.timer = pause, budget, timer
        self.min_chunk, self.max_chunk = min(chunk, MIN_CHUNK), chunk
        #: the size of the next chunk (what ``rows`` returns at most), sized by time between
        #: ``min_chunk`` and ``max_chunk`` (see ``resize``)
        self.chunk = self.min_chunk
        self.seen: dict[str, tuple[int, float, float]] = {}  # township → (version, first, last seen change)
        self.calendars: dict[tuple[str, int], object] = {}

    # -- the service's part ----------------------------------------------------------
    def rows(self, uow, township_id: str, cursor: str | None, lock: bool) -> list:
        """The next chunk (``self.chunk`` rows, each with ``.id``) after ``cursor``, by id;
        ``lock``: on PostgreSQL, lock them for the chunk's transaction. ``self.chunk`` is read
        before the first query (the engine sizes the next chunk once this one is done)."""
        raise NotImplementedError

    def apply(self, uow, township_id: str, cal, rows) -> int:
        """Recompute ``rows`` with the calendar ``cal``; write those that changed; how many."""
        raise NotImplementedError

    # -- which townships are ready ------------------------------------------------
    def ready(self, db) -> list[str]:
        table = self.table
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
        done = {"chunks": 0, self.unit: 0, "changed": 0, "passes": 0}
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
                for key in (self.unit, "changed", "passes"):
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
        table = self.table
        size, started_at = self.chunk, self.timer()
        with db.unit_of_work(township_id, clock=clock) as uow:
            postgres = dialect(uow) == "postgresql"
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
            rows = self.rows(uow, township_id, cursor, postgres)
            changed = self.apply(uow, township_id, cal, rows)
            finished = len(rows) < size
            values = {"pass_version": pass_version, "passes": passes,
                      "cursor": None if finished else rows[-1].id}
            if finished:
                values.update(done_version=pass_version, done_at=uow.now())
            uow.session.execute(update(table).where(table.c.township_id == township_id).values(**values))
        self.resize(size, len(rows), self.timer() - started_at)
        if finished:
            log.info("%s recomputed after a calendar change", self.what, extra={"township_id": township_id})
        return {self.unit: len(rows), "changed": changed, "passes": started, "finished": finished}

    def resize(self, size: int, done: int, seconds: float) -> None:
        """Size the next chunk by time: as many rows as the last chunk's pace fits in
        ``budget`` seconds (its transaction, the locks on its rows included), between
        ``min_chunk`` (the fixed size this engine had: never worse than it) and ``max_chunk``,
        at most doubling from one chunk to the next. A chunk's fixed costs (the claim, the
        cursor, the queries, the commit) are shared by more rows when rows are cheap; when the
        machine is busy (the time counts the other green threads that ran while the chunk
        yielded) chunks shrink, and so do the waits of requests for their rows. A chunk cut
        short by the end of the pass (``done < size``) says nothing of the pace."""
        if done < size:
            return
        pace = max(seconds, 1e-6) / done
        self.chunk = max(self.min_chunk, min(self.max_chunk, 2 * size, int(self.budget / pace)))

    def settle(self, db, clock=None) -> dict:
        """Tests and tools: recompute everything now, ignoring the quiet period."""
        quiet, max_delay = self.quiet, self.max_delay
        self.quiet = self.max_delay = 0
        try:
            return self.run(db, clock)
        finally:
            self.quiet, self.max_delay = quiet, max_delay


# -- running it in a service ---------------------------------------------------------------

def setting(config: dict, key: str, default):
    """The container config's value (``config.service_config`` takes it from the environment)."""
    value = config.get(key)
    return default if value in (None, "") else value


#: polls for townships whose rows wait for a recompute (``RECOMPUTE_INTERVAL`` s): the one
#: sweep timer (services/common/sweep.py) on its own setting
recompute_timer = sweep_timer(setting="RECOMPUTE_INTERVAL", default=INTERVAL, eager=True)


class Recomputing(DependencyProvider):
    """``self.recomputing()`` runs ``factory(...).run`` on the service's database and clock,
    stopping between chunks when the container stops. One Recomputer per container (it
    remembers when each township last changed, the calendar of each pass and the pace of its
    chunks). Tuned by the config's ``RECOMPUTE_CHUNK`` (rows at most per chunk),
    ``RECOMPUTE_CHUNK_SECONDS`` (the time a chunk is sized to), ``RECOMPUTE_QUIET``,
    ``RECOMPUTE_MAX_DELAY``."""

    def __init__(self, factory: Callable[..., Recomputer]):
        self.factory = factory

    def setup(self):
        config = self.container.config
        self.recomputer = self.factory(
            chunk=int(setting(config, "RECOMPUTE_CHUNK", CHUNK)),
            budget=float(setting(config, "RECOMPUTE_CHUNK_SECONDS", BUDGET)),
            quiet=float(setting(config, "RECOMPUTE_QUIET", QUIET)),
            max_delay=float(setting(config, "RECOMPUTE_MAX_DELAY", MAX_DELAY)))

    def get_dependency(self, worker_ctx):
        from .clock import container_clock
        from .db import Database

        database = next(d for d in self.container.dependencies if isinstance(d, Database))
        should_stop = getattr(worker_ctx.entrypoint, "should_stop", None)

        def run():
            return self.recomputer.run(database, container_clock(self.container),
                                       lambda: bool(should_stop is not None and should_stop.ready()))

        return run
