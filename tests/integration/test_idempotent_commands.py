"""Idempotent commands through the real broker (issue 7, Must show 3's in-process half): the
``Idempotency-Key`` header through the gateway, and a redelivered RPC request — the same AMQP
message again, as after a service killed between its commit and its reply — with no second
effect and the stored answer."""
from __future__ import annotations

import json
import uuid

import pytest
from kombu import Connection, Exchange, Queue

from services.common.idempotency import HEADER
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration

MATERIALS = [{"name": "申请书", "main": True}, {"name": "身份证", "main": True}]
APPLICANT = {"name": "李秀兰", "phone": "13812345678", "id_no": "110101199003071234"}


@pytest.fixture(scope="module")
def system(broker, module_database):
    with running_services(broker.uri, module_database, ["staff", "intake", "gateway"]) as containers:
        api = gateway_api(containers["gateway"])
        op = api.as_(operator_token(broker.uri))
        towns = {}
        for code in ("idem-a", "idem-b"):
            town = Township(api, op, code)
            dept = town.boss.post("/departments", {"name": "民政办"}).json()
            window = town.boss.post("/windows", {"number": 1, "name": "民政窗口", "department_id": dept["id"]}).json()
            clerk, clerk_api = town.person("王晓燕", ["clerk"], window_id=window["id"])
            r = town.boss.post("/intake/items", {
                "code": "MZ-001", "name": "低保申请", "legal_basis": "《社会救助暂行办法》",
                "window_id": window["id"], "department_id": dept["id"], "materials": MATERIALS,
                "default_kind": "promised", "promised_days": 5})
            assert r.status_code == 201, r.text
            towns[code] = {"town": town, "clerk": clerk, "api": clerk_api}
        yield {"amqp": broker.uri, **towns}


def application(**over):
    return {"item_code": "MZ-001", "applicant": APPLICANT, "materials_brought": ["申请书", "身份证"], **over}


def count(town) -> int:
    r = town["api"].get("/intake/applications")
    assert r.status_code == 200, r.text
    return len(r.json())


def test_the_same_key_and_body_answer_the_first_response_again(system):
    a = system["idem-a"]
    before = count(a)
    key = {HEADER: uuid.uuid4().hex}
    first = a["api"].post("/intake/applications", application(), headers=key)
    again = a["api"].post("/intake/applications", application(), headers=key)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json()  # the same receipt, the same query password
    assert count(a) == before + 1


def test_the_same_key_with_another_body_is_422_naming_the_header(system):
    a = system["idem-a"]
    key = {HEADER: uuid.uuid4().hex}
    assert a["api"].post("/intake/applications", application(), headers=key).status_code == 201
    before = count(a)
    other = a["api"].post("/intake/applications", application(materials_brought=["申请书"]), headers=key)
    assert other.status_code == 422, other.text
    assert HEADER in other.json()["details"]
    assert count(a) == before


def test_no_key_means_two_requests_two_applications(system):
    a = system["idem-a"]
    before = count(a)
    assert a["api"].post("/intake/applications", application()).status_code == 201
    assert a["api"].post("/intake/applications", application()).status_code == 201
    assert count(a) == before + 2


def test_two_townships_may_use_the_same_key(system):
    key = {HEADER: "shared-key-1"}
    answers = [system[code]["api"].post("/intake/applications", application(), headers=key) for code in ("idem-a", "idem-b")]
    assert [r.status_code for r in answers] == [201, 201]
    assert answers[0].json()["application"]["id"] != answers[1].json()["application"]["id"]


@pytest.mark.parametrize("value", ["x" * 256, "ключ", "del\x7f", ""])
def test_a_malformed_key_is_422_and_nothing_happens(system, value):
    a = system["idem-a"]
    before = count(a)
    r = a["api"].call("POST", "/intake/applications", application(),
                      headers={HEADER: value.encode("utf-8")})
    assert r.status_code == 422, r.text
    assert HEADER in r.json()["details"]
    assert count(a) == before


def rpc_twice(amqp_uri, service, method, kwargs, context) -> list:
    """Publish one RPC request message twice (same correlation id: what the broker redelivers
    when a service dies between its commit and its reply) and collect both replies."""
    correlation_id = str(uuid.uuid4())
    reply_to = f"test-reply-{uuid.uuid4().hex[:8]}"
    exchange = Exchange("nameko-rpc", type="topic", durable=True)
    headers = {f"nameko.{k}": v for k, v in context.items()}
    with Connection(amqp_uri) as conn:
        replies = Queue(reply_to, exchange, routing_key=reply_to, auto_delete=True)(conn.default_channel)
        replies.declare()
        producer = conn.Producer(serializer="json")
        for _ in range(2):
            producer.publish({"args": [], "kwargs": kwargs}, exchange=exchange, routing_key=f"{service}.{method}",
                             reply_to=reply_to, correlation_id=correlation_id, headers=headers,
                             declare=[exchange])
        got = []
        import time

        deadline = time.monotonic() + 20
        while len(got) < 2 and time.monotonic() < deadline:
            message = replies.get(no_ack=True)
            if message is None:
                time.sleep(0.05)
                continue
            got.append(json.loads(message.body))
        return got


def test_a_redelivered_rpc_request_has_no_second_effect_and_answers_the_stored_result(system):
    a = system["idem-a"]
    before = count(a)
    context = {"township_id": a["town"].id, "person_id": a["clerk"]["id"], "user_id": a["clerk"]["id"],
               "roles": ["clerk"]}
    replies = rpc_twice(system["amqp"], "intake", "submit_application", {"data": application()}, context)
    assert len(replies) == 2, replies
    assert replies[0]["error"] is None, replies[0]
    assert replies[1] == replies[0]
    assert count(a) == before + 1
