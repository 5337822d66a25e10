"""The message-driven foundation against the real broker and PostgreSQL (issue 2).

- an event committed while the broker is unreachable is delivered once it is back;
- the same event delivered twice has one effect;
- a poison message lands in the dead-letter queue and shows in /metrics;
- two instances running the same timer sweep do each piece of work exactly once;
- another township's rows are invisible to a township-bound unit of work.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from kombu import Connection, Exchange
from nameko.testing.services import entrypoint_hook
from sqlalchemy import func, select

from services.common.outbox import drain
from tests.integration.foundation_services import (
    Copy, Effect, Note, SinkBase, SinkService, SourceBase, SourceService,
)
from tests.support.proxy import TcpProxy
from tests.support.runtime import database_of, http_port, running, service_config, wait_for

pytestmark = pytest.mark.integration

A = {"township_id": "township-a", "roles": ["clerk"]}


def _make_db(database, base, prefix):
    from sqlalchemy import create_engine

    url = database(prefix)
    engine = create_engine(url)
    base.metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def source_db(database):
    return _make_db(database, SourceBase, "src")


@pytest.fixture
def sink_db(database):
    return _make_db(database, SinkBase, "sink")


def _copies(container, township="township-a"):
    with database_of(container).unit_of_work(township) as uow:
        return sorted(c.text for c in uow.scalars(select(Copy)))


def test_event_committed_while_broker_unreachable_is_delivered_later(amqp_uri, source_db, sink_db):
    parts = urlsplit(amqp_uri)
    proxy = TcpProxy(parts.hostname, parts.port or 5672)
    proxied = amqp_uri.replace(f"{parts.hostname}:{parts.port or 5672}", f"127.0.0.1:{proxy.port}")
    try:
        with running(SinkService, service_config("fsink", amqp_uri, sink_db)) as sink, \
             running(SourceService, service_config("fsource", proxied, source_db)) as source:
            proxy.cut()
            # the command commits while the broker is unreachable for this service
            with entrypoint_hook(source, "write", context_data=A) as write:
                write("during the outage")
            relay = database_of(source).relay
            wait_for(lambda: relay.failures > 0, message="the relay to notice the outage")
            assert relay.backlog() == 1
            assert _copies(sink) == []
            proxy.restore()
            wait_for(lambda: _copies(sink) == ["during the outage"], timeout=20,
                     message="delivery after the broker came back")
            assert relay.backlog() == 0
    finally:
        proxy.close()


def test_same_event_delivered_twice_has_one_effect(amqp_uri, source_db, sink_db):
    with running(SinkService, service_config("fsink", amqp_uri, sink_db)) as sink, \
         running(SourceService, service_config("fsource", amqp_uri, source_db)) as source:
        with entrypoint_hook(source, "write", context_data=A) as write:
            write("once")
        wait_for(lambda: _copies(sink) == ["once"])
        # the relay publishes the very same outbox row again (at-least-once delivery)
        outbox = SourceBase.common.outbox
        db = database_of(source)
        with db.engine.begin() as conn:
            conn.execute(outbox.update().values(sent_at=None))
        drain(db)
        port = http_port(sink)
        wait_for(lambda: 'events_duplicate_total{event_type="fsource.note_written",service="fsink"} 1.0'
                 in requests.get(f"http://127.0.0.1:{port}/metrics").text,
                 message="the duplicate to be seen and skipped")
        assert _copies(sink) == ["once"]


def test_poison_message_goes_to_dead_letter_queue_and_metrics(amqp_uri, sink_db):
    with running(SinkService, service_config("fsink", amqp_uri, sink_db, EVENT_MAX_ATTEMPTS=3)) as sink:
        exchange = Exchange("fsource.events", type="topic", durable=True)
        with Connection(amqp_uri) as conn:
            conn.Producer().publish({"event_type": "fsource.note_written", "garbage": True},
                                    exchange=exchange, routing_key="note_written", declare=[exchange],
                                    serializer="json")
        port = http_port(sink)
        queue = "evt-fsource-note_written--fsink.on_note_written"

        def scraped():
            text = requests.get(f"http://127.0.0.1:{port}/metrics").text
            return (f'dead_letters_total{{queue="{queue}",service="fsink"}} 1.0' in text
                    and f'dead_letter_queue_depth{{queue="{queue}.dlq",service="fsink"}}' not in text
                    and f'dead_letter_queue_depth{{queue="{queue}",service="fsink"}} 1.0' in text) and text

        text = wait_for(scraped, timeout=15, message="the dead letter in /metrics")
        assert 'entrypoint_errors_total{entrypoint="on_note_written",error="ValidationError",service="fsink"} 3.0' in text
        with Connection(amqp_uri) as conn:
            msg = conn.SimpleQueue(queue + ".dlq").get(timeout=5)
            assert msg.payload == {"event_type": "fsource.note_written", "garbage": True}
            assert "ValidationError" in msg.headers["x-last-error"]
            msg.ack()
        assert _copies(sink) == []


def test_two_instances_of_a_timer_sweep_do_each_task_exactly_once(amqp_uri, sink_db):
    conf1 = service_config("fsink", amqp_uri, sink_db, INSTANCE="one", SWEEP_INTERVAL=0.05)
    conf2 = service_config("fsink", amqp_uri, sink_db, INSTANCE="two", SWEEP_INTERVAL=0.05)
    with running(SinkService, conf1) as one:
        with entrypoint_hook(one, "add_tasks") as add:
            add("township-a", 300)
        with running(SinkService, conf2):
            db = database_of(one)

            def done():
                with db.unit_of_work() as uow:
                    return uow.session.scalar(select(func.count()).select_from(Effect)) >= 300
            wait_for(done, timeout=30, message="all tasks swept")
    with db.engine.connect() as conn:
        rows = conn.execute(select(Effect.task_id, Effect.instance)).all()
    assert len(rows) == 300
    assert len({task for task, _ in rows}) == 300  # no task done twice
    assert {instance for _, instance in rows} == {"one", "two"}  # both really swept


def test_township_bound_unit_of_work_never_sees_another_township(amqp_uri, source_db):
    with running(SourceService, service_config("fsource", amqp_uri, source_db)) as source:
        with entrypoint_hook(source, "write", context_data=A) as write:
            note_a = write("of a")
        with entrypoint_hook(source, "write", context_data={"township_id": "township-b"}) as write:
            write("of b")
        with entrypoint_hook(source, "notes", context_data=A) as notes:
            assert notes() == ["of a"]
        db = database_of(source)
        from services.common.errors import NotFound

        with pytest.raises(NotFound):
            with db.unit_of_work("township-b") as uow:
                uow.get(Note, note_a)
        with pytest.raises(PermissionError):
            with db.unit_of_work("township-b") as uow:
                uow.session.add(Note(text="smuggled", township_id="township-a"))


def test_concurrent_duplicate_deliveries_are_skipped_without_an_error(database):
    """Two deliveries of one event at the same moment (two consumers): the second waits for the
    first's transaction and then records nothing — it neither fails nor applies the effect."""
    import eventlet

    from services.common.clock import SystemClock
    from tests.support.units import UnitsOfWork

    units = UnitsOfWork(SinkBase, "fsink", SystemClock(), url=_make_db(database, SinkBase, "dup"))
    event = {"event_id": "e" * 32, "township_id": "township-a"}
    results = []

    def deliver():
        with units("township-a") as uow:
            first = uow.first_time(event, "fsink:test")
            if first:
                uow.session.add(Copy(note_id="n", text="once"))
            eventlet.sleep(0.2)  # hold the transaction open while the other arrives
        results.append(first)

    pool = eventlet.GreenPool()
    for _ in range(2):
        pool.spawn(deliver)
    pool.waitall()
    assert sorted(results) == [False, True]
    with units("township-a") as uow:
        assert [c.text for c in uow.scalars(select(Copy))] == ["once"]


