"""The cases service on the real broker and PostgreSQL, with staff (the organisation copy
comes from its events) and the gateway (real HTTP). Cases are opened by publishing
``intake.application_accepted`` the way intake does, so this does not depend on intake."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from kombu import Connection, Exchange, Queue

from services.common.clock import FrozenClock
from tests.integration.cases.support import accepted, outbox, publish
from tests.support.runtime import wait_for
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 1, 24, 10, 0, tzinfo=SH)  # Fri: 3 working days → Wed 5 Feb 2025 (C2)


@pytest.fixture(scope="module")
def system(broker, module_database):
    database = module_database
    clock = FrozenClock(START)
    # a queue of our own on the cases exchange: proves events really leave through the relay
    exchange = Exchange("cases.events", type="topic", durable=True)
    watch = Queue("test-watch-cases", exchange=exchange, routing_key="#", durable=False, auto_delete=False)
    with Connection(broker.uri) as conn:
        watch(conn.default_channel).declare()
    # only cases runs on the frozen clock (tokens are checked against real time)
    with running_services(broker.uri, database, ["staff", "gateway"]) as containers, \
            running_services(broker.uri, database, ["cases"], clock=clock, SWEEP_INTERVAL=0.3) as cases:
        containers.update(cases)
        api = gateway_api(containers["gateway"])
        op = api.as_(operator_token(broker.uri))
        towns = {code: Township(api, op, code) for code in ("cases-a", "cases-b")}
        boss = towns["cases-a"].boss
        window = boss.post("/windows", {"number": 1, "name": "民政"}).json()
        fee_window = boss.post("/windows", {"number": 2, "name": "收费"}).json()  # C8: marked below
        people = {}
        for key, roles, win in [("a", ["clerk"], window["id"]), ("b", ["clerk"], window["id"]),
                                ("both", ["clerk", "section_head"], window["id"]), ("head", ["section_head"], None),
                                ("cashier", ["clerk"], fee_window["id"])]:
            body = {"name": key, "roles": roles, **({"window_id": win} if win else {})}
            people[key] = boss.post("/people", body).json()
        assert boss.put(f"/windows/{window['id']}/ab-pair", {"a_person_id": people["a"]["id"],
                                                             "b_person_id": people["b"]["id"]}).status_code == 200
        tokens = {k: towns["cases-a"].sign_in_as(p["id"]) for k, p in people.items()}
        yield {"api": api, "op": op, "boss": boss, "other": towns["cases-b"].boss,
               "tid": towns["cases-a"].id, "window": window, "fee_window": fee_window, "people": people, "as": tokens,
               "amqp": broker.uri, "clock": clock, "cases": containers["cases"], "watch": watch}


def open_case(s, receipt, **kw):
    kw.setdefault("window_id", s["window"]["id"])
    accepted(s["amqp"], s["tid"], s["clock"].now(), receipt, s["people"]["a"]["id"], **kw)

    def found():
        r = s["boss"].get(f"/cases/by-receipt/{receipt}")
        return r.status_code == 200 and r.json()
    return wait_for(found, timeout=15, message=f"case {receipt} to open")


def test_accepted_event_opens_a_case_with_its_c2_deadline_trail_and_events(system):
    case = open_case(system, "QS-INT-1")
    assert (case["state"], case["due_date"], case["provisional"]) == ("in_review", "2025-02-05", False)
    assert [(t["to_state"], t["status_code"]) for t in case["trail"]] == [("received", "RECEIVED"),
                                                                         ("in_review", "ACCEPTED")]
    with Connection(system["amqp"]) as conn:
        q = system["watch"](conn.default_channel)

        def transitioned():
            msg = q.get(no_ack=True)
            while msg is not None:
                if msg.payload.get("case_id") == case["id"] and msg.payload["status_code"] == "ACCEPTED":
                    return msg.payload
                msg = q.get(no_ack=True)
            return None
        event = wait_for(transitioned, timeout=10, message="case_transitioned on the broker")
    assert event["due_date"] == "2025-02-05" and event["receipt_no"] == "QS-INT-1"


def test_the_same_event_delivered_twice_opens_one_case(system):
    body = accepted(system["amqp"], system["tid"], system["clock"].now(), "QS-INT-DUP", system["people"]["a"]["id"],
                    window_id=system["window"]["id"])
    publish(system["amqp"], "intake.application_accepted", None, None, body=body)
    wait_for(lambda: system["boss"].get("/cases/by-receipt/QS-INT-DUP").status_code == 200, timeout=15)
    wait_for(lambda: len([c for c in system["boss"].get("/cases?limit=500").json()
                          if c["receipt_no"] == "QS-INT-DUP"]) == 1)
    case = system["boss"].get("/cases/by-receipt/QS-INT-DUP").json()
    assert len(case["trail"]) == 2


def test_c8_a_fee_is_taken_only_at_the_fee_window_through_the_gateway(system):
    """C8 统一收费: no fee window marked → 409; the case's own window → 422 naming the fee window;
    the fee window's clerk → 201. Another township cannot mark this one's window (404)."""
    case = open_case(system, "QS-INT-FEE", fee_cents=800, fee_basis="工本费")
    url, a, cashier, boss = f"/cases/{case['id']}", system["as"]["a"], system["as"]["cashier"], system["boss"]
    fee_window = system["fee_window"]["id"]
    if not any(w["fee_window"] for w in boss.get("/windows").json()):
        r = cashier.post(url + "/fee", {"amount_cents": 800})
        assert r.status_code == 409 and r.json()["details"] == {"fee_window": ["none marked"]}, r.text
    assert system["other"].put(f"/windows/{fee_window}/fee-window").status_code == 404  # tenancy
    assert system["as"]["a"].put(f"/windows/{fee_window}/fee-window").status_code == 403
    r = boss.put(f"/windows/{fee_window}/fee-window")
    assert r.status_code == 200 and r.json()["fee_window"] is True, r.text
    r = boss.put("/windows/no-such-window/fee-window")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    # the mark reaches cases' copy by staff's event (or cases asks staff): the clerk of 民政 is refused
    body = wait_for(lambda: (r := a.post(url + "/fee", {"amount_cents": 800})).status_code == 422 and r.json(),
                    timeout=15, message="the clerk of another window refused, naming the fee window")
    assert body["error"] == "validation_failed" and "window_id" in body["details"]
    assert "2 收费" in body["message"] and body["details"]["fee_window_id"] == fee_window
    assert a.get(url).json()["trail"][-1]["action"] == "fee_refused"
    r = cashier.post(url + "/fee", {"amount_cents": 800})
    assert r.status_code == 201 and r.json()["amount_cents"] == 800, r.text
    assert system["other"].post(url + "/fee", {"amount_cents": 800}).status_code in (403, 404)
    r = cashier.post(url + "/fee", {"amount_cents": "八百"})
    assert r.status_code == 422 and "amount_cents" in r.json()["details"]


def test_promised_case_from_review_to_delivery_and_a_low_rating_over_http(system):
    case = open_case(system, "QS-INT-2", fee_cents=1500, fee_basis="工本费")
    url, a, both, head = f"/cases/{case['id']}", system["as"]["a"], system["as"]["both"], system["as"]["head"]
    assert a.post(url + "/decision", {"outcome": "approved"}).status_code == 403  # a clerk is no approver
    r = both.post(url + "/review", {"opinion": "approve", "note": "材料齐全"})
    assert r.status_code == 200, r.text
    r = both.post(url + "/decision", {"outcome": "approved"})
    assert r.status_code == 422 and "approver_person_id" in r.json()["details"]  # C4
    assert head.post(url + "/decision", {"outcome": "maybe"}).status_code == 422
    r = head.post(url + "/decision", {"outcome": "approved", "reason": "符合条件"})
    assert r.status_code == 200 and r.json()["state"] == "decided"
    r = a.post(url + "/delivery", {})
    assert r.status_code == 409 and "fee" in r.json()["message"]
    cashier = system["as"]["cashier"]
    assert system["boss"].put(f"/windows/{system['fee_window']['id']}/fee-window").status_code == 200  # C8
    r = cashier.post(url + "/fee", {"amount_cents": 2000})
    assert r.status_code == 422 and r.json()["details"] == {"amount_cents": ["must be 1500"]}
    wait_for(lambda: [e for e in outbox(system["cases"], "cases.fee_violation") if e["case_id"] == case["id"]],
             message="the fee violation recorded although the charge was refused")
    r = cashier.post(url + "/fee", {"amount_cents": 1500})
    assert r.status_code == 201 and r.json()["fee_receipt_no"].startswith("SF")
    assert a.post(url + "/delivery", {"note": "已领证"}).json()["state"] == "delivered"
    r = a.post(url + "/delivery", {})
    assert r.status_code == 409 and "'delivered'" in r.json()["message"]
    r = a.post(url + "/rating", {"rating": 2, "comment": "等太久"})
    assert r.status_code == 201 and r.json()["follow_up"] is True
    rating = [e for e in outbox(system["cases"], "cases.rating_submitted") if e["case_id"] == case["id"]]
    assert rating[0]["rating"] == 2 and rating[0]["channel"] == "paper"
    assert a.post(url + "/rating", {"rating": 9}).status_code == 422
    codes = [t["status_code"] for t in a.get(url).json()["trail"] if t["status_code"]]
    assert codes == ["RECEIVED", "ACCEPTED", "DECIDED", "COMPLETED"]


def test_joint_case_decision_with_an_opinion_missing_is_409_naming_it(system):
    case = open_case(system, "QS-INT-3", kind="joint", days=5, departments=["民政办", "自然资源所"])
    url, a, head = f"/cases/{case['id']}", system["as"]["a"], system["as"]["head"]
    assert a.post(url + "/opinions", {"department": "民政办", "opinion": "approve"}).status_code == 201
    assert a.post(url + "/review", {"opinion": "approve"}).status_code == 200
    r = head.post(url + "/decision", {"outcome": "approved"})
    assert r.status_code == 409 and r.json()["details"]["missing_departments"] == ["自然资源所"]
    assert "自然资源所" in r.json()["message"]
    assert a.post(url + "/opinions", {"department": "自然资源所", "opinion": "approve"}).status_code == 201
    assert head.post(url + "/decision", {"outcome": "approved"}).status_code == 200


def test_another_townships_case_answers_404(system):
    case = open_case(system, "QS-INT-4")
    other = system["other"]
    missing = other.get("/cases/" + "0" * 32)
    r = other.get(f"/cases/{case['id']}")
    assert r.status_code == 404 and missing.status_code == 404 and r.json()["error"] == "not_found"
    assert other.post(f"/cases/{case['id']}/withdrawal", {"reason": "x"}).status_code == 404
    assert other.get("/cases/by-receipt/QS-INT-4").status_code == 404
    assert all(c["id"] != case["id"] for c in other.get("/cases").json())


def test_supplement_case_starts_its_clock_when_materials_complete(system):
    case = open_case(system, "QS-INT-5", kind="supplement", application_id="app-sup-5")
    assert case["state"] == "supplement_pending" and case["due_date"] is None
    done = datetime(2025, 2, 10, 9, tzinfo=SH)
    publish(system["amqp"], "intake.materials_completed", system["tid"], done, application_id="app-sup-5",
            completed_at=done.isoformat(), completed_on="2025-02-10", kind="promised")
    wait_for(lambda: system["boss"].get(f"/cases/{case['id']}").json()["due_date"] == "2025-02-13", timeout=15)


def test_leave_moves_the_case_to_b_and_return_brings_it_back(system):
    s = system
    case = open_case(s, "QS-INT-6")
    a_id, b_id = s["people"]["a"]["id"], s["people"]["b"]["id"]
    now = s["clock"].now()
    publish(s["amqp"], "staff.leave_approved", s["tid"], now, leave_id="L-6", person_id=a_id,
            starts_at=now.isoformat(), ends_at=now.replace(hour=23).isoformat())
    holder = lambda: s["boss"].get(f"/cases/{case['id']}").json()["holder_person_id"]  # noqa: E731
    wait_for(lambda: holder() == b_id, timeout=15, message="A's case to move to B")
    assert [e for e in outbox(s["cases"], "cases.case_reassigned") if e["case_id"] == case["id"]]
    publish(s["amqp"], "staff.returned", s["tid"], now, person_id=a_id, leave_id="L-6", returned_at=now.isoformat())
    wait_for(lambda: holder() == a_id, timeout=15, message="the case back with A")


def test_pause_and_extension_over_http(system):
    case = open_case(system, "QS-INT-7")
    url, a, boss, head = f"/cases/{case['id']}", system["as"]["a"], system["boss"], system["as"]["head"]
    assert head.post(url + "/extension", {"days": 2, "reason": "核查"}).status_code == 403  # director (C3)
    assert boss.post(url + "/extension", {"days": 4, "reason": "核查"}).status_code == 422
    r = boss.post(url + "/extension", {"days": 2, "reason": "需现场核查"})
    assert r.status_code == 200 and r.json()["due_date"] == "2025-02-07"
    assert boss.post(url + "/extension", {"days": 1, "reason": "again"}).status_code == 409
    r = a.post(url + "/pauses", {"procedure": "expert_review", "reason": "专家评审"})
    assert r.status_code == 200 and r.json()["state"] == "suspended" and r.json()["notice"]
    assert a.post(url + "/pauses/end", {}).json()["days_added"] == 0  # same day: nothing added
    assert a.post(url + "/pauses", {"procedure": "picnic"}).status_code == 422


def test_2027_deadline_is_provisional_until_the_operator_loads_the_year(system):
    s = system
    later = datetime(2026, 12, 28, 10, tzinfo=SH)
    accepted(s["amqp"], s["tid"], later, "QS-INT-8", s["people"]["a"]["id"], window_id=s["window"]["id"], days=4,
             accepted_on=later.date())
    wait_for(lambda: s["boss"].get("/cases/by-receipt/QS-INT-8").status_code == 200, timeout=15)
    case = s["boss"].get("/cases/by-receipt/QS-INT-8").json()
    assert (case["due_date"], case["provisional"]) == ("2027-01-01", True)
    r = s["op"].put("/calendar/national", {"days": [{"day": "2027-01-01", "working": False}], "loaded_year": 2027})
    assert r.status_code == 200
    wait_for(lambda: s["boss"].get(f"/cases/{case['id']}").json()["provisional"] is False, timeout=15,
             message="the deadline recomputed when 2027 was loaded")
    assert s["boss"].get(f"/cases/{case['id']}").json()["due_date"] == "2027-01-04"


def test_cases_in_the_openapi_document_with_examples(system):
    from openapi_spec_validator import validate

    doc = system["api"].get("/openapi.json").json()
    validate(doc)
    op = doc["paths"]["/cases/{case_id}/decision"]["post"]
    assert op["responses"]["422"] and op["responses"]["404"] and op["requestBody"]
    assert op["responses"]["200"]["content"]["application/json"]["example"]["state"] == "in_review"
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    body = doc["components"]["schemas"][ref]["properties"]["outcome"]
    assert body["example"] == "approved"
    assert "/cases/{case_id}/fee" in doc["paths"] and "/cases/{case_id}/rating" in doc["paths"]
