"""A broker outage answers a retryable 503, and nothing is lost (issue 7, Must show 2;
ARCHITECTURE "Fault tests"). Every process — the five services and the gateway, as `make run`
starts them, on PostgreSQL — reaches the broker through a loopback TCP proxy the test controls
(tests/support/proxy.py); the shared broker itself is never touched.

intake reaches its database through a second proxy: the last test cuts it, and intake's routes
answer a retryable 503 naming intake (never 500), write nothing half, and work again after.

A burst of applications is under way when the proxy cuts every broker connection:
- each request during the cut answers 503 ``service_unavailable`` (``Retry-After``), never 500;
- after the restore the processes reconnect by themselves, requests flow again, and every
  application intake holds has exactly one case (outboxes drained: the events committed but not
  yet published went out; nothing lost, nothing opened twice); every 201 a client saw is there.
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import eventlet
import pytest
import requests
from sqlalchemy.engine import make_url

from tests.support.fullsystem import APPLICANT, MATERIALS, full_system
from tests.support.proxy import TcpProxy
from tests.support.runtime import wait_for

pytestmark = pytest.mark.e2e

DEADLINE = 4.0


@pytest.fixture(scope="module")
def proxied(broker):
    parts = urlsplit(broker.uri)
    proxy = TcpProxy(parts.hostname, parts.port or 5672)
    try:
        yield proxy, broker.uri.replace(f"{parts.hostname}:{parts.port or 5672}", f"127.0.0.1:{proxy.port}")
    finally:
        proxy.close()


@pytest.fixture(scope="module")
def db_proxy(postgres):
    """intake's way to its PostgreSQL database, which the last test cuts."""
    url = make_url(postgres.admin_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture(scope="module")
def system(broker, postgres, tmp_path_factory, proxied, db_proxy):
    via = {"intake": lambda db: make_url(db).set(host="127.0.0.1", port=db_proxy.port)
           .render_as_string(hide_password=False)}
    with full_system(broker.uri, postgres, tmp_path_factory.mktemp("outage"), "outage-town",
                     amqp_uri=proxied[1], database_via=via, GATEWAY_DEADLINE=str(DEADLINE)) as sys_:
        yield sys_


def application(clerk):
    return clerk.post("/intake/applications", {"item_code": "MZ-002", "applicant": APPLICANT,
                                               "materials_brought": [m["name"] for m in MATERIALS]})


def all_applications(boss) -> list[dict]:
    r = boss.get("/intake/applications")
    assert r.status_code == 200, r.text
    body = r.json()
    return body["items"] if isinstance(body, dict) else body


def metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_requests_during_a_broker_cut_get_503_and_nothing_is_lost(system, proxied):
    proxy, _ = proxied
    boss, clerk = system["boss"], system["clerk"]
    gateway = system["procs"]["gateway"]
    case_path = f"/cases/{system['case']['id']}"
    assert boss.get("/windows").status_code == 200

    burst = []

    def apply_one():
        r = application(clerk)
        burst.append((r.status_code, r.json()))

    pool = eventlet.GreenPool(20)
    for _ in range(12):
        pool.spawn_n(apply_one)
        eventlet.sleep(0.03)
    proxy.cut()  # in the middle of the burst: some committed, some replies lost, some not sent
    cut_at = time.monotonic()

    during = []

    def during_cut(path):
        started = time.monotonic()
        r = application(clerk) if path == "POST /intake/applications" else boss.get(path)
        during.append((path, r.status_code, r.json(), r.headers.get("Retry-After"), time.monotonic() - started))

    for path in ("/windows", case_path, "/intake/applications", "/departments", "POST /intake/applications"):
        pool.spawn_n(during_cut, path)
    pool.waitall()
    eventlet.sleep(max(0.0, 2 - (time.monotonic() - cut_at)))
    proxy.restore()

    for path, status, body, retry_after, elapsed in during:
        assert status == 503, (path, status, body)
        assert body["error"] == "service_unavailable" and body.get("service"), body
        assert retry_after, path
        assert elapsed < DEADLINE + 1.5, (path, elapsed)
    assert all(status in (201, 503) for status, _ in burst), burst

    # afterwards everything flows again, by itself
    last_health: list = []

    def healthy():
        r = requests.get(gateway.url + "/health", timeout=5)
        last_health[:] = [r.status_code, r.text]
        return r.status_code == 200

    try:
        wait_for(healthy, timeout=60, interval=0.5, message="every process back on the broker")
    except AssertionError:
        tails = {name: proc.tail(30) for name, proc in system["procs"].items()}
        raise AssertionError(f"not healthy after the restore: {last_health}; logs: {tails}")
    wait_for(lambda: boss.get("/windows").status_code == 200, timeout=30, interval=0.5,
             message="RPC through the gateway again")
    r = application(clerk)
    assert r.status_code == 201, r.text
    accepted = {body["receipt"]["receipt_no"] for status, body in burst if status == 201}
    accepted.add(r.json()["receipt"]["receipt_no"])

    def every_application_has_one_case():
        apps = all_applications(boss)
        cases = boss.get("/cases?limit=500").json()
        cases = cases["items"] if isinstance(cases, dict) else cases
        per_receipt: dict = {}
        for c in cases:
            per_receipt[c["receipt_no"]] = per_receipt.get(c["receipt_no"], 0) + 1
        receipts = {a["receipt_no"] for a in apps if a.get("receipt_no")}
        return receipts and all(per_receipt.get(rn) == 1 for rn in receipts) and (receipts, per_receipt)

    receipts, per_receipt = wait_for(every_application_has_one_case, timeout=60, interval=0.5,
                                     message="every application's case to open (outboxes drained)")
    assert accepted <= receipts, "an application a client saw accepted is missing"
    assert all(n == 1 for n in per_receipt.values()), "a case opened twice"
    for name in ("staff", "intake", "cases"):
        text = system["procs"][name].metrics()
        assert metric(text, "outbox_backlog") == 0, f"{name} still has events to publish"
    print(f"\nburst: {sum(1 for s, _ in burst if s == 201)} × 201, {sum(1 for s, _ in burst if s == 503)} × 503; "
          f"during the cut: {[(p, s, round(e, 2)) for p, s, _, _, e in during]}; {len(receipts)} applications, "
          f"each with one case")


def test_a_lost_database_answers_503_naming_the_service_and_writes_nothing(system, db_proxy):
    boss, clerk = system["boss"], system["clerk"]
    before = len(all_applications(boss))
    db_proxy.cut()
    try:
        listing = boss.get("/intake/applications")
        posted = application(clerk)
        windows = boss.get("/windows")  # staff keeps its own database: unaffected
    finally:
        db_proxy.restore()
    for r in (listing, posted):
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "service_unavailable" and r.json()["service"] == "intake", r.text
        assert r.headers.get("Retry-After"), r.headers
    assert windows.status_code == 200, windows.text

    # back by itself; the application refused during the cut left nothing behind
    wait_for(lambda: boss.get("/intake/applications").status_code == 200, timeout=30, interval=0.5,
             message="intake's database again")
    assert len(all_applications(boss)) == before
    r = application(clerk)
    assert r.status_code == 201, r.text
