"""Issue 7, Must show 3, as processes (`python -m services.run`, as `make run` starts them) on the
real broker and PostgreSQL: intake, then cases, are SIGKILLed while clients post applications,
each with its own ``Idempotency-Key``, and retry the same request on 503, 409 (still being
processed), a timeout or a broken connection. After the restarts and the drain:
applications = distinct keys = cases, and nothing exists twice.

A request killed after its commit and redelivered is covered deterministically in
tests/integration/test_idempotent_commands.py (the same RPC message delivered twice)."""
from __future__ import annotations

import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import create_engine, text

from services.common.migrate import upgrade
from tests.support.processes import processes
from tests.support.runtime import wait_for
from tests.support.system import Api, Township, operator_token

pytestmark = pytest.mark.e2e

SECRET = "e2e-secret-" + "i" * 40
NAMES = ["staff", "intake", "cases", "gateway"]
MATERIALS = [{"name": "申请书", "main": True}, {"name": "身份证", "main": True}]
CLIENTS = 6
DEADLINE = 4  # the gateway's request deadline (GATEWAY_DEADLINE), seconds


@pytest.fixture(scope="module")
def system(broker, postgres, tmp_path_factory):
    dbs = {}
    for name in ("staff", "intake", "cases"):
        dbs[name] = postgres.create_database(name)
        upgrade(name, dbs[name])
    tmp = tmp_path_factory.mktemp("idem")
    try:
        # a short request deadline, so a client learns of a dead service within seconds
        with processes(broker.uri, tmp, dbs, NAMES, GATEWAY_JWT_SECRET=SECRET, GATEWAY_DEADLINE=DEADLINE) as procs:
            api = Api(procs["gateway"].url)
            op = api.as_(operator_token(broker.uri, key=SECRET))
            town = Township(api, op, "idem-proc", "重试镇")
            dept = town.boss.post("/departments", {"name": "民政办"}).json()
            window = town.boss.post("/windows", {"number": 1, "name": "民政窗口", "department_id": dept["id"]}).json()
            _, clerk = town.person("王晓燕", ["clerk"], window_id=window["id"])
            r = town.boss.post("/intake/items", {
                "code": "MZ-001", "name": "低保申请", "legal_basis": "《社会救助暂行办法》",
                "window_id": window["id"], "department_id": dept["id"], "materials": MATERIALS,
                "default_kind": "promised", "promised_days": 5})
            assert r.status_code == 201, r.text
            yield {"procs": procs, "clerk": clerk, "dbs": dbs, "town": town}
    finally:
        for url in dbs.values():
            postgres.drop_database(url)


class Client(threading.Thread):
    """Posts applications one after another, each with a fresh key, and retries a request with
    the same key and body until it has an answer that is not "try again"."""

    def __init__(self, api: Api, stop: threading.Event):
        super().__init__(daemon=True)
        self.api, self.stop = api, stop
        self.done: dict[str, dict] = {}   # key → the 201 body
        self.sent: dict[str, dict] = {}   # key → the request body
        self.retries = 0
        self.failures: list[str] = []

    def post(self, key: str, body: dict):
        give_up = time.monotonic() + 45
        while time.monotonic() < give_up:
            try:
                r = requests.post(self.api.base + "/intake/applications", json=body, timeout=6,
                                  headers={"Authorization": f"Bearer {self.api.token}", "Idempotency-Key": key})
            except requests.RequestException:
                r = None
            if r is not None and r.status_code not in (409, 502, 503, 504):
                return r
            self.retries += 1
            time.sleep(0.3)
        return None

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            key = uuid.uuid4().hex
            body = {"item_code": "MZ-001", "materials_brought": ["申请书", "身份证"],
                    "applicant": {"name": f"申请人{n}", "phone": "13812345678", "id_no": "110101199003071234"}}
            self.sent[key] = body
            r = self.post(key, body)
            if r is None or r.status_code != 201:
                self.failures.append(f"{key}: {None if r is None else (r.status_code, r.text[:200])}")
                continue
            self.done[key] = r.json()


