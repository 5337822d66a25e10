"""RPC with a bounded wait (ARCHITECTURE "Failure stays where it happens").

nameko 2.14's proxies wait forever for a reply, so a call to a service that is down (its queue
still on the broker) would hold the caller's worker. Here every call waits at most what is left
of the request's deadline:

- the gateway puts ``deadline`` (epoch seconds) into the call context when a request arrives;
  nameko carries the call context with every RPC, so a service calling another (cases → staff)
  sees the same deadline;
- ``Rpc("staff")`` is a drop-in for nameko's ``RpcProxy``: ``self.staff.get_person(pid)`` waits
  at most the remaining deadline (or ``RPC_TIMEOUT`` seconds, default 5, when the worker has no
  deadline: timers, event handlers), and the request message expires on the broker at the same
  moment, so a service that comes back does not run requests whose caller gave up;
- past it, or when the broker cannot be reached, ``ServiceUnavailable`` names the service
  (the gateway answers 503 with ``Retry-After``).

``call(self.staff.organisation_snapshot, township_id, timeout=5)`` bounds one call explicitly
(the smaller of ``timeout`` and the remaining deadline).
"""
from __future__ import annotations

import math
import os
import time

import eventlet
from nameko.exceptions import UnknownService
from nameko.constants import NON_PERSISTENT as TRANSIENT
from nameko.rpc import RpcProxy

from .errors import ServiceUnavailable

DEADLINE_KEY = "deadline"  # call-context key: absolute deadline, epoch seconds


def default_timeout() -> float:
    return float(os.environ.get("RPC_TIMEOUT", "5"))


def broker_errors() -> tuple:
    """The exceptions that mean "the broker connection is gone" (publish or consume)."""
    import amqp.exceptions
    import kombu.exceptions

    return (OSError, kombu.exceptions.OperationalError, amqp.exceptions.ConnectionError,
            amqp.exceptions.RecoverableConnectionError)


def remaining(data: dict | None, default: float | None = None) -> float:
    """Seconds left of the deadline in call-context ``data`` (``default`` or ``RPC_TIMEOUT`` when
    it carries none). May be ≤ 0: the deadline has passed."""
    fallback = default_timeout() if default is None else default
    value = (data or {}).get(DEADLINE_KEY)
    if value is None:
        return fallback
    try:
        return float(value) - time.time()
    except (TypeError, ValueError):
        return fallback


def retry_after(seconds: float) -> int:
    return max(1, int(math.ceil(seconds)))


def call(method, *args, timeout: float | None = None, **kwargs):
    """Call ``method`` (an attribute of an ``Rpc`` or ``RpcProxy`` dependency) and wait at most
    ``timeout`` seconds and at most what is left of the worker's deadline. Raises
    ``ServiceUnavailable`` (also a ``TimeoutError``) naming the service when no reply comes in
    time or the broker is unreachable, and the remote error otherwise."""
    if isinstance(method, BoundedMethod):
        return method.call(*args, timeout=timeout, **kwargs)
    data = getattr(getattr(method, "worker_ctx", None), "data", None)
    wait = remaining(data, timeout)
    if timeout is not None:
        wait = min(wait, timeout)
    return _bounded(method, getattr(method, "service_name", "?"), wait, args, kwargs)


def _bounded(method, service: str, wait: float, args, kwargs):
    if wait <= 0:
        raise ServiceUnavailable.of(service, "the request's deadline has passed")
    publisher = getattr(method, "publisher", None)
    if publisher is not None:  # the request expires on the broker when the caller gives up
        publisher.expiration = max(wait, 0.001)
        # and is not written to the broker's disk: it is worth nothing once the caller has
        # given up, and a broker restart meanwhile answers 503 like any lost reply (the client
        # retries with its Idempotency-Key). A persistent request waited for the broker's
        # fsync before its confirm (issue 9).
        publisher.delivery_mode = TRANSIENT
    reply = None
    try:
        with eventlet.Timeout(wait):
            reply = method.call_async(*args, **kwargs)
            return reply.result()
    except eventlet.Timeout:
        _forget(method, reply)
        raise ServiceUnavailable.of(service, f"no reply within {wait:.1f}s", failure=True) from None
    except UnknownService:
        raise ServiceUnavailable.of(service, "not running (no queue on the broker)", failure=True) from None
    except broker_errors() as exc:
        raise ServiceUnavailable.of(service, f"broker unreachable ({type(exc).__name__})", failure=True) from None


