"""Complaints through the gateway, on the real broker and PostgreSQL: staff, complaints and
the gateway running in-process with a movable clock.

- P2: the accused clerk reads the complaint without the complainant's identity; the
  complaint officer sees it; another township answers 404;
- P4: a verified complaint reaches the broker as complaints.complaint_verified (outbox), with
  no identity;
- P6: a low rating delivered twice opens one follow-up;
- P3: overdue exactly once with a moved clock, however often the sweep runs;
- T1: public online submission and anonymised outcomes.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from kombu import Connection, Exchange, Queue
from nameko.testing.services import entrypoint_hook
from sqlalchemy import select

from services.common import events
from services.common.clock import FrozenClock
from services.complaints.models import Base, Complaint
from tests.support.runtime import database_of, wait_for
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration

CLOCK = FrozenClock(datetime.now(timezone.utc).replace(microsecond=0))
PERSONAL = ("赵大妈", "13912345678", "柳溪村5组")


@pytest.fixture(scope="module")
def system(broker, module_database):
    with running_services(broker.uri, module_database, ["staff", "complaints", "gateway"], clock=CLOCK) as containers:
        api = gateway_api(containers["gateway"])
        op = api.as_(operator_token(broker.uri))
        town, other_town = Township(api, op, "cmp-a"), Township(api, op, "cmp-b")
        a, b, boss, person = town.record, other_town.record, town.boss, town.person
        window = boss.post("/windows", {"number": 1, "name": "民政窗口"}).json()
        clerk, clerk_api = person("王晓燕", ["clerk"], window_id=window["id"])
        mate, mate_api = person("李俊", ["clerk"], window_id=window["id"])
        other, other_api = person("吴刚", ["clerk"])
        officer, officer_api = person("彭玉兰", ["complaint_officer"])
        yield {
            "api": api, "a": a, "b": b, "boss": boss, "window": window, "clerk": clerk,
            "clerk_api": clerk_api, "mate_api": mate_api, "other_api": other_api, "officer": officer_api,
            "other_boss": api.as_(b["director_token"]), "containers": containers, "amqp": broker.uri,
        }


def complaint(system, **changes):
    body = {"channel": "phone", "category": "attitude",
            "complainant": {"name": PERSONAL[0], "phone": PERSONAL[1], "address": PERSONAL[2]},
            "target_person_id": system["clerk"]["id"], "target_window_id": system["window"]["id"],
            "content": f"{PERSONAL[0]}来电：办低保时被推诿，回电{PERSONAL[1]}", **changes}
    r = system["officer"].post("/complaints", body)
    assert r.status_code == 201, r.text
    return r.json()


def test_accused_clerk_sees_no_identity_complaint_officer_does(system):
    c = complaint(system)
    r = system["officer"].get(f"/complaints/{c['id']}")
    assert r.status_code == 200
    assert r.json()["complainant"] == {"name": PERSONAL[0], "phone": PERSONAL[1], "address": PERSONAL[2]}
    for reader in ("clerk_api", "mate_api"):  # the accused person and their window
        r = system[reader].get(f"/complaints/{c['id']}")
        assert r.status_code == 200, r.text
        assert r.json()["complainant"] is None and "推诿" in r.json()["content"]
        assert not any(p in r.text for p in PERSONAL)
        listed = system[reader].get("/complaints")
        assert c["id"] in [x["id"] for x in listed.json()] and not any(p in listed.text for p in PERSONAL)
    assert system["other_api"].get(f"/complaints/{c['id']}").status_code == 404
    assert system["other_boss"].get(f"/complaints/{c['id']}").status_code == 404
    r = system["clerk_api"].post(f"/complaints/{c['id']}/outcome", {"outcome": "not_verified", "finding": "x"})
    assert r.status_code == 403


def test_an_id_number_written_in_the_content_is_hidden_from_the_accused(system):
    """Personal data (issue 11): the probe's 身份证号330102198001011234 in the content no longer
    reaches the accused clerk or their window; the complaint officer still reads it."""
    c = complaint(system, content=f"{PERSONAL[0]}反映被推诿，身份证号330102198001011234，回电{PERSONAL[1]}")
    for reader in ("clerk_api", "mate_api"):
        r = system[reader].get(f"/complaints/{c['id']}")
        assert r.status_code == 200, r.text
        assert "330102198001011234" not in r.text and "330***********1234" in r.json()["content"]
        assert not any(p in r.text for p in PERSONAL)
    assert "330102198001011234" in system["officer"].get(f"/complaints/{c['id']}").json()["content"]


def test_bad_complaint_is_422_with_field_and_nothing_written(system):
    r = system["officer"].post("/complaints", {"channel": "phone", "major": True, "content": "重大",
                                                "complainant": {"name": "甲"},
                                                "target_window_id": system["window"]["id"]})
    assert r.status_code == 422 and "channel" in r.json()["details"]
    r = system["officer"].post("/complaints", {"channel": "phone", "content": "x", "complainant": {"name": "甲"},
                                                "target_person_id": "0" * 32})
    assert r.status_code == 422 and "target_person_id" in r.json()["details"]


def test_verified_complaint_is_published_through_the_outbox_without_identity(system):
    exchange = Exchange("complaints.events", type="topic", durable=True)
    queue = Queue("test-complaint-verified", exchange=exchange, routing_key="complaint_verified",
                  auto_delete=False)
    with Connection(system["amqp"]) as conn:
        queue(conn.channel()).declare()
        c = complaint(system)
        r = system["officer"].post(f"/complaints/{c['id']}/outcome", {"outcome": "verified", "finding": "属实"})
        assert r.status_code == 200 and r.json()["state"] == "concluded"
        simple = conn.SimpleQueue(queue)
        msg = simple.get(timeout=10)
        body = msg.payload
        msg.ack()
        simple.close()
    assert body["complaint_id"] == c["id"] and body["target_person_id"] == system["clerk"]["id"]
    events.parse("complaints.complaint_verified", body)
    assert not any(p in repr(body) for p in PERSONAL)
    db = database_of(system["containers"]["complaints"])

    def sent_at():  # the relay marks the row sent in its own commit, after the broker's confirm
        with db.engine.connect() as conn:
            return conn.execute(select(Base.common.outbox.c.sent_at).where(
                Base.common.outbox.c.event_id == body["event_id"])).scalar_one()
    assert wait_for(sent_at, timeout=10, message="the relay's commit of sent_at") is not None
    # the complainant is told; only a closing role may close
    r = system["officer"].post(f"/complaints/{c['id']}/reply", {"form": "phone", "summary": "已电话告知"})
    assert r.status_code == 200
    assert system["clerk_api"].post(f"/complaints/{c['id']}/close").status_code == 403
    r = system["officer"].post(f"/complaints/{c['id']}/close")
    assert r.status_code == 200 and r.json()["state"] == "closed"


def _publish_rating(amqp, body):
    exchange = Exchange("cases.events", type="topic", durable=True)
    with Connection(amqp) as conn:
        conn.Producer().publish(body, exchange=exchange, routing_key="rating_submitted",
                                declare=[exchange], serializer="json")


def test_low_rating_delivered_twice_opens_one_follow_up(system):
    township = system["a"]["township"]["id"]
    body = events.build("cases.rating_submitted", township, CLOCK.now(), case_id="case-low-1",
                        receipt_no="QS20250303-0001", rating=1, handler_person_id=system["clerk"]["id"],
                        window_id=system["window"]["id"])
    _publish_rating(system["amqp"], body)
    _publish_rating(system["amqp"], body)
    high = events.build("cases.rating_submitted", township, CLOCK.now(), case_id="case-high-1",
                        receipt_no="QS20250303-0002", rating=5, handler_person_id=system["clerk"]["id"])
    _publish_rating(system["amqp"], high)
    import requests
    from tests.support.runtime import http_port

    port = http_port(system["containers"]["complaints"])
    wait_for(lambda: 'events_duplicate_total{event_type="cases.rating_submitted",service="complaints"} 1.0'
             in requests.get(f"http://127.0.0.1:{port}/metrics").text and
             'events_handled_total{event_type="cases.rating_submitted",service="complaints"} 2.0'
             in requests.get(f"http://127.0.0.1:{port}/metrics").text,
             timeout=15, message="both deliveries and the high rating handled")
    listed = system["officer"].get("/follow-ups").json()
    assert [f["case_id"] for f in listed] == ["case-low-1"]
    fid = listed[0]["id"]
    assert system["officer"].post(f"/follow-ups/{fid}/rectification", {"rectification": "x"}).status_code == 409
    assert system["officer"].post(f"/follow-ups/{fid}/callback", {"note": "已回访"}).status_code == 200
    r = system["officer"].post(f"/follow-ups/{fid}/rectification", {"rectification": "窗口整改"})
    assert r.status_code == 200 and r.json()["state"] == "closed"


def test_overdue_exactly_once_with_a_moved_clock(system):
    c = complaint(system)  # simple: due by the next working day
    container = system["containers"]["complaints"]
    db = database_of(container)

    def overdue_events():
        with db.engine.connect() as conn:
            rows = conn.execute(select(Base.common.outbox.c.payload).where(
                Base.common.outbox.c.event_type == "complaints.overdue")).scalars().all()
        return [p for p in rows if p["item_id"] == c["id"]]

    with entrypoint_hook(container, "sweep_overdue") as sweep:
        sweep()
        assert overdue_events() == []
        CLOCK.move(days=12)
        try:
            sweep()
            sweep()
        finally:
            CLOCK.move(days=-12)
    assert len(overdue_events()) == 1
    assert system["officer"].get(f"/complaints/{c['id']}").json()["overdue"] is True
    with db.unit_of_work() as uow:
        row = uow.session.get(Complaint, c["id"])
        assert row.overdue_at is not None


def test_public_submission_and_anonymised_outcomes(system):
    code = system["a"]["township"]["code"]
    api = system["api"]
    verified = complaint(system)
    system["officer"].post(f"/complaints/{verified['id']}/outcome", {"outcome": "verified", "finding": "属实"})
    r = api.post(f"/public/townships/{code}/complaints", {
        "complainant": {"name": "钱多多", "phone": "13700001111"},
        "target_window_id": system["window"]["id"], "content": "钱多多：窗口无人", "category": "discipline"})
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"number", "due_on", "received_at"}
    listed = system["officer"].get("/complaints?kind=complaint").json()
    mine = [x for x in listed if x["number"] == r.json()["number"]]
    assert mine and mine[0]["channel"] == "online"
    r = api.post(f"/public/townships/{code}/complaints", {"complainant": {"name": "x"}, "content": "y"})
    assert r.status_code == 422 and "complainant" in r.json()["details"]
    out = api.get(f"/public/townships/{code}/complaints/outcomes")
    assert out.status_code == 200
    body = out.json()
    assert body["months"] and body["months"][-1]["received"] >= 1
    assert any(o["outcome"] == "verified" and o["window"]["name"] == "民政窗口" for o in body["outcomes"])
    for secret in PERSONAL + ("钱多多", "13700001111"):
        assert secret not in out.text
    assert api.get("/public/townships/no-such/complaints/outcomes").status_code == 404


def test_online_complaints_from_one_address_are_throttled(system):
    """The one write open without a token: after ``public_submissions_per_hour`` (a setting) from
    one client address, 429 — counted in complaints' database, shared by every gateway."""
    town = system["b"]["township"]["code"]  # a township of its own: a fresh count
    boss_b, api = system["other_boss"], system["api"]
    assert boss_b.patch("/settings/complaints", {"changes": {"public_submissions_per_hour": 2}}).status_code == 200
    window = boss_b.post("/windows", {"number": 1, "name": "民政窗口"}).json()
    body = {"complainant": {"name": "孙大爷", "phone": "13600002222"}, "target_window_id": window["id"],
            "content": "窗口午休时间无人", "category": "discipline"}
    first = api.post(f"/public/townships/{town}/complaints", body)
    assert first.status_code == 201, first.text
    statuses = [api.post(f"/public/townships/{town}/complaints", body).status_code for _ in range(2)]
    assert statuses == [201, 429]
    r = api.post(f"/public/townships/{town}/complaints", body)
    assert r.status_code == 429 and r.json()["error"] == "too_many_attempts"
    # an invalid submission is refused on its own merits and does not use the allowance elsewhere
    assert api.post(f"/public/townships/{system['a']['township']['code']}/complaints",
                    {"complainant": {"name": "x"}, "content": "y"}).status_code == 422
