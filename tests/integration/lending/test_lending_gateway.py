"""Lending through the gateway on the real broker and PostgreSQL (staff, lending, gateway
in-process with a movable clock): L1 items by the director, L2 a loan and the 409 of a second
one, lending.item_lent on the broker, L5 a handover that does not reconcile is refused, L4
overdue exactly once with a moved clock, L6 the CSV register, and the items-lent gauge."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests
from kombu import Connection, Exchange, Queue
from nameko.testing.services import entrypoint_hook
from sqlalchemy import select

from services.common.clock import DEFAULT_TZ, FrozenClock, local_date
from services.lending.models import Base
from tests.support.runtime import database_of, http_port
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration

CLOCK = FrozenClock(datetime.now(timezone.utc).replace(microsecond=0))
BORROWER = {"borrower_name": "张三", "registered_resident": True, "id_type": "resident_id_card",
            "id_number": "110101199003071234", "phone": "13812345678", "address": "柳溪村3组",
            "purpose": "搬运化肥", "signature": "张三", "conditions_acknowledged": True}


@pytest.fixture(scope="module")
def system(broker, module_database):
    with running_services(broker.uri, module_database, ["staff", "lending", "gateway"], clock=CLOCK) as containers:
        api = gateway_api(containers["gateway"])
        op = api.as_(operator_token(broker.uri))
        town, other_town = Township(api, op, "lend-a", "甲镇"), Township(api, op, "lend-b", "乙镇")
        b, boss, person = other_town.record, town.boss, town.person
        g1, guard1 = person("罗二虎", ["guard"])
        g2, guard2 = person("邓长林", ["guard"])
        _, clerk = person("王晓燕", ["clerk"])
        items = {}
        for n in (1, 2):
            r = boss.post("/lending/items", {"kind": "cart", "label": f"便民服务车{n}号", "replacement_value_cents": 30000})
            assert r.status_code == 201, r.text
            items[n] = r.json()
        yield {"api": api, "boss": boss, "guard1": guard1, "guard2": guard2, "g1": g1, "g2": g2,
               "clerk": clerk, "items": items, "other_boss": api.as_(b["director_token"]),
               "containers": containers, "amqp": broker.uri}


def test_roles_and_item_rules(system):
    r = system["guard1"].post("/lending/items", {"kind": "umbrella", "label": "雨伞1", "replacement_value_cents": 3000})
    assert r.status_code == 403
    cart = system["items"][1]
    assert cart["eligibility"] == "registered_resident" and cart["max_load_kg"] == 25
    assert system["clerk"].post(f"/lending/items/{cart['id']}/loans", BORROWER).status_code == 403
    r = system["boss"].post("/lending/items", {"kind": "cart", "label": "便民服务车1号", "replacement_value_cents": 1})
    assert r.status_code == 409


def test_an_item_cannot_be_lent_twice_and_the_other_posts_are_told(system):
    exchange = Exchange("lending.events", type="topic", durable=True)
    queue = Queue("test-item-lent", exchange=exchange, routing_key="item_lent", auto_delete=False)
    cart = system["items"][1]
    with Connection(system["amqp"]) as conn:
        queue(conn.channel()).declare()
        r = system["guard1"].post(f"/lending/items/{cart['id']}/loans", BORROWER)
        assert r.status_code == 201, r.text
        loan = r.json()
        assert loan["id_number"] == "110***********1234"
        r = system["guard2"].post(f"/lending/items/{cart['id']}/loans", dict(BORROWER, borrower_name="李四"))
        assert r.status_code == 409 and r.json()["error"] == "conflict"
        simple = conn.SimpleQueue(queue)
        msg = simple.get(timeout=10)
        event = msg.payload
        msg.ack()
        simple.close()
    assert event["loan_id"] == loan["id"] and event["item_name"] == "便民服务车1号"
    assert "13812345678" not in repr(event) and "张三" not in repr(event)
    r = system["guard1"].post(f"/lending/items/{system['items'][2]['id']}/loans",
                              dict(BORROWER, registered_resident=False))
    assert r.status_code == 422 and "registered_resident" in r.json()["details"]
    assert system["other_boss"].get(f"/lending/loans/{loan['id']}").status_code == 404
    # the director sees the phone masked, the guard in full
    assert system["boss"].get(f"/lending/loans/{loan['id']}").json()["phone"] == "138****5678"
    assert system["guard2"].get(f"/lending/loans/{loan['id']}").json()["phone"] == "13812345678"
    port = http_port(system["containers"]["lending"])
    metrics = requests.get(f"http://127.0.0.1:{port}/metrics").text
    assert "lending_items_lent{township_id=" in metrics


def test_handover_that_does_not_reconcile_is_refused(system):
    c1, c2 = system["items"][1], system["items"][2]
    ledger = system["guard1"].get("/lending/ledger").json()
    assert [x["item_id"] for x in ledger["lent"]] == [c1["id"]]
    r = system["guard1"].post("/lending/handovers", {"to_person_id": system["g2"]["id"],
                                                     "in_stock": [c1["id"], c2["id"]], "lent": []})
    assert r.status_code == 422
    assert r.json()["details"] == {"in_stock": ["便民服务车1号: stated in stock but lent to 张三 by the ledger"]}
    assert system["guard1"].get("/lending/handovers").json() == []
    r = system["guard1"].post("/lending/handovers", {
        "to_person_id": system["g2"]["id"], "in_stock": [c2["id"]],
        "lent": [{"item_id": c1["id"], "borrower_name": "张三"}]})
    assert r.status_code == 201, r.text


def test_overdue_exactly_once_with_a_moved_clock(system):
    container = system["containers"]["lending"]
    db = database_of(container)

    def overdue_events():
        with db.engine.connect() as conn:
            return conn.execute(select(Base.common.outbox.c.payload).where(
                Base.common.outbox.c.event_type == "lending.loan_overdue")).scalars().all()

    # past the end of the loan's due day (L1: lent after closing or on a closed day, that is the
    # next working day, so the move depends on today)
    [out] = system["guard2"].get("/lending/loans?state=out").json()
    due_day = local_date(datetime.fromisoformat(out["due_at"]), DEFAULT_TZ)
    past = datetime.combine(due_day + timedelta(days=1), datetime.min.time(), ZoneInfo(DEFAULT_TZ)) \
        + timedelta(hours=1) - CLOCK.now()
    with entrypoint_hook(container, "sweep_overdue") as sweep:
        sweep()
        assert overdue_events() == []
        CLOCK.move(seconds=past.total_seconds())
        try:
            sweep()
            sweep()
        finally:
            CLOCK.move(seconds=-past.total_seconds())
    assert len(overdue_events()) == 1
    reminders = system["guard2"].get("/lending/reminders").json()
    assert len(reminders) == 1 and reminders[0]["assigned_person_id"] == system["g2"]["id"]
    overdue = system["guard2"].get("/lending/loans?state=overdue").json()
    assert len(overdue) == 1 and overdue[0]["overdue"]
    r = system["guard2"].post(f"/lending/reminders/{reminders[0]['id']}/done", {"note": "已电话联系"})
    assert r.status_code == 200 and r.json()["state"] == "done"
    r = system["guard2"].post(f"/lending/loans/{overdue[0]['id']}/return", {"condition": "damaged", "cause": "borrower",
                                                                             "note": "车轮损坏"})
    assert r.status_code == 200 and r.json()["compensation"]["amount_cents"] == 30000


def test_register_exports_as_csv_with_bom(system):
    today = local_date(CLOCK.now(), DEFAULT_TZ)
    frm, to = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()
    r = system["guard1"].get(f"/lending/register.csv?from={frm}&to={to}")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.content.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["序号", "物品", "编号", "借用人"]
    assert len(rows) == 2 and rows[1][2] == "便民服务车1号" and rows[1][13].startswith("损坏（人为")
    assert "载重不超过25公斤" in rows[1][11]  # L1: the conditions the borrower acknowledged
    # the guards who lent it and took it back, by name (asked of staff), not by id
    assert rows[0][14:16] == ["借出经手人", "收回经手人"] and {rows[1][14], rows[1][15]} <= {"罗二虎", "邓长林"}
    assert "110101199003071234" not in r.text
    r = system["guard1"].get("/lending/register.csv?from=2025-13-01&to=x")
    assert r.status_code == 422 and {"from", "to"} <= set(r.json()["details"])
