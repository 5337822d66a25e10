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
    """requests against the gateway, with a token. A client made by signing in
    (``signed_in``) signs in again when its token has *expired* (tests move the clock by
    days; an access token ends by local midnight) — never when it was refused for any other
    reason (signed out, revoked, rights changed)."""

    def __init__(self, base: str, token: str | None = None, credentials: tuple[str, str] | None = None):
        self.base = base
        self.token = token
        self.credentials = credentials

    def as_(self, token):
        return Api(self.base, token)

    def signed_in(self, username: str, password: str) -> "Api":
        r = self.post("/sessions", {"username": username, "password": password}, token="")
        assert r.status_code == 201, r.text
        return Api(self.base, r.json()["token"], (username, password))

    def call(self, method, path, body=None, token=None, raw=None, headers=None):
        response = self._call(method, path, body, token, raw, headers)
        if (self.credentials and token is None and response.status_code == 401
                and response.json().get("message") == "token expired"):
            again = self.post("/sessions", {"username": self.credentials[0], "password": self.credentials[1]},
                              token="")
            if again.status_code == 201:
                self.token = again.json()["token"]
                response = self._call(method, path, body, token, raw, headers)
        return response

    def _call(self, method, path, body=None, token=None, raw=None, headers=None):
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
                # every service shares this process's hub: a busy moment must not make the
                # gateway's copy of account versions stale (4 s in production; the bound itself is
                # tested with the gateway as a process, tests/e2e/test_accounts_processes.py)
                conf = service_config("gateway", amqp_uri, JWT_SECRET=TEST_SECRET,
                                      **{"ACCESS_MAX_STALENESS": 15, **extra})
            else:
                conf = service_config(name, amqp_uri, migrated(database, name), **extra)
            containers[name] = stack.enter_context(running(service_class(name), conf, clock=clock))
        if "gateway" in containers:
            tokens_checkable(containers["gateway"])
        yield containers


def tokens_checkable(gateway, timeout: float = 30) -> None:
    """Wait until the gateway has loaded staff's account versions (until then every token answers
    503), which takes longer than starting the containers on a busy machine."""
    from gateway.access import AccessCache
    from tests.support.runtime import wait_for

    access = next(d for d in gateway.dependencies if isinstance(d, AccessCache))
    wait_for(lambda: access.fresh, timeout=timeout, message="the gateway to load the account versions")


def gateway_api(container) -> Api:
    return Api(f"http://127.0.0.1:{http_port(container)}")


PASSWORD = "test password 测试"  # every account the helpers open uses it
OPERATOR_CONTEXT = {"roles": ["operator"], "user_id": "test-helper"}


def operator_record(amqp_uri: str, username: str | None = None) -> dict:
    """A fresh operator account, activated and signed in through staff's RPCs (the broker is
    trusted: this is what ``python -m services.staff.admin create-operator`` does with the
    database). Returns the access token's record."""
    import uuid

    from nameko.standalone.rpc import ServiceRpcProxy

    username = username or f"op-{uuid.uuid4().hex[:12]}"
    with ServiceRpcProxy("staff", {"AMQP_URI": amqp_uri}, context_data=OPERATOR_CONTEXT, timeout=30) as staff:
        made = staff.create_operator(username)
        staff.activate_account(username, made["activation_code"], PASSWORD)
        return staff.start_session(username, PASSWORD)


def operator_token(amqp_uri: str, key: str = TEST_SECRET) -> str:
    from gateway import auth

    return auth.sign(operator_record(amqp_uri), key)


def activate(api: Api, account: dict, password: str = PASSWORD) -> Api:
    """Activate an account from its one-time code and sign in: the person's client."""
    r = api.post("/accounts/activation", {"username": account["username"], "code": account["activation_code"],
                                          "password": password}, token="")
    assert r.status_code == 200, r.text
    return api.signed_in(account["username"], password)


class Township:
    """A township made through the API by the operator, with its director's client, and
    people (with their own clients: account opened, activated, signed in) made by the director."""

    def __init__(self, api: Api, op: Api, code: str, name: str | None = None, director: str = "主任", **extra):
        r = op.post("/townships", {"code": code, "name": name or code, "director": {"name": director}, **extra})
        assert r.status_code == 201, r.text
        self.record = r.json()
        self.id = self.record["township"]["id"]
        self.code = code
        self.api = api
        self.boss = activate(api, self.record["director_account"])
        self.director_token = self.record["director_token"] = self.boss.token
        self.usernames: dict[str, str] = {}

    def person(self, name: str, roles, **fields) -> tuple[dict, Api]:
        p = self.boss.post("/people", {"name": name, "roles": list(roles), **fields})
        assert p.status_code == 201, p.text
        return p.json(), self.sign_in_as(p.json()["id"])

    def sign_in_as(self, person_id: str) -> Api:
        """Open the person's account (user name from the id), activate it, sign in."""
        username = self.usernames.setdefault(person_id, f"{self.code}-{person_id[:10]}")
        a = self.boss.post(f"/people/{person_id}/account", {"username": username})
        assert a.status_code == 201, a.text
        return activate(self.api, a.json())