class Counts:
    """Rows of the township in intake's applications and cases' cases (total, distinct receipts),
    over one connection per database (the shared PostgreSQL has few to spare)."""

    SQL = {"intake": "SELECT count(*), count(DISTINCT receipt_no) FROM applications WHERE township_id = :t",
           "cases": "SELECT count(*), count(DISTINCT receipt_no) FROM cases WHERE township_id = :t"}

    def __init__(self, dbs: dict, township_id: str):
        self.township_id = township_id
        self.engines = {s: create_engine(dbs[s], pool_size=1, max_overflow=0) for s in self.SQL}

    def __call__(self) -> dict:
        out = {}
        for service, sql in self.SQL.items():
            with self.engines[service].connect() as conn:
                out[service] = tuple(conn.execute(text(sql), {"t": self.township_id}).one())
        return out

    def close(self):
        for engine in self.engines.values():
            engine.dispose()


def test_killing_intake_then_cases_under_retrying_clients_makes_nothing_twice(system):
    procs = system["procs"]
    counts = Counts(system["dbs"], system["town"].id)
    try:
        check(system, procs, counts)
    finally:
        counts.close()


def check(system, procs, counts):
    stop = threading.Event()
    clients = [Client(system["clerk"], stop) for _ in range(CLIENTS)]
    started = time.monotonic()
    for c in clients:
        c.start()
    for name, down in (("intake", DEADLINE + 1.0), ("cases", 1.0)):
        time.sleep(1.5)
        procs[name].kill()  # SIGKILL mid-stream: in-flight requests and events unacked
        # intake stays down past the gateway's deadline, so the requests in flight are answered
        # 503 and their clients must retry (a quick restart would answer them all in time);
        # cases is killed while intake is still coming back
        time.sleep(down)
        procs[name].start()
    for name in ("intake", "cases"):
        procs[name].wait_healthy()
    time.sleep(3.0)  # and a little while with both back
    stop.set()
    for c in clients:
        c.join(50)
        assert not c.is_alive(), "a client is still retrying"
    failures = [f for c in clients for f in c.failures]
    assert not failures, failures
    answers = {k: v for c in clients for k, v in c.done.items()}
    assert sum(len(c.done) for c in clients) == len(answers) > 0
    receipts = {a["receipt"]["receipt_no"] for a in answers.values()}
    assert len(receipts) == len(answers), "two keys answered with one receipt"
    assert sum(c.retries for c in clients) > 0, "no client ever had to retry: nothing was tested"

    # after the drain every application has its case, once
    wait_for(lambda: counts()["cases"][0] >= len(answers), timeout=30, interval=0.5,
             message="every application's case to open")
    seen = counts()
    assert seen["intake"] == (len(answers), len(answers)), seen   # applications = distinct keys, no duplicate
    assert seen["cases"] == (len(answers), len(answers)), seen     # cases = applications, none twice

    # a client whose answer was lost sends the request again: the restarted intake answers from
    # its record (the same receipt and password), and nothing is added
    sent = {k: b for c in clients for k, b in c.sent.items()}
    again = sorted(answers)[:10]
    for key in again:
        r = requests.post(system["clerk"].base + "/intake/applications", json=sent[key], timeout=10,
                          headers={"Authorization": f"Bearer {system['clerk'].token}", "Idempotency-Key": key})
        assert r.status_code == 201 and r.json() == answers[key], (r.status_code, r.text[:200])
    assert counts() == seen
    replayed = sum(float(line.rsplit(" ", 1)[1]) for line in procs["intake"].metrics().splitlines()
                   if line.startswith("commands_replayed_total{"))
    assert replayed >= len(again)
    print(f"\n{len(answers)} applications by {CLIENTS} clients, {sum(c.retries for c in clients)} retries, "
          f"{replayed:.0f} answered from the record by the restarted intake, {time.monotonic() - started:.1f}s")
