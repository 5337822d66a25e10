"""End to end through the gateway, for each case kind (I5): an application at intake opens
a case in cases (intake.application_accepted), which is reviewed, decided by a different
person (C4) and delivered (办结); staff, intake, cases and gateway run on the real broker."""
from __future__ import annotations

import pytest

from tests.support.runtime import wait_for
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.e2e

MATERIALS = [{"name": "居民身份证", "main": True}, {"name": "收入证明", "main": False}]
APPLICANT = {"name": "李秀兰", "phone": "13812345678", "id_no": "110101199003071234"}


@pytest.fixture(scope="module")
def system(broker, module_database):
    with running_services(broker.uri, module_database, ["staff", "intake", "cases", "gateway"]) as containers:
        api = gateway_api(containers["gateway"])
        op = api.as_(operator_token(broker.uri))
        town = Township(api, op, "e2e-kinds", "青山镇", director="周建国")
        boss = town.boss
        d1 = boss.post("/departments", {"name": "民政办"}).json()
        d2 = boss.post("/departments", {"name": "自然资源所"}).json()
        window = boss.post("/windows", {"number": 1, "name": "民政", "department_id": d1["id"]}).json()
        a, clerk = town.person("王晓燕", ["clerk"], window_id=window["id"])
        b, _ = town.person("李俊", ["clerk"], window_id=window["id"])
        _, head = town.person("陈志强", ["section_head"], department_id=d1["id"])
        fees = boss.post("/windows", {"number": 9, "name": "收费", "fee_window": True}).json()  # C8
        assert fees["fee_window"] is True
        _, cashier = town.person("钱收", ["clerk"], window_id=fees["id"])
        boss.put(f"/windows/{window['id']}/ab-pair", {"a_person_id": a["id"], "b_person_id": b["id"]})
        base = {"legal_basis": "《社会救助暂行办法》", "window_id": window["id"], "materials": MATERIALS}
        items = {
            "immediate": {"code": "IM-1", "name": "证明开具", "default_kind": "immediate"},
            "promised": {"code": "PR-1", "name": "低保申请", "promised_days": 5, "fee_cents": 1000, "fee_basis": "工本费"},
            "joint": {"code": "JT-1", "name": "宅基地审批", "promised_days": 10, "departments": [d1["id"], d2["id"]]},
            "escalated": {"code": "ES-1", "name": "采矿许可", "promised_days": 15, "level": "county"},
            "returned": {"code": "RT-1", "name": "临时救助申请", "promised_days": 3, "major": True},
        }
        for item in items.values():
            r = boss.post("/intake/items", {**base, **item})
            assert r.status_code == 201, r.text
        yield {"clerk": clerk, "head": head, "cashier": cashier, "boss": boss, "items": items, "depts": [d1["id"], d2["id"]],
               "window": window}


def case_of(s, application_id):
    def found():
        cases = [c for c in s["boss"].get("/cases?limit=500").json() if c["application_id"] == application_id]
        return cases[0] if cases else None
    return wait_for(found, timeout=20, message="the case to open from intake's event")


def apply(s, code, brought=("居民身份证", "收入证明"), present=()):
    r = s["clerk"].post("/intake/applications", {"item_code": code, "applicant": APPLICANT,
                                                 "materials_brought": list(brought), "materials_present": list(present)})
    assert r.status_code == 201, r.text
    return r.json()["application"]


def decide_and_deliver(s, case, fee=0):
    url, clerk, head = f"/cases/{case['id']}", s["clerk"], s["head"]
    assert clerk.post(url + "/review", {"opinion": "approve"}).status_code == 200
    r = head.post(url + "/decision", {"outcome": "approved", "reason": "符合条件"})
    assert r.status_code == 200, r.text
    if fee:
        assert clerk.post(url + "/fee", {"amount_cents": fee}).status_code == 422  # C8: not the fee window
        assert s["cashier"].post(url + "/fee", {"amount_cents": fee}).status_code == 201
    r = clerk.post(url + "/delivery", {"note": "已送达"})
    assert r.status_code == 200, r.text
    codes = [t["status_code"] for t in s["boss"].get(url).json()["trail"] if t["status_code"]]
    assert codes[0] == "RECEIVED" and "ACCEPTED" in codes and codes[-1] == "COMPLETED"
    return r.json()


