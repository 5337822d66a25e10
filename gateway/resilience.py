"""Failure stays where it happens (issue 7; ARCHITECTURE "Failure stays where it happens").

Every RPC the gateway makes goes through ``ServiceRpc`` (an ``Rpc`` of services/common/rpc.py),
so each call
- waits at most what is left of the request's deadline (``GATEWAY_DEADLINE``, set when the
  request arrives, waiting for a worker included);
- passes the target's **bulkhead**: at most ``GATEWAY_SERVICE_LIMIT`` calls to one service at a
  time from this gateway; one more is refused at once (503 naming it), so a slow or dead service
  holds only its share of the ``GATEWAY_WORKERS`` workers;
- passes the target's **circuit breaker**: after ``GATEWAY_BREAKER_FAILURES`` failures in a row
  (no reply in time, not running, broker unreachable) it opens and calls fail fast (503 naming
  the service, ``Retry-After`` the time left) for ``GATEWAY_BREAKER_RESET`` seconds; then it is
  half-open: one call tries, and closes it or opens it again. The background probe closes it as
  soon as the service answers its health check.

A background probe calls each service's ``health`` every ``GATEWAY_PROBE_INTERVAL`` seconds
(bounded by ``GATEWAY_PROBE_TIMEOUT``), all at once; ``/health`` reads the last results and the
breakers' state, so it answers at once whichever service is down.
"""
from __future__ import annotations

import logging
import os
import time

from nameko.containers import WorkerContext
from nameko.rpc import RpcProxy

from services.common import green
from services.common.errors import ServiceUnavailable
from services.common.rpc import Rpc, broker_errors, retry_after

log = logging.getLogger("gateway")

CLOSED, HALF_OPEN, OPEN = "closed", "half_open", "open"
STATE_VALUE = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}


def _setting(name: str, default: float) -> float:
    return float(os.environ.get(name, str(default)))


def settings() -> dict:
    return {
        "deadline": _setting("GATEWAY_DEADLINE", 10),
        "workers": int(_setting("GATEWAY_WORKERS", 100)),
        "service_limit": int(_setting("GATEWAY_SERVICE_LIMIT", 15)),
        "breaker_failures": int(_setting("GATEWAY_BREAKER_FAILURES", 5)),
        "breaker_reset": _setting("GATEWAY_BREAKER_RESET", 5),
        "probe_interval": _setting("GATEWAY_PROBE_INTERVAL", 2),
        "probe_timeout": _setting("GATEWAY_PROBE_TIMEOUT", 1.5),
    }


class Breaker:
    """closed → (``failures`` failures in a row) → open → (``reset`` s) → half-open → one trial:
    success closes, failure opens again. ``now`` is injectable for tests."""

    def __init__(self, failures: int = 5, reset: float = 5.0, now=time.monotonic):
        self.threshold = max(1, failures)
        self.reset = reset
        self.now = now
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self.trial = False  # a half-open trial is under way
        self.on_change = None

    def _set(self, state: str) -> None:
        if state != self.state:
            log.warning("breaker %s → %s", self.state, state)
            self.state = state
            if self.on_change:
                self.on_change(state)

    def current(self) -> str:
        if self.state == OPEN and self.now() - self.opened_at >= self.reset:
            self._set(HALF_OPEN)
            self.trial = False
        return self.state

    def retry_in(self) -> float:
        return max(0.0, self.reset - (self.now() - self.opened_at)) if self.state == OPEN else 1.0

    def allow(self) -> bool:
        """May a call go now? In half-open, only one trial at a time."""
        state = self.current()
        if state == CLOSED:
            return True
        if state == HALF_OPEN and not self.trial:
            self.trial = True
            return True
        return False

    def success(self) -> None:
        self.failures = 0
        self.trial = False
        self._set(CLOSED)

    def failure(self) -> None:
        self.trial = False
        self.failures += 1
        if self.state == HALF_OPEN or self.failures >= self.threshold:
            self.opened_at = self.now()
            self._set(OPEN)

    def release(self) -> None:
        """A trial that ended without telling (the caller's own deadline had passed)."""
        self.trial = False


class Bulkhead:
    """At most ``limit`` calls at once; one more is refused, never queued (a queued call would
    hold a gateway worker while it waits)."""

    def __init__(self, limit: int):
        self.limit = max(1, limit)
        self.in_flight = 0

    def enter(self) -> bool:
        if self.in_flight >= self.limit:
            return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)


class _ProbeEntrypoint:
    method_name = "health_probe"


