"""Accounts that follow the person (issue 8), through real HTTP against staff and two gateways
in the test process, on the real broker and PostgreSQL, with a frozen clock.

Must show 1 (deactivation, no sign-in / the operator's eternal token), 3 (30 parallel wrong
passwords, one gateway and two), 4 (sign in, work, sign out; 17:00 → midnight), 5 (no secret
in any log line), 6 (CSV cell ``=1+1``). The demotion and the cut broker link, with the gateway
as a real process: tests/e2e/test_accounts_processes.py."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.common.clock import FrozenClock
from services.common.logs import DomainErrorFilter, JsonFormatter
from services.run import service_class
from services.staff import admin
from services.staff.accounts import name_key
from services.staff.models import SignInGuard
from tests.support.runtime import database_of, running, service_config, wait_for
from tests.support.system import (
    PASSWORD, TEST_SECRET, Api, Township, activate, gateway_api, operator_token, running_services,
)

pytestmark = pytest.mark.integration

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 9, 0, tzinfo=SH)  # a Monday
CLOCK = FrozenClock(START)


class Captured(logging.Handler):
    """Every log line the services and gateways write, formatted as in production."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter("test"))
        self.addFilter(DomainErrorFilter())

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def logs():
    handler, root = Captured(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture(scope="module")
def system(broker, module_database, logs):
    patch = pytest.MonkeyPatch()
    patch.setenv("GATEWAY_SERVICE_LIMIT", "40")  # all 30 parallel sign-ins reach staff (no bulkhead 503)
    try:
        yield from _system(broker, module_database)
    finally:
        patch.undo()


def _system(broker, module_database):
    with running_services(broker.uri, module_database, ["staff", "gateway"], clock=CLOCK) as c, \
            running(service_class("gateway"), service_config("gateway", broker.uri, JWT_SECRET=TEST_SECRET),
                    clock=CLOCK) as second:
        api = gateway_api(c["gateway"])
        op = api.as_(operator_token(broker.uri))
        town = Township(api, op, "acc-a", "账户镇")
        yield {"api": api, "api2": gateway_api(second), "op": op, "town": town, "staff": c["staff"],
               "amqp": broker.uri, "secrets": [PASSWORD, town.boss.token, op.token]}


def open_account(system, name, roles, username, **fields):
    """Director opens the account; the person activates it and signs in: (person, client)."""
    town = system["town"]
    person = town.boss.post("/people", {"name": name, "roles": roles, **fields}).json()
    made = town.boss.post(f"/people/{person['id']}/account", {"username": username})
    assert made.status_code == 201, made.text
    system["secrets"].append(made.json()["activation_code"])
    client = activate(system["api"], made.json())
    system["secrets"].append(client.token)
    return person, client


def test_a_clerk_starts_the_day_by_signing_in_and_signing_out_ends_it_at_once(system):
    api = system["api"]
    person, _ = open_account(system, "王晓燕", ["clerk"], "acc.wang")
    r = api.post("/sessions", {"username": "acc.wang", "password": PASSWORD})
    assert r.status_code == 201, r.text
    session = r.json()
    system["secrets"].append(session["token"])
    assert session["person_id"] == person["id"] and session["roles"] == ["clerk"]
    clerk = api.as_(session["token"])
    assert clerk.get("/me").json()["person_id"] == person["id"]
    assert clerk.post("/attendance/sign-in").status_code in (200, 201)  # works (S2)
    r = clerk.delete("/sessions/current")
    assert r.status_code == 200 and r.json() == {"signed_out": True}
    for path in ("/me", "/people", "/windows"):  # refused at once, on this gateway
        r = clerk.get(path)
        assert r.status_code == 401 and "no longer holds" in r.json()["message"]
    wait_for(lambda: system["api2"].as_(session["token"]).get("/me").status_code == 401, timeout=5,
             message="the other gateway to refuse the signed-out token")


def test_an_access_token_issued_at_17_expires_by_midnight(system):
    open_account(system, "李俊", ["clerk"], "acc.li")
    try:
        CLOCK.set(datetime(2026, 3, 2, 17, 0, tzinfo=SH))
        r = system["api"].post("/sessions", {"username": "acc.li", "password": PASSWORD})
        assert r.status_code == 201
        assert datetime.fromisoformat(r.json()["expires_at"]) == datetime(2026, 3, 3, 0, 0, tzinfo=SH)
        clerk = system["api"].as_(r.json()["token"])
        CLOCK.set(datetime(2026, 3, 2, 23, 59, tzinfo=SH))
        assert clerk.get("/me").status_code == 200
        CLOCK.set(datetime(2026, 3, 3, 0, 0, 1, tzinfo=SH))
        r = clerk.get("/me")
        assert r.status_code == 401 and r.json()["message"] == "token expired"
    finally:
        CLOCK.set(START)


def test_finding_1_a_deactivated_persons_token_is_refused(system):
    person, clerk = open_account(system, "赵敏", ["clerk"], "acc.zhao")
    assert clerk.get("/me").status_code == 200 and clerk.get("/people").status_code == 200
    assert system["town"].boss.patch(f"/people/{person['id']}", {"active": False}).status_code == 200
    wait_for(lambda: clerk.get("/me").status_code == 401, timeout=5, message="the deactivated person refused")
    assert clerk.get("/people").status_code == 401
    r = system["api"].post("/sessions", {"username": "acc.zhao", "password": PASSWORD})
    assert r.status_code == 403  # the right password, a deactivated account
    wait_for(lambda: system["api2"].as_(clerk.token).get("/me").status_code == 401, timeout=5,
             message="the other gateway to refuse the deactivated person")


@pytest.mark.parametrize("change", ["roles", "window", "password"])
def test_every_change_of_rights_refuses_the_old_token(system, change):
    boss = system["town"].boss
    window = boss.post("/windows", {"number": {"roles": 11, "window": 12, "password": 13}[change],
                                    "name": f"窗口{change}"}).json()
    person, client = open_account(system, f"员工{change}", ["clerk", "inspector"], f"acc.{change}",
                                  window_id=window["id"])
    assert client.get("/me").status_code == 200
    if change == "roles":
        r = boss.patch(f"/people/{person['id']}", {"roles": ["clerk"]})
    elif change == "window":
        other = boss.post("/windows", {"number": 20 + len(change), "name": "别的窗口"}).json()
        r = boss.patch(f"/people/{person['id']}", {"window_id": other["id"]})
    else:
        r = client.put("/me/password", {"old_password": PASSWORD, "new_password": "another long password"})
    assert r.status_code == 200, r.text
    stale = client.as_(client.token)
    wait_for(lambda: stale.get("/me").status_code == 401, timeout=5, message=f"the token refused after {change}")
    again = system["api"].signed_in(f"acc.{change}", PASSWORD if change != "password" else "another long password")
    assert again.get("/me").json()["roles"] == (["clerk"] if change == "roles" else ["clerk", "inspector"])


def test_a_suspended_township_refuses_all_its_tokens(system, broker):
    op = system["op"]
    other = Township(system["api"], op, "acc-suspend")
    boss = other.boss
    assert boss.get("/windows").status_code == 200
    r = op.patch(f"/townships/{other.id}", {"suspended": True})
    assert r.status_code == 200 and r.json()["suspended"] is True
    assert boss.get("/windows").status_code == 401
    assert system["town"].boss.get("/windows").status_code == 200  # another township is not affected
    r = op.patch(f"/townships/{other.id}", {"suspended": False})
    assert r.status_code == 200
    assert boss.as_(boss.token).get("/windows").status_code == 401  # the old token stays refused
    assert Api(system["api"].base).signed_in(other.record["director_account"]["username"], PASSWORD) \
        .get("/windows").status_code == 200


def test_finding_4_operators_sign_in_with_an_account_made_by_the_admin_command(system):
    url = database_of(system["staff"]).engine.url.render_as_string(hide_password=False)
    made = admin.run("create-operator", "ops.admin", url)
    system["secrets"].append(made["activation_code"])
    op = activate(system["api"], made)
    system["secrets"].append(op.token)
    assert op.get("/me").json()["roles"] == ["operator"]
    assert "acc-a" in [t["code"] for t in op.get("/townships").json()]
    r = system["api"].post("/sessions", {"username": "ops.admin", "password": PASSWORD})
    assert datetime.fromisoformat(r.json()["expires_at"]) <= datetime(2026, 3, 3, 0, 0, tzinfo=SH)


def guard_failures(system, username):
    with database_of(system["staff"]).engine.connect() as conn:
        return conn.execute(select(SignInGuard.failures).where(SignInGuard.key == name_key(username))).scalar()


@pytest.mark.parametrize("username,gateways", [("acc.race1", 1), ("acc.race2", 2), ("nobody.at.all", 2)])
def test_30_parallel_wrong_passwords_count_exactly_5_then_lock_for_15_minutes(system, username, gateways):
    if not username.startswith("nobody"):
        open_account(system, f"并发{username[-1]}", ["clerk"], username)
    apis = [system["api"], system["api2"]][:gateways]

    def attempt(i):
        return apis[i % gateways].post("/sessions", {"username": username, "password": f"wrong password {i}"},
                                       token="").status_code

    try:
        with ThreadPoolExecutor(30) as pool:
            statuses = list(pool.map(attempt, range(30)))
        assert sorted(statuses) == [401] * 5 + [429] * 25, statuses
        assert guard_failures(system, username) == 5
        for api in apis:  # the right password too, on every gateway
            r = api.post("/sessions", {"username": username, "password": PASSWORD}, token="")
            assert r.status_code == 429 and r.json()["error"] == "too_many_attempts"
        CLOCK.move(minutes=14, seconds=50)
        assert apis[-1].post("/sessions", {"username": username, "password": PASSWORD}).status_code == 429
        CLOCK.move(seconds=20)
        r = apis[-1].post("/sessions", {"username": username, "password": PASSWORD})
        assert r.status_code == (401 if username.startswith("nobody") else 201)
    finally:
        CLOCK.set(START)


def test_wrong_password_and_unknown_user_answer_alike(system):
    open_account(system, "彭玉兰", ["clerk"], "acc.peng")
    wrong = system["api"].post("/sessions", {"username": "acc.peng", "password": "wrong password"})
    unknown = system["api"].post("/sessions", {"username": "acc.nobody", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 401 and wrong.json() == unknown.json()


def test_finding_6_a_csv_cell_named_1_plus_1_opens_as_text(system):
    boss = system["town"].boss
    assert boss.post("/people", {"name": "=1+1", "roles": ["clerk"]}).status_code == 201
    assert boss.post("/people", {"name": "@SUM(A1)", "roles": ["clerk"]}).status_code == 201
    text = boss.get("/scoreboard/2026Q1/csv").content.decode("utf-8-sig")
    assert "'=1+1" in text and "'@SUM(A1)" in text
    assert not any(cell.startswith(("=", "@")) for line in text.splitlines() for cell in line.split(","))


def test_finding_5_no_password_code_or_token_in_any_log_line(system, logs):
    """Runs last in this module: every flow above went through the services' loggers."""
    api = system["api"]
    api.post("/sessions", {"username": "acc.wang", "password": "typo " + PASSWORD})  # a wrong one, logged as 401
    api.post("/accounts/activation", {"username": "acc.wang", "code": "guess-code-123", "password": PASSWORD})
    api.get("/me", token=system["town"].boss.token + "x")  # a damaged token
    assert len(logs.lines) > 20
    secrets = [s for s in system["secrets"] if s]
    secrets += ["another long password", "guess-code-123"]
    for line in logs.lines:
        for secret in secrets:
            assert secret not in line, f"a secret in a log line: {line[:300]}"
        assert "eyJ" not in line  # no signed token at all