def test_dead_letters_can_be_replayed_to_their_queue(amqp_uri):
    """`python -m services.common.dlq replay QUEUE` moves dead letters back with a fresh count."""
    from kombu import Queue

    from services.common.dlq import depth, replay
    from services.common.handlers import ATTEMPTS_HEADER

    queue = "evt-test-replay--svc.handler"
    with Connection(amqp_uri) as conn:
        Queue(queue, durable=True)(conn.default_channel).declare()
        Queue(queue + ".dlq", durable=True)(conn.default_channel).declare()
        for i in range(3):
            conn.Producer().publish({"n": i}, exchange="", routing_key=queue + ".dlq", serializer="json",
                                    headers={ATTEMPTS_HEADER: 5, "x-last-error": "boom"})
        assert wait_for(lambda: depth(conn, queue) == 3)
    assert replay(amqp_uri, queue) == 3
    with Connection(amqp_uri) as conn:
        assert depth(conn, queue) == 0
        bound = Queue(queue, durable=True)(conn.default_channel)
        got = [bound.get(no_ack=False) for _ in range(3)]
        assert sorted(m.payload["n"] for m in got) == [0, 1, 2]
        assert all(m.headers[ATTEMPTS_HEADER] == 1 and "x-last-error" not in m.headers for m in got)
        for m in got:
            m.ack()


def test_two_relays_on_one_outbox_publish_each_event_once(amqp_uri, source_db, sink_db):
    """Two instances of a service share its outbox: rows are claimed with SKIP LOCKED, so the
    sink sees every event exactly once (no duplicates to skip)."""
    with running(SinkService, service_config("fsink", amqp_uri, sink_db)) as sink, \
         running(SourceService, service_config("fsource", amqp_uri, source_db, OUTBOX_POLL_INTERVAL=0.05)) as one, \
         running(SourceService, service_config("fsource", amqp_uri, source_db, OUTBOX_POLL_INTERVAL=0.05)):
        # write straight into the shared outbox, as a burst of commits would
        db = database_of(one)
        for i in range(100):
            with db.unit_of_work("township-a") as uow:
                uow.session.add(Note(id=f"n{i:03d}", text=f"note {i}"))
                uow.emit("fsource.note_written", note_id=f"n{i:03d}", text=f"note {i}")
        def notes():  # (the module's earlier tests may have left other notes queued)
            return [t for t in _copies(sink) if t.startswith("note ")]
        wait_for(lambda: len(notes()) == 100, timeout=30, message="all 100 events delivered")
        assert sorted(notes()) == sorted(f"note {i}" for i in range(100))
        text = requests.get(f"http://127.0.0.1:{http_port(sink)}/metrics").text
        assert "events_duplicate_total{" not in text  # none published twice
