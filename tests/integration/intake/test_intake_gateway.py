"""Intake through the gateway over real HTTP, with staff, intake and the gateway running
in-process on the real broker (own vhost) and PostgreSQL (own databases): I1 public
catalogue, I3 notice and violation, I4 receipt query with its guessing limit, I5 classification,
C12 deemed acceptance, tenancy, and intake.application_accepted leaving through the outbox."""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone

import pytest
from kombu import Connection, Queue
from nameko.standalone.events import event_dispatcher, get_event_exchange

from services.common.calendar import WorkingCalendar
from services.common.clock import FrozenClock
from tests.support.runtime import wait_for
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration

START = datetime.now(timezone.utc).replace(microsecond=0)
MATERIALS = [{"name": "低保申请书", "main": True}, {"name": "居民身份证", "main": True},
             {"name": "户口簿复印件", "main": False}, {"name": "家庭收入证明", "main": False}]
ALL = [m["name"] for m in MATERIALS]
APPLICANT = {"name": "李秀兰", "phone": "13812345678", "id_no": "110101199003071234"}


@pytest.fixture(scope="module")
def system(broker, module_database):
    database = module_database
    clock = FrozenClock(START)
    with running_services(broker.uri, database, ["staff", "intake", "gateway"], clock=clock) as containers:
        api = gateway_api(containers["gateway"])
        op = api.as_(operator_token(broker.uri))
        towns = {key: township(api, op, key) for key in ("intake-a", "intake-b", "intake-c")}
        yield {"api": api, "amqp": broker.uri, "clock": clock, **towns}


def township(api, op, code):
    town = Township(api, op, code)
    boss, person = town.boss, town.person
    dept = boss.post("/departments", {"name": "民政办"}).json()
    window = boss.post("/windows", {"number": 1, "name": "民政窗口", "department_id": dept["id"]}).json()
    clerk, clerk_api = person("王晓燕", ["clerk"], window_id=window["id"])
    head, head_api = person("陈志强", ["section_head"], department_id=dept["id"])
    inspector, inspector_api = person("曹建华", ["inspector"])
    r = boss.post("/intake/items", {
        "code": "MZ-002", "name": "城乡低保申请", "legal_basis": "《社会救助暂行办法》第十一条",
        "window_id": window["id"], "department_id": dept["id"], "materials": MATERIALS,
        "default_kind": "promised", "promised_days": 5, "major": True})
    assert r.status_code == 201, r.text
    return {"code": code, "boss": boss, "clerk": clerk_api, "clerk_id": clerk["id"], "head": head_api,
            "inspector": inspector_api, "window": window}


def submit(town, **over):
    body = {"item_code": "MZ-002", "applicant": APPLICANT, "materials_brought": ALL, **over}
    r = town["clerk"].post("/intake/applications", body)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def events(system):
    """A kombu queue bound to the intake.events exchange (what cases consumes)."""
    with Connection(system["amqp"]) as conn:
        exchange = get_event_exchange("intake", {})
        queue = Queue(f"test-intake-{uuid.uuid4().hex[:8]}", exchange, routing_key="#", auto_delete=True)
        bound = queue(conn.default_channel)
        bound.declare()
        seen = []

        def next_event(event_type):
            def pull():
                while True:
                    msg = bound.get(no_ack=True)
                    if msg is None:
                        break
                    seen.append(json.loads(msg.body))
                return next((e for e in seen if e["event_type"] == event_type), None)
            found = wait_for(pull, timeout=15, message=event_type)
            seen.remove(found)
            return found
        yield next_event


def test_application_accepted_leaves_through_the_outbox_without_personal_data(system, events):
    town = system["intake-a"]
    out = submit(town, proxy=True, agent_name="谢春花", mandate_no="QS-DL-001")
    assert out["receipt"]["kind"] == "promised" and out["application"]["status"] == "accepted"
    ev = events("intake.application_accepted")
    assert ev["application_id"] == out["application"]["id"] and ev["receipt_no"] == out["receipt"]["receipt_no"]
    assert (ev["kind"], ev["item_version"], ev["promised_days"], ev["proxy"], ev["mandate_no"], ev["major"]) == \
        ("promised", 1, 5, True, "QS-DL-001", True)
    assert ev["handler_person_id"] == town["clerk_id"] and ev["window_id"] == town["window"]["id"]
    raw = json.dumps(ev, ensure_ascii=False)
    assert all(secret not in raw for secret in (APPLICANT["phone"], APPLICANT["id_no"], APPLICANT["name"],
                                                out["receipt"]["query_password"]))
    # the receipt names the window and the handler from intake's copy of the organisation
    assert out["receipt"]["window"]["name"] and "民政窗口" in out["receipt"]["window"]["name"]


