"""The outbox relay: publishes committed events with publisher confirms, then marks them sent.

A state change and its event are written in one transaction (``UnitOfWork.emit``); this relay
runs beside each service instance and moves unsent rows to the broker:

* rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL), so several
  instances of a service never publish the same row at the same time;
* each message goes out persistent, with publisher confirms, to the nameko event exchange
  ``<service>.events`` with the routing key ``<fact>``; only a confirmed publish is marked sent;
* if the broker is unreachable the rows stay unsent and the relay retries with back-off:
  a crash or a cut connection loses nothing (delivery is at least once; handlers are
  idempotent).
"""
from __future__ import annotations

import logging
import time
from functools import lru_cache

import eventlet
from eventlet.event import Event
from amqp.exceptions import MessageNacked
from kombu import Connection
from nameko.constants import PERSISTENT
from nameko.standalone.events import get_event_exchange
from sqlalchemy import bindparam, func, select

from .events import routing

log = logging.getLogger(__name__)

BATCH = 100
CONFIRM_TIMEOUT = 10.0  # seconds a batch waits for its publisher confirms


class OutboxRelay:
    def __init__(self, db):
        self.db = db
        self.container = db.container
        self.config = db.container.config
        self.interval = float(self.config.get("OUTBOX_POLL_INTERVAL", 0.5))
        # a woken relay waits this long so that concurrent commits share a batch: one claim and
        # one round of confirms for several events (issue 9: 5 % of the CPU per application at
        # 10 clients); an event leaves at most this much later
        self.linger = float(self.config.get("OUTBOX_LINGER", 0.005))
        self._wake = Event()
        self._running = False
        self._gt = None
        self._conn = None
        self._confirmed, self._nacked, self._tag = set(), False, 0  # this channel's confirms
        self.published = 0
        self.failures = 0

    # -- lifecycle -------------------------------------------------------
    def start(self):
        self._running = True
        self._gt = eventlet.spawn(self._loop)

    def stop(self, grace: float = 3.0):
        """Finish the batch in hand and publish what the last workers committed (the
        container stops this after its workers are done), then stop; killed after ``grace``
        seconds (an unreachable broker): unsent rows wait in the outbox for the next start."""
        self._running = False
        self.wake()
        if self._gt is not None:
            with eventlet.Timeout(grace, False):
                self._gt.wait()
            self._gt.kill()
            self._gt = None
        self._close()

    def wake(self):
        if not self._wake.ready():
            self._wake.send(True)

    # -- work ------------------------------------------------------------
    def _loop(self):
        backoff = self.interval
        while True:
            stopping = not self._running  # one last pass after stop(): what was just committed
            try:
                sent = self.publish_pending()
                backoff = self.interval
                if sent >= BATCH:
                    continue  # a full batch: there may be more
                # a partial batch took every committed row; what commits meanwhile wakes the
                # relay (it needs no empty claim to find that out: issue 9)
                if stopping:
                    return
            except Exception as exc:  # broker or database unreachable: keep the rows, retry
                self.failures += 1
                self._close()
                if stopping:  # the rows wait for the next start
                    log.warning("outbox relay: %s while stopping: unsent rows wait for the next start", type(exc).__name__)
                    return
                log.warning("outbox relay: %s: %s (retrying in %.1fs)", type(exc).__name__, exc, backoff)
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            woken = False
            with eventlet.Timeout(self.interval, False):
                woken = self._wake.wait()
            if woken and self.linger > 0:
                eventlet.sleep(self.linger)  # let the commits of concurrent workers join the batch
            # reset before the claim: a commit woken before it is in the claim, one after it
            # wakes the next pass
            self._wake = Event()

    def backlog(self) -> int:
        outbox = self.db.base.common.outbox
        with self.db.engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
            ).scalar_one()

    def publish_pending(self) -> int:
        """Publish one batch of unsent rows; return how many were sent.

        The rows are claimed and marked sent in one statement on PostgreSQL (``UPDATE …
        RETURNING`` over ``FOR UPDATE SKIP LOCKED``), published back to back, and the batch's
        publisher confirms awaited together; only then does the transaction commit. A failure
        anywhere rolls the marks back: the rows stay unsent and go again (at least once)."""
        outbox = self.db.base.common.outbox
        postgres = self.db.engine.dialect.name == "postgresql"
        session = self.db.sessionmaker()
        try:
            now = self.db.clock.now()
            if postgres:
                rows = sorted(session.execute(_claim_and_mark(outbox), {"now": now}).mappings().all(),
                              key=lambda r: r["id"])
            else:
                rows = session.execute(_pending(outbox)).mappings().all()
            if not rows:
                session.rollback()
                return 0
            producer = self._producer()
            first_tag = self._tag
            for row in rows:
                source, fact = routing(row["event_type"])
                exchange = get_event_exchange(source, self.config)
                headers = {}
                if row["call_id"]:
                    headers["nameko.call_id_stack"] = [row["call_id"]]
                producer.publish(
                    row["payload"],
                    exchange=exchange,
                    routing_key=fact,
                    serializer="json",
                    delivery_mode=PERSISTENT,
                    headers=headers,
                    declare=[exchange],
                    mandatory=False,
                    retry=False,
                )
                self._tag += 1
            self._await_confirms(first_tag, self._tag)
            if not postgres:
                session.execute(_mark_sent(outbox), {"ids": [r["id"] for r in rows], "now": now})
            session.commit()
            self.published += len(rows)
            return len(rows)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _producer(self):
        if self._conn is None:
            conn = Connection(self.config["AMQP_URI"], connect_timeout=5)
            conn.ensure_connection(max_retries=1)
            channel = conn.default_channel
            channel.confirm_select()  # publisher confirms, awaited per batch (_await_confirms)
            self._confirmed, self._nacked, self._tag = set(), False, 0
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            self._conn = conn
            self._prod = conn.Producer(channel)
        return self._prod

    def _on_ack(self, delivery_tag, multiple):
        self._confirmed.add((delivery_tag, multiple))

    def _on_nack(self, delivery_tag, multiple):
        self._nacked = True

    def _await_confirms(self, after: int, last: int) -> None:
        """Wait until the broker confirmed delivery tags ``after+1 … last`` (an ack may cover
        several: ``multiple``); a nack or CONFIRM_TIMEOUT seconds without them raise."""
        waiting = set(range(after + 1, last + 1))
        deadline = time.monotonic() + CONFIRM_TIMEOUT
        while True:
            for tag, multiple in self._confirmed:
                if multiple:
                    waiting = {t for t in waiting if t > tag}
                else:
                    waiting.discard(tag)
            self._confirmed.clear()
            if self._nacked:
                raise MessageNacked("the broker refused an event (nack): the batch stays unsent")
            if not waiting:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no publisher confirm for {len(waiting)} events in {CONFIRM_TIMEOUT} s")
            self._conn.drain_events(timeout=remaining)

    def _close(self):
        if self._conn is not None:
            try:
                self._conn.release()
            except Exception:  # already broken
                pass
            self._conn = None


