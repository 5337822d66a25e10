"""Tokens follow the account with the gateways as real processes (issue 8, Must show 1 and 2).

Staff and gateway A run as processes on the test vhost; gateway B runs as a process whose
broker connection goes through a loopback TCP proxy the test cuts (tests/support/proxy.py).
A revoked key and a deactivated person must be refused by B within 5 s — when the link comes
back, and when it does not (B then refuses every token, 503, rather than trust a stale copy).
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from services.common.migrate import upgrade
from tests.support.processes import ServiceProcess, base_env, free_port, processes
from tests.support.proxy import TcpProxy
from tests.support.system import PASSWORD, Api, Township, operator_token

pytestmark = pytest.mark.e2e

SECRET = "e2e-accounts-secret-" + "a" * 40
LIMIT = 5.0  # seconds within which every gateway must refuse (DOMAIN "Accounts")


def proxied(uri: str, port: int) -> str:
    parts = urlsplit(uri)
    auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit((parts.scheme, f"{auth}127.0.0.1:{port}", parts.path, parts.query, parts.fragment))


@pytest.fixture(scope="module")
def system(broker, postgres, tmp_path_factory):
    db = postgres.create_database("staff")
    upgrade("staff", db)
    tmp = tmp_path_factory.mktemp("accounts")
    host, port = urlsplit(broker.uri).hostname, urlsplit(broker.uri).port or 5672
    link = TcpProxy(host, port)
    b = None
    try:
        with processes(broker.uri, tmp, {"staff": db}, ["staff", "gateway"], GATEWAY_JWT_SECRET=SECRET) as procs:
            env = base_env(proxied(broker.uri, link.port), tmp, GATEWAY_JWT_SECRET=SECRET,
                           GATEWAY_PORT=free_port(), GATEWAY_HOST="127.0.0.1")
            b = ServiceProcess("gateway", env, tmp).start()
            b.wait_healthy()
            api = Api(procs["gateway"].url)
            op = api.as_(operator_token(broker.uri, key=SECRET))
            town = Township(api, op, "acc-proc", "进程镇")
            yield {"api": api, "api_b": Api(b.url), "town": town, "link": link, "b": b, "tmp": tmp,
                   "secrets": [PASSWORD, op.token, town.boss.token]}
    finally:
        if b is not None:
            b.stop()
        link.close()
        postgres.drop_database(db)


def person(system, name, roles):
    town = system["town"]
    record, client = town.person(name, roles)
    system["secrets"].append(client.token)
    return record, client


def key(system, name):
    r = system["town"].boss.post("/tokens", {"name": name, "roles": ["guard"], "days": 30})
    assert r.status_code == 201, r.text
    system["secrets"].append(r.json()["token"])
    return r.json()


def first_refusal(api: Api, tokens: list[str], within: float) -> dict:
    """Seconds until each token is refused (status not 200), polling every 0.1 s."""
    start, refused = time.monotonic(), {}
    while len(refused) < len(tokens) and time.monotonic() - start < within + 5:
        for token in tokens:
            if token not in refused and api.get("/me", token=token).status_code != 200:
                refused[token] = time.monotonic() - start
        time.sleep(0.1)
    return refused


def test_finding_2_a_demoted_director_can_no_longer_make_directors_or_keys(system):
    """Through gateway A as a real process: the demotion takes effect on the next request."""
    api, boss = system["api"], system["town"].boss
    deputy, deputy_api = person(system, "副主任 孙", ["director"])
    assert deputy_api.post("/people", {"name": "试探", "roles": ["clerk"]}).status_code == 201
    assert boss.patch(f"/people/{deputy['id']}", {"roles": ["clerk"]}).status_code == 200
    old = api.as_(deputy_api.token)
    r = old.post("/people", {"name": "新主任", "roles": ["director"]})
    assert r.status_code == 401, r.text
    assert old.post("/tokens", {"name": "后门", "roles": ["director"], "days": 90}).status_code == 401
    assert all(p["name"] != "新主任" for p in boss.get("/people").json())
    # signed in again, the person has the clerk's rights only
    again = system["town"].sign_in_as(deputy["id"])
    assert again.get("/me").json()["roles"] == ["clerk"]
    assert again.post("/people", {"name": "新主任", "roles": ["director"]}).status_code == 403
    # gateway B (its link up) refuses the old token too, within seconds
    assert first_refusal(system["api_b"], [deputy_api.token], LIMIT)[deputy_api.token] < LIMIT


def test_a_cut_gateway_refuses_a_revoked_key_and_a_deactivated_person_once_the_link_is_back(system):
    api_b, boss, link = system["api_b"], system["town"].boss, system["link"]
    clerk, clerk_api = person(system, "王晓燕", ["clerk"])
    screen = key(system, "大厅显示屏")
    tokens = [clerk_api.token, screen["token"]]
    assert all(api_b.get("/me", token=t).status_code == 200 for t in tokens)

    link.cut()
    try:
        assert boss.delete(f"/tokens/{screen['id']}").status_code == 200
        assert boss.patch(f"/people/{clerk['id']}", {"active": False}).status_code == 200
        time.sleep(1.0)  # the changes' events are broadcast while B cannot hear them
    finally:
        link.restore()
    refused = first_refusal(api_b, tokens, LIMIT)
    assert set(refused) == set(tokens) and max(refused.values()) < LIMIT, refused
    # once B has reloaded, the refusal is a 401 (not a stale 503), and it stays refused
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline and api_b.get("/me", token=tokens[0]).status_code != 401:
        time.sleep(0.1)
    for token in tokens:
        assert api_b.get("/me", token=token).status_code == 401


def test_a_cut_gateway_refuses_them_within_5_s_even_if_the_link_never_comes_back(system):
    api_b, boss, link = system["api_b"], system["town"].boss, system["link"]
    clerk, clerk_api = person(system, "李俊", ["clerk"])
    screen = key(system, "自助机")
    _, other_api = person(system, "张丽华", ["clerk"])  # nothing changes for her
    tokens = [clerk_api.token, screen["token"]]
    assert all(api_b.get("/me", token=t).status_code == 200 for t in tokens)

    link.cut()
    try:
        changed = time.monotonic()
        assert boss.delete(f"/tokens/{screen['id']}").status_code == 200
        assert boss.patch(f"/people/{clerk['id']}", {"active": False}).status_code == 200
        refused = first_refusal(api_b, tokens, LIMIT)
        late = time.monotonic() - changed
        assert set(refused) == set(tokens) and max(refused.values()) < LIMIT, refused
        statuses = {api_b.get("/me", token=t).status_code for t in tokens + [other_api.token]}
        assert statuses == {503}  # B cannot check any token now: it refuses all of them
        assert late < LIMIT + 5
    finally:
        link.restore()
    # back: the unchanged clerk works again on B, the changed ones stay refused
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and api_b.get("/me", token=other_api.token).status_code != 200:
        time.sleep(0.2)
    assert api_b.get("/me", token=other_api.token).status_code == 200
    assert {api_b.get("/me", token=t).status_code for t in tokens} == {401}


def test_no_password_or_token_in_the_processes_logs(system):
    """Must show 5 for the processes: every log line of staff and both gateways."""
    lines = [line for path in system["tmp"].glob("*.log") for line in path.read_text(errors="replace").splitlines()]
    assert len(lines) > 10
    for line in lines:
        for secret in system["secrets"]:
            assert secret not in line, line[:300]
        assert "eyJ" not in line
