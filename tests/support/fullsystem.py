"""The whole system as processes (the six services and the gateway, as `make run` starts them)
on the tests' own vhost and PostgreSQL databases, with one township set up through the API:
a department, a window, a clerk, a catalogue item, one application and its case."""
from __future__ import annotations

import contextlib
import time

from services.common.migrate import upgrade
from tests.support.processes import processes
from tests.support.runtime import wait_for
from tests.support.system import Api, Township, operator_token

SECRET = "e2e-secret-" + "f" * 40
SERVICES = ("staff", "intake", "cases", "complaints", "lending", "notices")
MATERIALS = [{"name": "低保申请书", "main": True}, {"name": "居民身份证", "main": True}]
APPLICANT = {"name": "李秀兰", "phone": "13812345678", "id_no": "110101199003071234"}


@contextlib.contextmanager
def full_system(broker_uri: str, postgres, tmp, code: str, amqp_uri: str | None = None,
                services=SERVICES, database_via=None, **env):
    """``amqp_uri``: what the processes connect to (e.g. through a TcpProxy); the test itself
    uses ``broker_uri``. ``database_via``: ``{service: url -> url}``, the address a service's
    process reaches its database by (e.g. through a TcpProxy); migrations and cleanup use the
    database's own."""
    dbs = {}
    try:
        for name in services:
            dbs[name] = postgres.create_database(name)
            upgrade(name, dbs[name])
        env.setdefault("GATEWAY_JWT_SECRET", SECRET)
        reached = {name: (database_via or {}).get(name, lambda url: url)(url) for name, url in dbs.items()}
        with processes(amqp_uri or broker_uri, tmp, reached, list(services) + ["gateway"], **env) as procs:
            api = Api(procs["gateway"].url)
            op = api.as_(operator_token(broker_uri, key=env["GATEWAY_JWT_SECRET"]))
            town = Township(api, op, code, code)
            boss = town.boss
            dept = boss.post("/departments", {"name": "民政办"}).json()
            window = boss.post("/windows", {"number": 1, "name": "民政窗口", "department_id": dept["id"]}).json()
            clerk_record, clerk = town.person("王晓燕", ["clerk"], window_id=window["id"])
            r = boss.post("/intake/items", {
                "code": "MZ-002", "name": "城乡低保申请", "legal_basis": "《社会救助暂行办法》第十一条",
                "window_id": window["id"], "department_id": dept["id"], "materials": MATERIALS,
                "default_kind": "promised", "promised_days": 5})
            assert r.status_code == 201, r.text
            receipt = apply(clerk)
            case = wait_for(lambda: case_of(boss, receipt), timeout=30, message="the first case to open")
            yield {"procs": procs, "api": api, "op": op, "town": town, "boss": boss, "clerk": clerk,
                   "clerk_record": clerk_record, "window": window, "department": dept, "case": case,
                   "tmp": tmp}
    finally:
        for url in dbs.values():
            postgres.drop_database(url)


def apply(clerk: Api) -> str:
    r = clerk.post("/intake/applications", {"item_code": "MZ-002", "applicant": APPLICANT,
                                            "materials_brought": [m["name"] for m in MATERIALS]})
    assert r.status_code == 201, r.text
    return r.json()["receipt"]["receipt_no"]


def case_of(api: Api, receipt_no: str):
    r = api.get(f"/cases/by-receipt/{receipt_no}")
    return r.json() if r.status_code == 200 else None


def timed(fn) -> tuple[float, object]:
    started = time.monotonic()
    result = fn()
    return time.monotonic() - started, result
