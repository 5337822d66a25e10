"""One sweep timer for every service (ARCHITECTURE "Timers are safe to scale").

A service runs its sweeps like this::

    class CasesService(BaseService):
        sweeper = Sweeper()

        @sweep_timer
        def sweep(self):
            return self.sweeper(timers.sweep)

* **interval** — the container config's ``SWEEP_INTERVAL`` (seconds), which
  ``config.service_config`` fills from ``<SERVICE>_SWEEP_INTERVAL``, else ``SWEEP_INTERVAL``, else
  the service's default (``config.DEFAULT_SWEEP_INTERVALS``: 30 s, staff 600 s);
* **one signature** — a sweep is a plain function ``sweep(run: SweepRun) -> dict[str, int]``
  (what this instance did, by kind). Tests call it with ``SweepRun(units)``;
* **bounded chunks** — ``run.each(kind, items, act)`` runs ``act(uow, item)`` for every
  ``(township_id, item)``, each in its own unit of work bound to that township; after every
  ``chunk`` items it yields to the other green threads, and it stops between chunks when the
  service is stopping (the rest is picked up by the next sweep, here or in another instance);
* **in bulk** — ``run.each_batch(kind, items, act_many)`` does the same work a chunk at a
  time: the items of one township, at most the run's ``batch`` of them, go to ``act_many(uow, items)`` in ONE
  unit of work (read together, claimed with one conditional UPDATE, written with multi-row
  INSERTs). A chunk that fails is rolled back and its items are redone one by one
  (``act_many(uow, [item])``, each in its own unit of work), so one bad row never holds back the
  others and every failing item is counted as ``each`` counts it;
* **claimed** — ``act`` claims its row with ``services.common.db.claim`` (an atomic conditional
  UPDATE, True for the one winner) before acting, so two instances never do it twice; it
  returns whether it did the work (or how many things it did);
* **errors** — an item that fails is rolled back, logged (one line) and counted in
  ``sweep_errors_total{service,sweep,error}``; the other items and the timer go on. A whole
  sweep that fails is logged and counted the same way, never kills the timer, and a failure
  while the service stops is one line, not a traceback.
"""
from __future__ import annotations

import logging
from typing import Callable, Iterable

from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from . import config as cfg
from . import green

log = logging.getLogger(__name__)

CHUNK = 50  # items between two yields
BATCH = 500  # items of one unit of work in ``each_batch`` (one township's)


def interval_of(config: dict, service: str) -> float:
    """The sweep interval of a service container: its config, else the environment's default."""
    value = config.get("SWEEP_INTERVAL")
    interval = float(value) if value not in (None, "") else cfg.sweep_interval(service)
    if interval <= 0:
        raise ValueError(f"SWEEP_INTERVAL of {service} must be a positive number of seconds, not {value!r}")
    return interval


class SweepTimer(Timer):
    """nameko's timer with its interval from the service's config (see :func:`interval_of`).

    The one timer of every service: ``@sweep_timer`` (interval ``SWEEP_INTERVAL``), or, for a
    faster poll, ``@sweep_timer(setting="RECOMPUTE_INTERVAL", default=0.25, eager=True)`` (the
    interval from that key of the container config, else ``default``)."""

    def __init__(self, eager: bool = False, setting: str = "SWEEP_INTERVAL", default: float | None = None,
                 **kwargs):
        super().__init__(None, eager=eager, **kwargs)
        self.setting = setting
        self.default = default

    def setup(self):
        config, service = self.container.config, self.container.service_name
        if self.setting == "SWEEP_INTERVAL":
            self.interval = interval_of(config, service)
        else:
            value = config.get(self.setting)
            self.interval = float(value) if value not in (None, "") else float(self.default)
            if self.interval <= 0:
                raise ValueError(f"{self.setting} of {service} must be a positive number of seconds, not {value!r}")
        super().setup()


sweep_timer = SweepTimer.decorator


