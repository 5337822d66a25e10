"""Run service containers in the test process against the tests' own broker vhost."""
from __future__ import annotations

import time
from contextlib import contextmanager

from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ClusterRpcProxy

from services.common import config as cfg
from services.common.clock import Clock
from services.common.db import Database


def service_config(name: str, amqp_uri: str, database_url: str | None = None, **extra) -> dict:
    conf = cfg.service_config(name, AMQP_URI=amqp_uri, WEB_SERVER_ADDRESS="127.0.0.1:0", **extra)
    if database_url:
        conf["DATABASE_URL"] = database_url
    conf.setdefault("OUTBOX_POLL_INTERVAL", 0.1)
    return conf


@contextmanager
def running(service_cls, config: dict, clock=None):
    """Start one container of ``service_cls``; yield it; stop it."""
    container = ServiceContainer(service_cls, config)
    if clock is not None:
        set_clock(container, clock)
    container.start()
    try:
        yield container
    finally:
        container.stop()


def set_clock(container, clock) -> None:
    for dep in container.dependencies:
        if isinstance(dep, Clock):
            dep.setup = lambda dep=dep: None  # keep the clock we set
            dep.clock = clock


def database_of(container) -> Database:
    for dep in container.dependencies:
        if isinstance(dep, Database):
            return dep
    raise LookupError("container has no Database")


def http_port(container) -> int:
    from nameko.web.handlers import HttpRequestHandler

    for ep in container.entrypoints:
        if isinstance(ep, HttpRequestHandler):
            return ep.server._sock.getsockname()[1]
    raise LookupError("container serves no HTTP")


@contextmanager
def rpc_proxy(amqp_uri: str, context_data: dict | None = None, timeout: float = 15):
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, context_data=context_data, timeout=timeout) as proxy:
        yield proxy


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"):
    import eventlet

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        eventlet.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