@lru_cache(maxsize=None)
def _pending(outbox):
    """The next batch of unsent rows (a database without ``SKIP LOCKED``: one relay at a time);
    built once per table (issue 9)."""
    return select(outbox).where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id).limit(BATCH)


@lru_cache(maxsize=None)
def _claim_and_mark(outbox):
    """PostgreSQL: the next batch claimed (``FOR UPDATE SKIP LOCKED``: several instances never
    publish the same row at once) and marked sent in one statement, returned; the mark commits
    only once the batch is confirmed."""
    batch = (select(outbox.c.id).where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id).limit(BATCH)
             .with_for_update(skip_locked=True).scalar_subquery())
    return outbox.update().where(outbox.c.id.in_(batch)).values(sent_at=bindparam("now")).returning(*outbox.c)


@lru_cache(maxsize=None)
def _mark_sent(outbox):
    return outbox.update().where(outbox.c.id.in_(bindparam("ids", expanding=True))).values(sent_at=bindparam("now"))


def drain(db, timeout: float = 10.0) -> None:
    """Test and seed helper: publish everything pending now (raises if it cannot)."""
    deadline = time.monotonic() + timeout
    while db.relay.publish_pending():
        if time.monotonic() > deadline:
            raise TimeoutError("outbox did not drain")