def test_public_catalogue_needs_no_token_and_shows_only_that_township(system):
    api = system["api"]
    r = api.get("/public/townships/intake-a/catalogue")
    assert r.status_code == 200 and [i["code"] for i in r.json()] == ["MZ-002"]
    assert r.json()[0]["materials"][0] == {"name": "低保申请书", "main": True, "note": None}
    system["intake-b"]["boss"].patch("/intake/items/MZ-002", {"published": False})
    assert api.get("/public/townships/intake-b/catalogue").json() == []
    assert api.get("/public/townships/intake-a/catalogue/MZ-002").status_code == 200
    assert api.get("/public/townships/nowhere/catalogue").status_code == 404
    system["intake-b"]["boss"].patch("/intake/items/MZ-002", {"published": True})


def test_one_notice_lists_everything_and_a_later_request_is_a_violation(system, events):
    town = system["intake-a"]
    out = submit(town, materials_brought=["低保申请书"], materials_present=["居民身份证"])
    assert out["notice"]["missing"] == ["居民身份证", "户口簿复印件", "家庭收入证明"]
    app_id = out["application"]["id"]
    r = town["clerk"].post(f"/intake/applications/{app_id}/material-requests", {"material": "房产证"})
    assert r.status_code == 422 and "material" in r.json()["details"]
    ev = events("intake.notice_violation")
    assert (ev["application_id"], ev["person_id"], ev["material"], ev["reason"]) == \
        (app_id, town["clerk_id"], "房产证", "not_in_catalogue")
    listed = town["inspector"].get("/intake/violations").json()
    assert [(v["material"], v["reason"]) for v in listed] == [("房产证", "not_in_catalogue")]
    r = town["clerk"].post(f"/intake/applications/{app_id}/arrivals",
                           {"materials": ["居民身份证", "户口簿复印件", "家庭收入证明"]})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    done = events("intake.materials_completed")
    assert done["application_id"] == app_id and done["kind"] == "promised"


def test_receipt_query_shows_status_from_cases(system):
    town = system["intake-a"]
    r = submit(town)["receipt"]
    api = system["api"]
    path = f"/public/townships/intake-a/receipts/{r['receipt_no']}"
    ok = api.post(path, {"password": r["query_password"]})
    assert ok.status_code == 200 and ok.json()["status_code"] == "ACCEPTED"
    assert ok.json()["applicant_name"] == "李*兰" and "13812345678" not in ok.text
    dispatch = event_dispatcher({"AMQP_URI": system["amqp"]})
    app = town["clerk"].get("/intake/applications?status=accepted").json()
    app_id = next(a["id"] for a in app if a["receipt_no"] == r["receipt_no"])
    dispatch("cases", "case_transitioned", {
        "event_id": uuid.uuid4().hex, "event_type": "cases.case_transitioned",
        "township_id": system["intake-a"]["boss"].get("/me").json()["township_id"],
        "occurred_at": datetime.now(timezone.utc).isoformat(), "schema_version": 1,
        "case_id": "c" * 32, "application_id": app_id, "receipt_no": r["receipt_no"],
        "from_state": "received", "to_state": "in_review", "status_code": "ACCEPTED", "status_label": "已受理",
        "due_date": "2030-01-04", "provisional": False})
    wait_for(lambda: api.post(path, {"password": r["query_password"]}).json().get("status") == "in_review",
             message="case status to reach intake")
    assert api.post(path, {"password": r["query_password"]}).json()["due_date"] == "2030-01-04"


