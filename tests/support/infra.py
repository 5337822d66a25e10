"""Real broker and database for tests (see tests/conftest.py)."""
from __future__ import annotations

import contextlib
import os
import socket
import uuid
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, why: str):
    message = f"{what} unavailable: {why}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing broker or database fails the run)", pytrace=False)
    pytest.skip(message)


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@dataclass
class Broker:
    uri: str
    api: str  # management API base, e.g. http://localhost:15672/api
    vhost: str
    auth: tuple


@contextlib.contextmanager
def rabbit_vhost():
    base = os.environ.get("AMQP_URI", "amqp://guest:guest@localhost:5672/")
    parts = urlsplit(base)
    host, port = parts.hostname or "localhost", parts.port or 5672
    api = os.environ.get("RABBIT_API", f"http://{host}:15672/api")
    container = None
    if not port_open(host, port):
        if docker_available():
            from testcontainers.rabbitmq import RabbitMqContainer

            container = RabbitMqContainer("rabbitmq:3.13-management").start()
            host = container.get_container_host_ip()
            port = int(container.get_exposed_port(5672))
            api = f"http://{host}:{container.get_exposed_port(15672)}/api"
            parts = urlsplit(f"amqp://guest:guest@{host}:{port}/")
        else:
            unavailable("RabbitMQ", f"nothing answers on {host}:{port} and no Docker daemon answers")
    auth = (parts.username or "guest", parts.password or "guest")
    vhost = f"test-{uuid.uuid4().hex[:10]}"
    try:
        r = requests.put(f"{api}/vhosts/{quote(vhost, safe='')}", auth=auth, timeout=10)
        r.raise_for_status()
        r = requests.put(
            f"{api}/permissions/{quote(vhost, safe='')}/{auth[0]}", auth=auth, timeout=10,
            json={"configure": ".*", "write": ".*", "read": ".*"},
        )
        r.raise_for_status()
    except requests.RequestException as exc:
        unavailable("RabbitMQ management API", f"{api}: {exc} (enable rabbitmq_management)")
    uri = urlunsplit((parts.scheme, f"{auth[0]}:{auth[1]}@{host}:{port}", "/" + quote(vhost, safe=""), "", ""))
    try:
        yield Broker(uri=uri, api=api, vhost=vhost, auth=auth)
    finally:
        requests.delete(f"{api}/vhosts/{quote(vhost, safe='')}", auth=auth, timeout=10)
        if container is not None:
            container.stop()


class PostgresServer:
    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)

    def create_database(self, prefix: str = "t") -> str:
        name = f"test_{prefix}_{uuid.uuid4().hex[:10]}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def postgres_server():
    url = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
    u = make_url(url)
    container = None
    if not port_open(u.host or "127.0.0.1", u.port or 5432):
        if docker_available():
            from testcontainers.postgres import PostgresContainer

            container = PostgresContainer("postgres:16").start()
            url = container.get_connection_url()
        else:
            unavailable("PostgreSQL", f"nothing answers on {u.host}:{u.port} and no Docker daemon answers")
    server = PostgresServer(url)
    try:
        with server.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        unavailable("PostgreSQL", f"{url}: {exc}")
    try:
        yield server
    finally:
        server.engine.dispose()
        if container is not None:
            container.stop()