@pytest.mark.parametrize("kind", ["immediate", "promised"])
def test_immediate_and_promised_cases_from_application_to_delivery(system, kind):
    app = apply(system, system["items"][kind]["code"])
    case = case_of(system, app["id"])
    assert case["kind"] == kind and case["state"] == "in_review" and case["due_date"]
    assert decide_and_deliver(system, case, system["items"][kind].get("fee_cents", 0))["state"] == "delivered"


def test_supplement_case_waits_for_its_materials_then_is_delivered(system):
    app = apply(system, "PR-1", brought=["居民身份证"])
    case = case_of(system, app["id"])
    assert case["state"] == "supplement_pending" and case["due_date"] is None
    r = system["clerk"].post(f"/intake/applications/{app['id']}/arrivals", {"materials": ["收入证明"]})
    assert r.status_code == 200, r.text
    case = wait_for(lambda: (c := system["boss"].get(f"/cases/{case['id']}").json())["state"] == "in_review" and c,
                    timeout=20, message="the clock to start")
    assert case["kind"] == "promised" and case["original_kind"] == "supplement" and case["due_date"]
    decide_and_deliver(system, case, 1000)


def test_joint_case_needs_every_department_then_is_delivered(system):
    app = apply(system, "JT-1")
    case = case_of(system, app["id"])
    assert case["kind"] == "joint" and case["state"] == "awaiting_departments"
    for dept in system["depts"]:
        assert system["clerk"].post(f"/cases/{case['id']}/opinions",
                                    {"department": dept, "opinion": "approve"}).status_code == 201
    decide_and_deliver(system, case)


def test_escalated_case_waits_for_the_upper_level_then_is_delivered(system):
    app = apply(system, "ES-1")
    case = case_of(system, app["id"])
    assert case["kind"] == "escalated" and case["forwarded"] is False
    assert system["clerk"].post(f"/cases/{case['id']}/upper-answer", {"answer": "县局同意"}).status_code == 409
    r = system["clerk"].post(f"/cases/{case['id']}/forward", {"note": "已报县局"})  # I5: recorded when forwarded
    assert r.status_code == 200 and r.json()["forwarded"] is True and r.json()["escalated_on"]
    assert system["clerk"].post(f"/cases/{case['id']}/upper-answer", {"answer": "县局同意"}).status_code == 200
    decide_and_deliver(system, case)


def test_returned_application_gets_its_written_notice_after_sign_off_and_opens_no_case(system):
    """退回件 (I5): the main material is missing → returned with a written reason, recorded for
    audit (否定报备); a major matter's return takes effect only with a superior's sign-off; no
    case is ever opened in cases."""
    s = system
    r = s["clerk"].post("/intake/applications", {"item_code": "RT-1", "applicant": APPLICANT,
                                                 "materials_brought": ["收入证明"]})  # main 居民身份证 missing
    assert r.status_code == 201, r.text
    app, notice = r.json()["application"], r.json()["notice"]
    assert app["kind"] == "returned" and r.json()["receipt"] is None
    assert "居民身份证" in app["return_reason"]  # the written reason names what is missing
    assert app["status"] == "return_pending" and notice is None  # major: no notice before the sign-off
    url = f"/intake/applications/{app['id']}/return/sign-off"
    assert s["clerk"].post(url, {"approve": True}).status_code in (403, 422)  # not the one who asked
    r = s["head"].post(url, {"approve": True, "note": "同意退回"})
    assert r.status_code == 200, r.text
    signed = r.json()
    assert signed["application"]["status"] == "returned" and signed["application"]["signed_off_by"]
    assert signed["notice"]["kind"] == "return" and signed["notice"]["missing"] == ["居民身份证"]
    audit = [a for a in s["boss"].get("/intake/returns").json() if a["application_id"] == app["id"]]
    assert len(audit) == 1 and audit[0]["status"] == "returned" and "居民身份证" in audit[0]["reason"]
    # meanwhile an accepted application's case opens: the returned one never does
    other = apply(s, "IM-1")
    case_of(s, other["id"])
    assert not [c for c in s["boss"].get("/cases?limit=500").json() if c["application_id"] == app["id"]]
