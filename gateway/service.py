"""The gateway service: one nameko service with the HTTP API of every area.

The API for client programs of township convenience-service centres. Authenticate with
``Authorization: Bearer <token>``; a token carries its township and roles. Public routes
(``/public/townships/{code}/…``) need no token. Errors are JSON
``{"error", "message", "details"}``.
"""
from __future__ import annotations

import logging

from nameko.events import BROADCAST, event_handler
from prometheus_client import Counter, Gauge

from services.common.clock import Clock
from services.common.logs import CallLog
from services.common.metrics import Metrics

from .access import AccessCache
from .api import CallContext
from .resilience import ServiceRpc
from .routes.agents import AgentRoutes
from .routes.cases import CasesRoutes
from .routes.complaints import ComplaintsRoutes
from .routes.core import CoreRoutes
from .routes.intake import IntakeRoutes
from .routes.lending import LendingRoutes
from .routes.notices import NoticesRoutes
from .routes.staff import DisciplineRoutes
from .routes.staff_records import StaffRecordsRoutes
from .routes.transparency import TransparencyRoutes

log = logging.getLogger("gateway")


class GatewayMetrics(Metrics):
    def setup(self):
        super().setup()
        self.http_responses = Counter(
            "http_responses_total", "Responses by route and status", ["method", "route", "status"],
            registry=self.registry,
        )
        # per target service (gateway/resilience.py): outcome is ok, error (the service answered
        # with an error), timeout, unavailable (not running / broker), deadline (none left),
        # rejected_open (breaker open), rejected_busy (bulkhead full)
        self.rpc_calls = Counter(
            "gateway_rpc_calls_total", "RPC calls from the gateway by target service and outcome",
            ["service", "outcome"], registry=self.registry,
        )
        self.breaker_state = Gauge(
            "gateway_breaker_state", "Circuit breaker per target service: 0 closed, 1 half-open, 2 open",
            ["service"], registry=self.registry,
        )


class ConfigDep(CallContext):
    """The container config (signing key) for route methods."""

    def get_dependency(self, worker_ctx):
        return self.container.config


class GatewayService(CoreRoutes, IntakeRoutes, AgentRoutes, CasesRoutes, DisciplineRoutes, ComplaintsRoutes, LendingRoutes,
                     NoticesRoutes, TransparencyRoutes, StaffRecordsRoutes):
    """The API for client programs of township convenience-service centres.

    Authenticate with ``Authorization: Bearer <token>``; a token carries its township and roles.
    Public routes (``/public/townships/{code}/…``) need no token. Errors are JSON
    ``{"error", "message", "details"}`` with the HTTP status of their kind."""

    name = "gateway"

    # every call: the request's remaining deadline, a bulkhead and a breaker per service
    staff = ServiceRpc("staff")
    intake = ServiceRpc("intake")
    cases = ServiceRpc("cases")
    complaints = ServiceRpc("complaints")
    lending = ServiceRpc("lending")
    notices = ServiceRpc("notices")

    clock = Clock()
    log = CallLog()
    metrics = GatewayMetrics()
    access = AccessCache()
    context = CallContext()
    config = ConfigDep()

    @event_handler("staff", "access_changed", handler_type=BROADCAST, reliable_delivery=False)
    def on_access_changed(self, event):
        """Speed only: a lost event is made up by the next reload (gateway/access.py)."""
        self.access.apply(event["subject"], event["subject_id"], event["version"], event["active"])
        log.info("access changed", extra={"event_id": event.get("event_id")})


SERVICE = GatewayService