def test_wrong_password_gives_no_hint_and_429_after_the_limit(system):
    town = system["intake-c"]
    r = submit(town)["receipt"]
    api = system["api"]
    wrong = api.post(f"/public/townships/intake-c/receipts/{r['receipt_no']}", {"password": "WRONGPASS2"})
    missing = api.post("/public/townships/intake-c/receipts/20200101-NOSUCHONE2", {"password": "WRONGPASS2"})
    assert wrong.status_code == missing.status_code == 404
    assert wrong.json() == missing.json()
    for _ in range(3):
        assert api.post(f"/public/townships/intake-c/receipts/{r['receipt_no']}",
                        {"password": "WRONGPASS2"}).status_code == 404
    limited = api.post(f"/public/townships/intake-c/receipts/{r['receipt_no']}", {"password": r["query_password"]})
    assert limited.status_code == 429 and limited.json()["error"] == "too_many_attempts"
    assert api.post("/public/townships/intake-c/receipts/x", {}).status_code == 422  # password required


def test_another_townships_application_answers_404_like_a_missing_one(system):
    a, b = system["intake-a"], system["intake-b"]
    app_id = submit(a)["application"]["id"]
    foreign = b["clerk"].get(f"/intake/applications/{app_id}")
    missing = b["clerk"].get(f"/intake/applications/{'0' * 32}")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"] == missing.json()["error"] == "not_found"
    assert b["clerk"].post(f"/intake/applications/{app_id}/notice").status_code == 404
    assert a["clerk"].get(f"/intake/applications/{app_id}").status_code == 200


def test_bad_input_is_a_named_422_and_a_clerk_cannot_edit_the_catalogue(system):
    town = system["intake-a"]
    r = town["clerk"].post("/intake/applications", {"item_code": "MZ-002",
                                                    "applicant": {"name": "x", "phone": "1", "id_no": "2"}})
    assert r.status_code == 422 and set(r.json()["details"]["applicant"]) == {"phone", "id_no"}
    r = town["clerk"].post("/intake/applications", {"item_code": "MZ-002", "applicant": APPLICANT,
                                                    "materials_brought": ["营业执照"]})
    assert r.status_code == 422 and "materials_brought" in r.json()["details"]
    assert town["clerk"].post("/intake/items", {"code": "X-1"}).status_code == 403


def test_major_return_waits_for_sign_off(system, events):
    town = system["intake-a"]
    out = submit(town, materials_brought=["低保申请书", "户口簿复印件"])  # main 居民身份证 missing
    app_id = out["application"]["id"]
    assert out["application"]["status"] == "return_pending"
    r = town["clerk"].post(f"/intake/applications/{app_id}/return/sign-off", {"approve": True})
    assert r.status_code == 403
    r = town["head"].post(f"/intake/applications/{app_id}/return/sign-off", {"approve": True})
    assert r.status_code == 200 and r.json()["application"]["status"] == "returned"
    ev = events("intake.application_returned")
    assert ev["application_id"] == app_id and ev["signed_off_by"] and "居民身份证" in ev["reason"]
    audit = town["inspector"].get("/intake/returns").json()
    assert any(x["application_id"] == app_id and x["status"] == "returned" for x in audit)


def test_late_supplement_notice_is_deemed_accepted_from_arrival(system, events):
    town, clock = system["intake-b"], system["clock"]
    out = submit(town, materials_brought=["低保申请书", "居民身份证"], issue_notice=False)
    app = out["application"]
    assert app["status"] == "received" and out["receipt"] is None
    try:
        clock.move(days=12)  # well past 5 working days
        r = town["clerk"].post(f"/intake/applications/{app['id']}/notice")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["notice"]["late"] and body["receipt"]["deemed_accepted"]
        ev = events("intake.application_accepted")
        while ev["application_id"] != app["id"]:
            ev = events("intake.application_accepted")
        # C12 from the day the materials arrived — C2a: the next working day if the hall was closed
        arrived = WorkingCalendar().hall_day(date.fromisoformat(app["received_on"]))
        assert ev["deemed_accepted"] is True and ev["accepted_on"] == arrived.isoformat()
        assert ev["kind"] == "promised"
    finally:
        clock.set(START)


def test_openapi_documents_the_intake_routes_with_examples(system):
    from openapi_spec_validator import validate

    spec = system["api"].get("/openapi.json").json()
    validate(spec)
    receipt = spec["paths"]["/public/townships/{code}/receipts/{number}"]
    assert set(receipt) == {"post"}  # the password stays out of URLs and logs
    assert "/intake/applications" in spec["paths"] and "/public/townships/{code}/catalogue" in spec["paths"]
    assert "IntakeApplicationIn" in spec["components"]["schemas"]
