"""The system as separate processes — the same `python -m services.run <name>` that `make run`
and docker-compose start — on the real broker and PostgreSQL (issue 2, item 6; ARCHITECTURE
"Fault tests"):

- a real event flows intake → cases across processes, through intake's outbox and relay and
  cases' idempotent handler, and is counted in both services' /metrics;
- a service killed mid-stream (SIGKILL) and restarted loses nothing and does nothing twice;
- the gateway's /health reports the broker and every service.
"""
from __future__ import annotations

import re

import pytest
import requests

from services.common.migrate import upgrade
from tests.support.processes import processes
from tests.support.runtime import wait_for
from tests.support.system import Api, Township, operator_token

pytestmark = pytest.mark.e2e

SECRET = "e2e-secret-" + "e" * 40
NAMES = ["staff", "intake", "cases", "gateway"]
MATERIALS = [{"name": "低保申请书", "main": True}, {"name": "居民身份证", "main": True},
             {"name": "户口簿复印件", "main": False}]
APPLICANT = {"name": "李秀兰", "phone": "13812345678", "id_no": "110101199003071234"}


@pytest.fixture(scope="module")
def system(broker, postgres, tmp_path_factory):
    dbs = {}
    for name in ("staff", "intake", "cases"):
        dbs[name] = postgres.create_database(name)
        upgrade(name, dbs[name])
    tmp = tmp_path_factory.mktemp("procs")
    try:
        with processes(broker.uri, tmp, dbs, NAMES, GATEWAY_JWT_SECRET=SECRET) as procs:
            api = Api(procs["gateway"].url)
            op = api.as_(operator_token(broker.uri, key=SECRET))
            town = Township(api, op, "e2e-proc", "进程镇")
            boss = town.boss
            dept = boss.post("/departments", {"name": "民政办"}).json()
            window = boss.post("/windows", {"number": 1, "name": "民政窗口", "department_id": dept["id"]}).json()
            _, clerk_api = town.person("王晓燕", ["clerk"], window_id=window["id"])
            r = boss.post("/intake/items", {
                "code": "MZ-002", "name": "城乡低保申请", "legal_basis": "《社会救助暂行办法》第十一条",
                "window_id": window["id"], "department_id": dept["id"], "materials": MATERIALS,
                "default_kind": "promised", "promised_days": 5})
            assert r.status_code == 201, r.text
            yield {"procs": procs, "api": api, "boss": boss, "clerk": clerk_api, "tmp": tmp}
    finally:
        for url in dbs.values():
            postgres.drop_database(url)


def apply(system) -> str:
    r = system["clerk"].post("/intake/applications", {
        "item_code": "MZ-002", "applicant": APPLICANT,
        "materials_brought": [m["name"] for m in MATERIALS]})
    assert r.status_code == 201, r.text
    return r.json()["receipt"]["receipt_no"]


def metric(text: str, name: str, **labels) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def case_of(system, receipt_no):
    r = system["boss"].get(f"/cases/by-receipt/{receipt_no}")
    return r.json() if r.status_code == 200 else None


def test_an_event_flows_from_intake_to_cases_across_processes(system):
    procs = system["procs"]
    before = metric(procs["cases"].metrics(), "events_handled_total", event_type="intake.application_accepted")
    receipt_no = apply(system)
    case = wait_for(lambda: case_of(system, receipt_no), timeout=20, message="the case to open in cases")
    assert case["receipt_no"] == receipt_no
    intake_metrics = procs["intake"].metrics()
    assert metric(intake_metrics, "entrypoint_calls_total", entrypoint="submit_application") >= 1 or \
        re.search(r'entrypoint_calls_total\{entrypoint="[a-z_]*appl', intake_metrics)
    wait_for(lambda: metric(procs["intake"].metrics(), "outbox_backlog", service="intake") == 0,
             message="intake's outbox to drain")
    handled = metric(procs["cases"].metrics(), "events_handled_total", event_type="intake.application_accepted")
    assert handled == before + 1


def test_killing_cases_mid_stream_loses_nothing_and_does_nothing_twice(system):
    procs = system["procs"]
    receipts = [apply(system) for _ in range(5)]
    procs["cases"].kill()  # SIGKILL: no clean shutdown, messages may be unacked
    receipts += [apply(system) for _ in range(10)]  # accepted while cases is down
    cases = procs["cases"]
    cases.start()
    cases.wait_healthy()
    found = wait_for(lambda: all(case_of(system, r) for r in receipts) and [case_of(system, r) for r in receipts],
                     timeout=40, message="every application to have its case")
    assert len({c["id"] for c in found}) == len(receipts)
    listed = system["boss"].get("/cases?limit=500").json()
    items = listed["items"] if isinstance(listed, dict) else listed
    per_receipt = {}
    for c in items:
        per_receipt[c["receipt_no"]] = per_receipt.get(c["receipt_no"], 0) + 1
    assert all(per_receipt.get(r) == 1 for r in receipts), "a case opened twice"


def test_gateway_health_reports_broker_and_every_service(system):
    url = system["procs"]["gateway"].url + "/health"

    def every_started_service_ok():
        r = requests.get(url, timeout=20)
        body = r.json()
        return all(body["checks"][n] == "ok" for n in ("staff", "intake", "cases")) and (r, body)

    # /health reports the background probes (every 2 s); the test before killed and restarted
    # cases, so the gateway sees it again within a probe or two
    r, body = wait_for(every_started_service_ok, timeout=15, interval=0.5,
                       message="the gateway's probes to see staff, intake and cases")
    assert body["checks"]["broker"] == "ok" and body["checks"]["tokens"] == "ok"
    for name in ("staff", "intake", "cases"):
        assert body["checks"][name] == "ok"
    # complaints and lending are not started in this test: reported, and the whole is not ok
    assert body["checks"]["lending"].startswith("unavailable") and r.status_code == 503
