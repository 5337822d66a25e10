"""Services and the gateway in the test process, on the tests' own vhost and databases,
migrated with their real alembic histories; and an HTTP client for the gateway."""
from __future__ import annotations

import contextlib
import json

import requests

from services.common.migrate import upgrade
from tests.support.runtime import http_port, running, service_config

TEST_SECRET = "test-secret-" + "x" * 40


class Api:
    """requests against the gateway, with a token."""

    def __init__(self, base: str, token: str | None = None):
        self.base = base
        self.token = token

    def as_(self, token):
        return Api(self.base, token)

    def call(self, method, path, body=None, token=None, raw=None, headers=None):
        headers = dict(headers or {})
        token = token if token is not None else self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            headers.setdefault("Content-Type", "application/json")
        return requests.request(method, self.base + path, data=data, headers=headers, timeout=30)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def migrated(database, service: str) -> str:
    url = database(service)
    upgrade(service, url)
    return url


@contextlib.contextmanager
def running_services(amqp_uri, database, names, clock=None, **extra):
    """Start the named services (each on a fresh, migrated PostgreSQL database)."""
    from services.run import service_class

    with contextlib.ExitStack() as stack:
        containers = {}
        for name in names:
            if name == "gateway":
                conf = service_config("gateway", amqp_uri, JWT_SECRET=TEST_SECRET, **extra)
            else:
                conf = service_config(name, amqp_uri, migrated(database, name), **extra)
            containers[name] = stack.enter_context(running(service_class(name), conf, clock=clock))
        if "gateway" in containers:
            tokens_checkable(containers["gateway"])
        yield containers


def tokens_checkable(gateway, timeout: float = 30) -> None:
    """Wait until the gateway has loaded staff's revocation list (until then every token answers
    503), which takes longer than starting the containers on a busy machine."""
    from gateway.api import Revocations
    from tests.support.runtime import wait_for

    revocations = next(d for d in gateway.dependencies if isinstance(d, Revocations))
    wait_for(lambda: revocations.loaded, timeout=timeout, message="the gateway to load the revocation list")


def gateway_api(container) -> Api:
    return Api(f"http://127.0.0.1:{http_port(container)}")


def operator_token(amqp_uri: str, days: int = 1) -> str:
    from gateway.tokens import operator_token as issue

    return issue(days, amqp_uri=amqp_uri, key=TEST_SECRET, label="test")


class Township:
    """A township made through the API by the operator, with its director's client, and
    people (with their own clients) made by the director."""

    def __init__(self, api: Api, op: Api, code: str, name: str | None = None, director: str = "主任"):
        r = op.post("/townships", {"code": code, "name": name or code, "director": {"name": director}})
        assert r.status_code == 201, r.text
        self.record = r.json()
        self.id = self.record["township"]["id"]
        self.code = code
        self.director_token = self.record["director_token"]
        self.api = api
        self.boss = api.as_(self.director_token)

    def person(self, name: str, roles, **fields) -> tuple[dict, Api]:
        p = self.boss.post("/people", {"name": name, "roles": list(roles), **fields})
        assert p.status_code == 201, p.text
        t = self.boss.post("/tokens", {"person_id": p.json()["id"]})
        assert t.status_code == 201, t.text
        return p.json(), self.api.as_(t.json()["token"])
