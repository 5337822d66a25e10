"""Prometheus metrics, one registry per service container.

``Metrics`` is a nameko dependency that times every worker (per-entrypoint calls, errors,
latency histogram) and, at scrape time, reads the outbox backlog, the dead-letter queues'
depth and the service's own domain gauges. Each service serves it on ``GET /metrics``.
"""
from __future__ import annotations

import logging
import time

from kombu import Connection
from nameko.extensions import DependencyProvider
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from .dlq import depth

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def find_metrics(container):
    for dep in container.dependencies:
        if isinstance(dep, Metrics):
            return dep
    return None


class _ScrapeCollector:
    def __init__(self, provider):
        self.provider = provider

    def collect(self):
        p = self.provider
        service = p.container.service_name
        db = p.database()
        if db is not None and db.relay is not None:
            g = GaugeMetricFamily("outbox_backlog", "Events committed but not yet published", labels=["service"])
            try:
                g.add_metric([service], db.relay.backlog())
            except Exception as exc:
                log.warning("metrics: outbox backlog unavailable: %s", exc)
            yield g
        queues = p.handler_queues()
        if queues:
            g = GaugeMetricFamily("dead_letter_queue_depth", "Messages waiting in a dead-letter queue", labels=["service", "queue"])
            try:
                with Connection(p.container.config["AMQP_URI"], connect_timeout=2) as conn:
                    for q in queues:
                        g.add_metric([service, q], depth(conn, q))
            except Exception as exc:
                log.warning("metrics: dead-letter depth unavailable: %s", exc)
            yield g
        if p.gauges and db is not None:
            for name, (doc, fn) in p.gauges.items():
                g = GaugeMetricFamily(name, doc, labels=["township_id"])
                try:
                    with db.unit_of_work() as uow:
                        for township_id, value in fn(uow):
                            g.add_metric([township_id], value)
                except Exception as exc:
                    log.warning("metrics: gauge %s unavailable: %s", name, exc)
                yield g


class Metrics(DependencyProvider):
    """``gauges``: {name: (help, fn(uow) -> iterable of (township_id, value))}."""

    def __init__(self, gauges=None):
        self.gauges = gauges or {}

    def setup(self):
        self.registry = CollectorRegistry(auto_describe=False)
        self.calls = Counter(
            "entrypoint_calls_total", "Calls per entrypoint", ["service", "entrypoint"], registry=self.registry
        )
        self.errors = Counter(
            "entrypoint_errors_total", "Calls that raised, per entrypoint and error type",
            ["service", "entrypoint", "error"], registry=self.registry,
        )
        self.latency = Histogram(
            "entrypoint_latency_seconds", "Entrypoint latency", ["service", "entrypoint"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.dead_letters = Counter(
            "dead_letters_total", "Messages sent to a dead-letter queue by this instance",
            ["service", "queue"], registry=self.registry,
        )
        self.events_handled = Counter(
            "events_handled_total", "Events whose effect was applied (duplicates excluded)",
            ["service", "event_type"], registry=self.registry,
        )
        self.events_duplicate = Counter(
            "events_duplicate_total", "Events received again and skipped (idempotency)",
            ["service", "event_type"], registry=self.registry,
        )
        self.commands_replayed = Counter(
            "commands_replayed_total", "Commands answered from their idempotency record (a retry or a "
            "redelivered request) instead of running again", ["service", "entrypoint"], registry=self.registry,
        )
        self.sweep_errors = Counter(
            "sweep_errors_total", "Sweep items (or whole sweeps) that failed, per sweep and error type",
            ["service", "sweep", "error"], registry=self.registry,
        )
        self.registry.register(_ScrapeCollector(self))
        self._started: dict = {}

    def database(self):
        from .db import Database

        for dep in self.container.dependencies:
            if isinstance(dep, Database):
                return dep
        return None

    def handler_queues(self) -> list[str]:
        """The queues of the reliable handlers (those with a dead-letter queue, handlers.py)."""
        return sorted(
            ep.queue.name for ep in self.container.entrypoints
            if getattr(ep, "dlq", None) is not None and getattr(ep, "queue", None) is not None
        )

    # -- worker hooks ----------------------------------------------------
    def worker_setup(self, worker_ctx):
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        service = self.container.service_name
        name = worker_ctx.entrypoint.method_name
        self.calls.labels(service, name).inc()
        if started is not None:
            self.latency.labels(service, name).observe(time.perf_counter() - started)
        if exc_info is not None:
            self.errors.labels(service, name, exc_info[0].__name__).inc()

    # -- used by the service ---------------------------------------------
    def dead_lettered(self, queue_name: str):
        self.dead_letters.labels(self.container.service_name, queue_name).inc()

    def handled(self, event_type: str, first_time: bool):
        counter = self.events_handled if first_time else self.events_duplicate
        counter.labels(self.container.service_name, event_type).inc()

    def replayed(self, entrypoint: str):
        self.commands_replayed.labels(self.container.service_name, entrypoint).inc()

    def sweep_failed(self, sweep: str, error: str):
        self.sweep_errors.labels(self.container.service_name, sweep, error).inc()

    def expose(self) -> bytes:
        return generate_latest(self.registry)

    def get_dependency(self, worker_ctx):
        return self
