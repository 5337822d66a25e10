"""What every service class has: clock, call log, metrics, ``/metrics``, ``/health``.

A service is ``class CasesService(BaseService): name = "cases"; db = Database(Base)``;
nameko collects the inherited entrypoints and dependencies.
"""
from __future__ import annotations

import json
from functools import partial

from kombu import Connection
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc
from nameko.web.handlers import http
from werkzeug.wrappers import Response

from . import idempotency
from .clock import Clock
from .config import Config
from .logs import CallLog
from .metrics import Metrics
from .sweep import Sweeper, sweep_timer
from .tenancy import LEADERS, Caller


def broker_check(amqp_uri: str) -> str:
    """"ok", or why the broker cannot be reached (within 3 s)."""
    try:
        with Connection(amqp_uri, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return "ok"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"


def consumers_check(container) -> str:
    """"ok" once every queue consumer of the container consumes from the broker; "starting"
    before that. nameko starts a container's extensions side by side, so ``/health`` answered
    while the event queues were still being declared and bound: an event published in that
    moment to a queue not yet there was routed nowhere (found by the mid-stream stop test, which
    lost the first of its events 1 run in 20)."""
    from nameko.messaging import QueueConsumer

    for ext in getattr(container, "subextensions", ()):
        if isinstance(ext, QueueConsumer) and not ext._consumers_ready.ready():
            return "starting"
    return "ok"


class Consumers(DependencyProvider):
    """``self.consumers()``: :func:`consumers_check` of this container (a narrow provider)."""

    def get_dependency(self, worker_ctx):
        return partial(consumers_check, self.container)


def check_health(service: str, config, db=None, consumers: str | None = None, via_broker: bool = False) -> dict:
    """The broker (``config["AMQP_URI"]``), the container's consumers (``consumers``, from
    ``self.consumers()``) and, for a service with a database, ``db.health()`` (the worker's
    ``self.db``: the database and the outbox backlog). ``via_broker``: the question came by RPC,
    so the broker carried it and carries the answer — no test connection is opened (the
    gateway's probe asks every 2 s; a connection per probe kept the broker busy, issue 9)."""
    report = {"service": service, "ok": True, "checks": {}}
    report["checks"]["broker"] = "ok" if via_broker else broker_check(config["AMQP_URI"])
    if consumers is not None:
        report["checks"]["consumers"] = consumers
    report["ok"] = all(report["checks"][name] == "ok" for name in report["checks"])
    if db is not None:
        report["checks"].update(db.health())
        report["ok"] = report["ok"] and report["checks"]["database"] == "ok"
    return report


class BaseService:
    """Subclasses set ``name``, ``db = Database(Base)`` and, for rules as data, ``rules``
    (a ``RuleBook``): then directors read and change the township's settings by RPC."""

    rules = None
    clock = Clock()
    caller = Caller()
    log = CallLog()
    metrics = Metrics()
    config = Config()
    sweeper = Sweeper()
    consumers = Consumers()

    @http("GET", "/metrics")
    def http_metrics(self, request):
        return Response(self.metrics.expose(), mimetype="text/plain; version=0.0.4")

    @http("GET", "/health")
    def http_health(self, request):
        report = check_health(self.name, self.config, getattr(self, "db", None), self.consumers())
        return Response(json.dumps(report), status=200 if report["ok"] else 503, mimetype="application/json")

    @rpc
    def health(self):
        return check_health(self.name, self.config, getattr(self, "db", None), self.consumers(), via_broker=True)

    @rpc
    def get_settings(self):
        if self.rules is None:
            return {"settings": {}, "rules": []}
        with self.db(self.caller.township) as uow:
            return {"settings": self.rules.load(uow), "rules": self.rules.describe()}

    @sweep_timer
    def purge_idempotency_keys(self):
        """Idempotency records past their retention period go, in bounded batches (the one
        sweep pattern: services.common.sweep)."""
        return self.sweeper(idempotency.purge_sweep)

    @idempotency.command
    def update_settings(self, changes):
        self.caller.require(*LEADERS)
        if self.rules is None:
            from .errors import ValidationFailed

            raise ValidationFailed("this service has no settings", {"_schema": ["no settings"]})
        with self.db(self.caller.township) as uow:
            return {"settings": self.rules.update(uow, changes), "rules": self.rules.describe()}