class SweepRun:
    """One pass of a sweep: units of work with the service's clock, chunking and error counting.

    ``db`` is anything with ``unit_of_work(township_id=None, clock=None)`` (the service's
    ``Database`` provider, or ``tests.support.units.UnitsOfWork``)."""

    def __init__(self, db, clock=None, chunk: int = CHUNK, on_error: Callable | None = None,
                 stopping: Callable[[], bool] | None = None, batch: int = BATCH):
        if chunk < 1 or batch < 1:
            raise ValueError("chunk and batch must be at least 1")
        self.db = db
        self.clock = clock
        self.chunk = chunk
        self.batch = batch
        self.on_error = on_error
        self.stopping = stopping or (lambda: False)
        self.errors: dict[str, int] = {}

    def unit_of_work(self, township_id=None):
        """A unit of work (commits on success, rolls back on error), on the sweep's clock."""
        return self.db.unit_of_work(township_id, clock=self.clock)

    def each(self, kind: str, items: Iterable, act: Callable, lost: tuple = ()) -> int:
        """``act(uow, item)`` for every ``(township_id, item)`` in ``items``; returns the sum of
        what the acts returned (True counts 1: the item was done here). ``lost``: exception types meaning another instance took the item
        first (skipped, not counted as errors)."""
        done = 0
        for n, (township_id, item) in enumerate(items):
            if n and n % self.chunk == 0:
                green.sleep(0)  # a bounded chunk is done: let the service's other workers run
                if self.stopping():
                    log.info("sweep %s: stopping after %s items; the rest waits for the next sweep", kind, n)
                    break
            try:
                with self.unit_of_work(township_id) as uow:
                    done += int(act(uow, item) or 0)
            except lost:
                continue
            except Exception as exc:
                self.failed(kind, exc, first=not self.errors.get(kind))
        return done

    def each_batch(self, kind: str, items: Iterable, act_many: Callable, lost: tuple = ()) -> int:
        """``act_many(uow, chunk)`` for the ``(township_id, item)`` in ``items``: grouped by township
        (first seen first, each township's items in their order), at most the run's ``batch`` of
        one township in one unit of work bound to it. Returns the sum of what the calls returned (how many
        items were done here). Between two chunks it yields to the other green threads and stops
        when the service is stopping. A chunk that raises is rolled back and redone item by item
        (``act_many(uow, [item])`` through :meth:`each`, with ``lost`` and the error counting of
        ``each``): a bad row costs its own item only."""
        townships: dict = {}
        for township_id, item in items:
            townships.setdefault(township_id, []).append(item)
        done, chunks = 0, 0
        for township_id, township_items in townships.items():
            for start in range(0, len(township_items), self.batch):
                if chunks:
                    green.sleep(0)  # a bounded chunk is done: let the service's other workers run
                    if self.stopping():
                        log.info("sweep %s: stopping after %s chunks; the rest waits for the next sweep", kind, chunks)
                        return done
                chunks += 1
                chunk = township_items[start:start + self.batch]
                try:
                    with self.unit_of_work(township_id) as uow:
                        done += int(act_many(uow, chunk) or 0)
                except Exception as exc:
                    log.warning("sweep %s: a chunk of %s items failed (%s); redoing it item by item",
                                kind, len(chunk), type(exc).__name__)
                    done += self.each(kind, [(township_id, item) for item in chunk],
                                      lambda uow, item: act_many(uow, [item]), lost)
        return done

    def failed(self, kind: str, exc: BaseException, first: bool = True) -> None:
        """Log (a traceback for the first failure of a kind in this pass) and count."""
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if self.stopping():
            log.info("sweep %s interrupted by the service stopping: %s", kind, type(exc).__name__)
        else:
            log.error("sweep %s: an item failed: %s", kind, type(exc).__name__, exc_info=first)
        if self.on_error is not None:
            self.on_error(kind, type(exc).__name__)


class Sweeper(DependencyProvider):
    """``self.sweeper(fn)`` runs the sweep ``fn(run)`` on the service's database and clock,
    counts its errors in the service's metrics and stops it between chunks when the container
    stops. Returns ``fn``'s counts, or ``{}`` when the sweep as a whole failed (logged)."""

    def __init__(self, chunk: int = CHUNK):
        self.chunk = chunk

    def setup(self):
        from .db import Database

        found = [d for d in self.container.dependencies if isinstance(d, Database)]
        if len(found) != 1:
            raise RuntimeError(f"{self.container.service_name}: a Sweeper needs exactly one Database")
        self.database = found[0]

    def get_dependency(self, worker_ctx):
        from .clock import container_clock
        from .metrics import find_metrics

        entrypoint = worker_ctx.entrypoint
        should_stop = getattr(entrypoint, "should_stop", None)
        metrics = find_metrics(self.container)

        def stopping() -> bool:
            return bool(should_stop is not None and should_stop.ready())

        def on_error(kind, error):
            if metrics is not None:
                metrics.sweep_failed(kind, error)

        def run(fn: Callable[[SweepRun], dict]) -> dict:
            sweep = SweepRun(self.database, container_clock(self.container), self.chunk, on_error, stopping)
            try:
                return fn(sweep)
            except Exception as exc:
                sweep.failed(getattr(fn, "__name__", "sweep"), exc)
                return {}

        return run