class ServiceRpc(Rpc):
    """The gateway's proxy to one service: deadline, bulkhead, breaker, metrics, probe."""

    def setup(self):
        super().setup()
        conf = settings()
        self.breaker = Breaker(conf["breaker_failures"], conf["breaker_reset"])
        self.breaker.on_change = self._breaker_changed
        self.bulkhead = Bulkhead(conf["service_limit"])
        self.probe_interval = conf["probe_interval"]
        self.probe_timeout = conf["probe_timeout"]
        self.last_probe: dict = {"ok": None, "detail": "not probed yet"}
        self._gt = None

    def start(self):
        super().start()
        self._gauge(self.breaker.current())
        self._gt = self.container.spawn_managed_thread(self._probe_loop, identifier=f"probe-{self.target_service}")

    def stop(self):
        if self._gt is not None:
            self._gt.kill()
        super().stop()

    def kill(self):
        if self._gt is not None:
            self._gt.kill()
        super().kill()

    # -- metrics -------------------------------------------------------------------
    def _metrics(self):
        from services.common.metrics import find_metrics

        metrics = find_metrics(self.container)
        return metrics if metrics is not None and hasattr(metrics, "rpc_calls") else None

    def _count(self, outcome: str) -> None:
        metrics = self._metrics()
        if metrics is not None:
            metrics.rpc_calls.labels(self.target_service, outcome).inc()

    def _gauge(self, state: str) -> None:
        metrics = self._metrics()
        if metrics is not None:
            metrics.breaker_state.labels(self.target_service).set(STATE_VALUE[state])

    def _breaker_changed(self, state: str) -> None:
        log.warning("breaker of %s is %s", self.target_service, state, extra={"service": self.target_service})
        self._gauge(state)

    # -- the guard around every call ------------------------------------------------
    def guard(self):
        return self.call

    def call(self, service: str, fn):
        breaker, bulkhead = self.breaker, self.bulkhead
        if not breaker.allow():
            self._count("rejected_open")
            raise ServiceUnavailable.of(service, "failing, calls are held back for a moment (circuit open)",
                                        retry_after(breaker.retry_in()))
        if not bulkhead.enter():
            breaker.release()
            self._count("rejected_busy")
            raise ServiceUnavailable.of(service, f"{bulkhead.limit} calls already waiting for it (bulkhead full)")
        try:
            result = fn()
        except ServiceUnavailable as exc:
            if exc.failure:  # no answer: no reply in time, not running, broker unreachable
                breaker.failure()
                self._count("timeout" if "no reply" in exc.message else "unavailable")
            elif exc.service == service:  # the request's deadline had passed before the call
                breaker.release()
                self._count("deadline")
            else:  # the service answered that one it depends on is away: it runs
                breaker.success()
                self._count("error")
            raise
        except broker_errors():
            breaker.failure()
            self._count("unavailable")
            raise
        except BaseException as exc:
            # an answer (a domain error) — the service is up; a greenlet kill is not an answer
            if isinstance(exc, Exception):
                breaker.success()
                self._count("error")
            else:
                breaker.release()
            raise
        finally:
            bulkhead.leave()
        breaker.success()
        self._count("ok")
        return result

    # -- probing ----------------------------------------------------------------------
    def _probe_loop(self):
        while True:
            self.probe()
            green.sleep(self.probe_interval)

    def probe(self) -> dict:
        """Ask the service's ``health`` (bounded); feeds the breaker: an answer closes it, no
        answer counts as a failure (while closed or half-open)."""
        started = time.monotonic()
        ctx = WorkerContext(self.container, None, _ProbeEntrypoint(), data={})
        method = RpcProxy.get_dependency(self, ctx)  # the plain proxy: no guard around the probe
        result: dict
        try:
            from services.common.rpc import call as rpc_call

            answer = rpc_call(method.health, timeout=self.probe_timeout)
            result = {"ok": bool(answer.get("ok")), "detail": "ok" if answer.get("ok") else answer.get("checks")}
            self.breaker.success()  # it answers: closed at once, whatever the state (probed back)
        except ServiceUnavailable as exc:
            result = {"ok": False, "detail": f"unavailable: {exc.message}"}
            if self.breaker.current() == CLOSED or self.breaker.allow():
                self.breaker.failure()
        except Exception as exc:  # the service answered with an error: it runs
            result = {"ok": False, "detail": f"unhealthy: {type(exc).__name__}"}
            self.breaker.success()
        result["at"] = time.time()
        result["seconds"] = round(time.monotonic() - started, 3)
        self.last_probe = result
        return result

    def state(self) -> dict:
        return {"breaker": self.breaker.current(), "in_flight": self.bulkhead.in_flight,
                "last_probe": dict(self.last_probe)}


def service_proxies(container) -> dict:
    return {dep.target_service: dep for dep in container.dependencies if isinstance(dep, ServiceRpc)}


# -- own capacity for the platform routes ---------------------------------------------------

_platform_pool = None


def platform_pool():
    """A small pool of its own for /health, /metrics and /openapi.json: they answer even when
    every one of the gateway's workers is busy."""
    global _platform_pool
    if _platform_pool is None:
        from eventlet.greenpool import GreenPool

        _platform_pool = GreenPool(int(_setting("GATEWAY_PLATFORM_WORKERS", 20)))
    return _platform_pool


def spawn_platform_worker(container, entrypoint, args, kwargs, context_data, handle_result):
    """``container.spawn_worker`` on the platform pool (same worker life cycle: dependencies
    injected, worker_setup/teardown, result handling)."""
    service = container.service_cls()
    worker_ctx = WorkerContext(container, service, entrypoint, args, kwargs, data=context_data)
    gt = platform_pool().spawn(container._run_worker, worker_ctx, handle_result)
    gt.link(container._handle_worker_thread_exited, worker_ctx)
    container._worker_threads[worker_ctx] = gt
    return worker_ctx
