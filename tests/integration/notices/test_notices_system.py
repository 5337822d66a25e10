"""N1 through the gateway on the real broker and PostgreSQL: staff, lending, two instances of
notices and the gateway in-process on one movable clock.

* Must show 1 — for each N1 rule the event goes in on the broker (published as its source
  service publishes it; L2 also from a real loan through lending) and the right people's inboxes
  show it through ``GET /me/notices``; nobody else's, another township's people never.
* Must show 2 — notices not acknowledged within the period: one escalation each to the director
  (the director's own to the deputy director), with two notices instances sweeping.
* Must show 3 — the township's webhook receiver is down for a while: deliveries are retried with
  backoff and arrive later, each once, signed with the township's secret.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from nameko.standalone.events import event_dispatcher
from sqlalchemy import select

from services.common import events
from services.common.clock import FrozenClock
from services.notices.models import Delivery, Notice, PersonCopy
from services.run import service_class
from tests.support.runtime import database_of, running, service_config, wait_for
from tests.support.system import Township, gateway_api, migrated, operator_token, running_services
from tests.unit.notices.test_notices import TABLE

pytestmark = pytest.mark.integration

# a Wednesday, 10:00 in Shanghai
CLOCK = FrozenClock(datetime(2026, 3, 4, 2, 0, tzinfo=timezone.utc))
ROLES = {"dep": ["deputy_director"], "clerk_a": ["clerk"], "clerk_b": ["clerk"], "officer": ["complaint_officer"],
         "guard1": ["guard"], "guard2": ["guard"], "secmgr": ["security_manager"], "agent": ["village_agent"]}


@pytest.fixture(scope="module")
def system(broker, module_database):
    notices_url = migrated(module_database, "notices")
    conf = service_config("notices", broker.uri, notices_url, SWEEP_INTERVAL=0.2)
    with running_services(broker.uri, module_database, ["staff", "lending", "gateway"], clock=CLOCK) as containers, \
            running(service_class("notices"), conf, clock=CLOCK) as one, \
            running(service_class("notices"), dict(conf, INSTANCE="two"), clock=CLOCK):
        api = gateway_api(containers["gateway"])
        op = api.as_(operator_token(broker.uri))
        towns = {}
        for code in ("ntc-a", "ntc-b"):
            town = Township(api, op, code)
            people = {"dir": ({"id": town.record["director"]["id"]}, town.boss)}
            for key, roles in ROLES.items():
                people[key] = town.person(f"{code}-{key}", roles, home_unit="县民政局")
            towns[code] = (town, people)
        db = database_of(one)
        ids = {p["id"] for _, people in towns.values() for p, _ in people.values()}

        def copied():
            with db.engine.connect() as conn:
                return ids <= set(conn.execute(select(PersonCopy.id)).scalars())

        wait_for(copied, timeout=30, message="notices to copy the organisation")
        yield {"api": api, "towns": towns, "db": db, "amqp": broker.uri, "lending": containers["lending"]}


def ids_of(people):
    return {key: p["id"] for key, (p, _) in people.items()}


def replace_ids(value, ids):
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, list):
        return [replace_ids(v, ids) for v in value]
    return value


def inbox(client) -> list[dict]:
    r = client.get("/me/notices?per_page=100")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def count_notices(db) -> int:
    with db.engine.connect() as conn:
        return len(conn.execute(select(Notice.id)).all())


def test_each_rule_reaches_the_right_inboxes_through_the_gateway(system):
    """Must show 1."""
    town, people = system["towns"]["ntc-a"]
    ids = ids_of(people)
    b_clerk = system["towns"]["ntc-b"][1]["clerk_a"][0]["id"]
    dispatch = event_dispatcher({"AMQP_URI": system["amqp"]})
    expected: dict[str, Counter] = {key: Counter() for key in people}
    total = 0
    for n, (event_type, fields, to) in enumerate(TABLE):
        fields = {k: replace_ids(v, ids) for k, v in fields.items()}
        for key in ("case_id", "application_id", "complaint_id", "loan_id", "item_id", "collection_id"):
            if key in fields:
                fields[key] = f"{fields[key]}-{n}"  # each row its own subject
        body = events.build(event_type, town.id, CLOCK.now(), **fields)
        source, fact = events.routing(event_type)
        dispatch(source, fact, body)
        subject = next((fields[k] for k in ("case_id", "application_id", "complaint_id", "item_id", "loan_id",
                                            "person_id", "window_id", "week_start") if k in fields), None)
        for key, needs_ack in to.items():
            expected[key][(event_type, needs_ack)] += 1
            total += 1
    # a reminder naming a person of another township: told to nobody
    dispatch("cases", "case_reminder", events.build("cases.case_reminder", town.id, CLOCK.now(), case_id="x",
                                                    receipt_no="QS-X", holder_person_id=b_clerk,
                                                    due_date="2026-03-05"))
    wait_for(lambda: count_notices(system["db"]) >= total, timeout=30, message=f"{total} notices")
    for key, (_, client) in people.items():
        got = Counter((n["source_event"], n["needs_ack"]) for n in inbox(client))
        assert got == expected[key], key
    for key, (_, client) in system["towns"]["ntc-b"][1].items():
        assert inbox(client) == [], f"ntc-b {key} was told of ntc-a's events"
    assert count_notices(system["db"]) == total  # nothing more arrived (the foreign holder's reminder)

    # L2 from a real loan: lending publishes item_lent, the other posts are told
    _, guard1 = people["guard1"]
    boss = town.boss
    item = boss.post("/lending/items", {"kind": "umbrella", "label": "爱心雨伞01", "replacement_value_cents": 3500})
    assert item.status_code == 201, item.text
    loan = guard1.post(f"/lending/items/{item.json()['id']}/loans", {
        "borrower_name": "张三", "id_type": "resident_id_card", "id_number": "430123195811020027",
        "phone": "13907310011", "address": "青山镇柳溪村", "purpose": "避雨", "signature": "张三"})
    assert loan.status_code == 201, loan.text
    wait_for(lambda: any("爱心雨伞01" in n["title"] for n in inbox(people["guard2"][1])), timeout=20,
             message="the other guard to be told of the loan")
    told = [n for n in inbox(people["secmgr"][1]) if "爱心雨伞01" in n["title"]]
    assert len(told) == 1 and told[0]["rule"] == "L2"
    assert not any("爱心雨伞01" in n["title"] for n in inbox(guard1))  # the lender knows
    for n in told:
        assert "张三" not in n["body"] and "13907310011" not in n["body"]  # no borrower data

    # read and acknowledge on record
    mine = next(n for n in inbox(people["clerk_b"][1]) if n["rule"] == "C5")
    assert mine["needs_ack"] and mine["read_at"] is None
    r = people["clerk_b"][1].post(f"/me/notices/{mine['id']}/ack", {"note": "在办"})
    assert r.status_code == 200 and r.json()["acked_at"], r.text
    assert people["clerk_a"][1].post(f"/me/notices/{mine['id']}/read").status_code == 404  # not theirs
    info = next(n for n in inbox(people["secmgr"][1]) if not n["needs_ack"])
    assert people["secmgr"][1].post(f"/me/notices/{info['id']}/ack", {}).status_code == 409
    assert people["secmgr"][1].post(f"/me/notices/{info['id']}/read").json()["read_at"]
    page = people["secmgr"][1].get("/me/notices?per_page=1").json()
    assert page["items"][0]["read_at"] is None and page["total"] >= 2  # unread first


def test_unacknowledged_past_the_period_is_escalated_once_by_two_instances(system):
    """Must show 2."""
    town, people = system["towns"]["ntc-a"]
    db = system["db"]
    with db.engine.connect() as conn:
        waiting = conn.execute(select(Notice.id, Notice.person_id).where(
            Notice.township_id == town.id, Notice.needs_ack.is_(True), Notice.acked_at.is_(None),
            Notice.escalation_of == "")).all()
    assert waiting
    boss = town.boss
    assert boss.get("/notices/pending?overdue=true").json() == []
    CLOCK.move(days=2)  # Friday: past the close of Thursday
    director, deputy = ids_of(people)["dir"], ids_of(people)["dep"]
    # N1: to the director; the director's own notices (C7, I5, P3, S6) to the deputy director
    to = {i: deputy if p == director else director for i, p in waiting}
    others = {i for i, p in waiting if p != director}
    assert others and len(others) < len(waiting)

    def escalated():
        with db.engine.connect() as conn:
            return len(conn.execute(select(Notice.id).where(Notice.escalation_of != "")).all()) >= len(waiting)

    wait_for(escalated, timeout=20, message="escalations")
    import eventlet

    eventlet.sleep(1.5)  # several more sweeps of both instances
    with db.engine.connect() as conn:
        rows = conn.execute(select(Notice.escalation_of, Notice.person_id).where(Notice.escalation_of != "")).all()
        marked = conn.execute(select(Notice.id).where(Notice.escalated_at.is_not(None))).scalars().all()
    assert Counter(e for e, _ in rows) == Counter({i: 1 for i, _ in waiting})  # once each, two instances
    assert dict(rows) == to
    assert set(marked) == {i for i, _ in waiting}
    overdue = boss.get("/notices/pending?overdue=true").json()
    assert {n["id"] for n in overdue} >= {i for i, _ in waiting}
    assert all(n["overdue"] and n["escalated_at"] for n in overdue if n["id"] in to)
    assert {n["id"]: [t["person_id"] for t in n["escalated_to"]] for n in overdue if n["id"] in to} == {
        i: [p] for i, p in to.items()}
    escalations = [n for n in inbox(boss) if n["escalation_of"]]
    assert sorted(n["escalation_of"] for n in escalations) == sorted(others)
    told = [n for n in inbox(people["dep"][1]) if n["escalation_of"]]
    assert sorted(n["escalation_of"] for n in told) == sorted(set(to) - others)
    other_town_boss = system["towns"]["ntc-b"][0].boss
    assert other_town_boss.get("/notices/pending").json() == [] and inbox(other_town_boss) == []


class Receiver(BaseHTTPRequestHandler):
    got: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.got.append((self.headers["X-Notice-Id"], self.headers["X-Notice-Signature"], body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_deliveries_wait_for_a_receiver_that_is_down_and_arrive_once(system):
    """Must show 3."""
    town, people = system["towns"]["ntc-a"]
    db = system["db"]
    port = free_port()
    r = town.boss.patch("/settings/notices", {"changes": {
        "webhook_url": f"http://127.0.0.1:{port}/hook", "webhook_secret": "s3cret", "webhook_retry_seconds": 1}})
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["webhook_secret"] == "***"  # never read back
    dispatch = event_dispatcher({"AMQP_URI": system["amqp"]})
    dispatch("staff", "week_published", events.build("staff.week_published", town.id, CLOCK.now(),
                                                     week_start="2026-02-23", objection_until="2026-03-06"))

    def deliveries():
        """This test's (the S2 notices'): staff's own sweeps on the moved clock may tell the
        directors something else meanwhile (e.g. the month's home-unit report), with a delivery too."""
        with db.engine.connect() as conn:
            return conn.execute(select(Delivery.notice_id, Delivery.state, Delivery.attempts)
                                .join(Notice, Notice.id == Delivery.notice_id)
                                .where(Notice.source_event == "staff.week_published")).all()

    wait_for(lambda: len(deliveries()) == len(people), timeout=20, message="a delivery per person")
    for _ in range(2):  # the receiver is down: attempts fail and are retried after the backoff
        before = min(a for _, _, a in deliveries())
        CLOCK.move(seconds=5)
        try:
            wait_for(lambda: min(a for _, _, a in deliveries()) > before, timeout=20, message="a retry")
        except AssertionError:
            with db.engine.connect() as conn:
                rows = conn.execute(select(Delivery.__table__, Notice.rule, Notice.person_id, Notice.township_id,
                                           Notice.escalation_of, Notice.created_at)
                                    .join(Notice, Notice.id == Delivery.notice_id)).all()
            raise AssertionError("\n".join(map(str, rows)) + f"\nclock {CLOCK.now()}")
    assert {s for _, s, _ in deliveries()} <= {"pending", "sending"}  # none delivered while it is down
    # the inbox copy is there all along
    assert all(any(n["rule"] == "S2" for n in inbox(client)) for _, client in people.values())
    pending = town.boss.get("/notices/pending").json()
    assert pending and all(isinstance(n["deliveries"], list) for n in pending)

    server = HTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        CLOCK.move(seconds=10)
        wait_for(lambda: {s for _, s, _ in deliveries()} == {"delivered"}, timeout=30, message="deliveries")
        import eventlet

        CLOCK.move(minutes=5)
        eventlet.sleep(1.5)  # more sweeps by both instances: nothing is sent again
    finally:
        server.shutdown()
        server.server_close()
    sent = Counter(i for i, _, _ in Receiver.got)
    assert set(sent) >= {i for i, _, _ in deliveries()} and set(sent.values()) == {1}  # each once
    assert all(a >= 3 for _, _, a in deliveries())
    for notice_id, sig, body in Receiver.got:
        assert sig == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert json.loads(body)["notice_id"] == notice_id


def test_a_local_holiday_moves_the_open_acknowledgement_deadlines(system):
    """Gap of issue 13: the N1 period counts working days, so a calendar change (staff's
    ``calendar_changed``) recomputes the open deadlines of that township only, by the timer in
    chunks, as cases does (services/common/recompute.py)."""
    town, people = system["towns"]["ntc-a"]
    other, other_people = system["towns"]["ntc-b"]
    dispatch = event_dispatcher({"AMQP_URI": system["amqp"]})
    clerks = [(town, people["clerk_a"]), (other, other_people["clerk_a"])]
    for t, (person, _) in clerks:
        dispatch("cases", "case_reminder", events.build("cases.case_reminder", t.id, CLOCK.now(), case_id="hol",
                                                        receipt_no="QS-HOL", holder_person_id=person["id"],
                                                        due_date="2026-03-20"))

    def reminder(client):
        return next((n for n in inbox(client) if n["subject_id"] == "hol"), None)

    before = [wait_for(lambda c=c: reminder(c), timeout=20, message="the reminder") for _, (_, c) in clerks]
    # local day of the clock, one working day on: the close of that day (a weekday: Mon to Fri)
    due = datetime.fromisoformat(before[0]["ack_due_at"])
    due_day = (due - timedelta(hours=1)).astimezone(timezone(timedelta(hours=8))).date()
    assert before[1]["ack_due_at"] == before[0]["ack_due_at"]
    r = town.boss.put("/calendar", {"days": [{"day": due_day.isoformat(), "working": False}]})
    assert r.status_code == 200, r.text
    wait_for(lambda: reminder(clerks[0][1][1])["ack_due_at"] != before[0]["ack_due_at"], timeout=20,
             message="the deadline to follow the holiday")
    after = datetime.fromisoformat(reminder(clerks[0][1][1])["ack_due_at"])
    assert after > due and after.astimezone(timezone(timedelta(hours=8))).time().hour == 0  # a later close
    assert reminder(clerks[1][1][1])["ack_due_at"] == before[1]["ack_due_at"]  # another township's: untouched