def _forget(method, reply) -> None:
    """Drop the reply slot of a call nobody waits for any more (nameko keeps it forever)."""
    listener = getattr(method, "reply_listener", None)
    if listener is None or reply is None:
        return
    events = getattr(listener, "_reply_events", {})
    for key, event in list(events.items()):
        if event is reply.reply_event:
            events.pop(key, None)


class BoundedMethod:
    """One remote method; calling it waits at most the remaining deadline."""

    def __init__(self, proxy: "BoundedServiceProxy", name: str):
        self.proxy = proxy
        self.method = getattr(proxy.inner, name)
        self.service_name = proxy.service_name
        self.name = name

    def __call__(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    def call(self, *args, timeout: float | None = None, **kwargs):
        wait = remaining(self.proxy.worker_ctx.data, self.proxy.timeout)
        if timeout is not None:
            wait = min(wait, timeout)
        try:  # which service the worker waits for: the gateway's answer names it past the deadline
            self.proxy.worker_ctx.rpc_target = self.service_name
        except AttributeError:
            pass
        guard = self.proxy.guard
        if guard is None:
            return _bounded(self.method, self.service_name, wait, args, kwargs)
        return guard(self.service_name, lambda: _bounded(self.method, self.service_name, wait, args, kwargs))

    def call_async(self, *args, **kwargs):  # the raw nameko call, for callers that bound it themselves
        return self.method.call_async(*args, **kwargs)


class BoundedServiceProxy:
    def __init__(self, inner, worker_ctx, service_name: str, timeout: float | None, guard=None):
        self.inner = inner
        self.worker_ctx = worker_ctx
        self.service_name = service_name
        self.timeout = timeout
        self.guard = guard

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return BoundedMethod(self, name)


class Rpc(RpcProxy):
    """``staff = Rpc("staff")``: nameko's ``RpcProxy`` whose calls wait at most the remaining
    deadline (``timeout``: the wait when the worker has none; default ``RPC_TIMEOUT``)."""

    def __init__(self, target_service, timeout: float | None = None, **options):
        super().__init__(target_service, **options)
        self.timeout = timeout

    def guard(self):
        """A wrapper ``guard(service, fn)`` around every call (the gateway's breaker), or None."""
        return None

    def get_dependency(self, worker_ctx):
        return BoundedServiceProxy(super().get_dependency(worker_ctx), worker_ctx, self.target_service,
                                   self.timeout, self.guard())


def database_unavailable(exc: BaseException) -> bool:
    """True for the errors that mean "this service's database is unreachable or saturated right
    now" (connection refused or lost, ``too many clients``, the pool's wait timed out, a
    statement cancelled by the server): a retry later may well succeed, so the caller gets 503,
    not 500."""
    from sqlalchemy import exc as sa_exc

    return isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
                            sa_exc.DisconnectionError))


def harden_responder() -> None:
    """Two fixes to how a service answers an RPC (nameko 2.14's ``Responder.send_response``):

    * the reply cannot be published (the broker connection dropped while the request ran):
      nameko killed the whole service (a traceback, then the process exits). The caller has
      given up by then anyway (503, and it retries with its idempotency key; the request itself
      was not acknowledged, so the broker delivers it again and the service answers it from its
      record): log it and keep serving;
    * the request failed because the service's database is unreachable or saturated
      (``database_unavailable``): the caller receives ``ServiceUnavailable`` naming this
      service, so the gateway answers a retryable 503 with ``Retry-After`` instead of a 500
      (issue 7). The unit of work rolled back, so nothing is half-written.

    Applied by ``harden_nameko()`` (``services.run`` and the tests) before a service starts."""
    import logging

    from nameko import rpc as nameko_rpc

    original = nameko_rpc.Responder.send_response
    if getattr(original, "hardened", False):
        return
    logger = logging.getLogger(__name__)

    def send_response(self, result, exc_info):
        if exc_info is not None and database_unavailable(exc_info[1]):
            routing_key = (getattr(self.message, "delivery_info", None) or {}).get("routing_key") or ""
            service = routing_key.split(".", 1)[0] or "unknown"
            logger.warning("%s answered 503: its database is unavailable (%s)", routing_key,
                           type(exc_info[1]).__name__)
            unavailable = ServiceUnavailable.of(service, "its database is unavailable", retry_after=2)
            exc_info = (type(unavailable), unavailable, None)
        try:
            return original(self, result, exc_info)
        except broker_errors() as exc:
            logger.warning("reply not sent, the broker is unreachable (%s); the caller times out and retries",
                           type(exc).__name__)
            return result, exc_info

    send_response.hardened = True
    nameko_rpc.Responder.send_response = send_response
