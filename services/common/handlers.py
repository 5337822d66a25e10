"""Reliable, idempotent event handling with a dead-letter queue.

``reliable_handler(source, fact)`` is nameko's ``event_handler`` (a service-pool queue,
durable) with at-least-once semantics and a bounded number of attempts:

* success → ack;
* failure → the message is republished to its own queue with ``x-attempts`` + 1, then acked
  (classic queues do not count redeliveries, so we count them ourselves);
* the ``EVENT_MAX_ATTEMPTS``-th failure → the message goes to ``<queue>.dlq`` with the last
  error in its headers, is counted in ``/metrics`` (``dead_letters_total``), and can be
  replayed with ``python -m services.common.dlq replay <queue>``;
* if the broker cannot take the republish, the original is requeued instead: nothing is
  lost.

Idempotency is the handler's own transaction: ``uow.first_time(event, handler)`` records the
event id with the effect (see ``db.UnitOfWork``).
"""
from __future__ import annotations

import logging
import traceback

from kombu import Connection
from kombu.pools import producers
from nameko.events import EventHandler

from . import config as cfg
from .dlq import ATTEMPTS_HEADER, dead_letter_queue  # noqa: F401  (re-exported)
from .metrics import find_metrics

log = logging.getLogger(__name__)

class ReliableEventHandler(EventHandler):
    def __init__(self, source_service, event_type, **kwargs):
        kwargs.setdefault("reliable_delivery", True)
        kwargs["requeue_on_error"] = False
        super().__init__(source_service, event_type, **kwargs)

    def setup(self):
        super().setup()
        self.max_attempts = int(self.container.config.get("EVENT_MAX_ATTEMPTS", cfg.max_attempts()))
        self.dlq = dead_letter_queue(self.queue.name)
        self._connection = Connection(self.container.config["AMQP_URI"])

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return
        headers = dict(message.headers or {})
        attempts = int(headers.get(ATTEMPTS_HEADER, 1))
        error = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
        try:
            if attempts < self.max_attempts:
                headers[ATTEMPTS_HEADER] = attempts + 1
                self._publish(message, headers, self.queue.name, declare=[])
                log.warning(
                    "handler %s failed (attempt %s of %s): %s",
                    self.method_name, attempts, self.max_attempts, error,
                )
            else:
                headers["x-last-error"] = error[:1000]
                headers["x-original-queue"] = self.queue.name
                self._publish(message, headers, self.dlq.name, declare=[self.dlq])
                log.error(
                    "handler %s failed %s times, dead-lettered to %s: %s",
                    self.method_name, attempts, self.dlq.name, error,
                )
                metrics = find_metrics(self.container)
                if metrics is not None:
                    metrics.dead_lettered(self.queue.name)
        except Exception:
            log.exception("could not republish a failed message; requeueing it")
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)

    def _publish(self, message, headers, queue_name, declare):
        with producers[self._connection].acquire(block=True, timeout=10) as producer:
            producer.publish(
                message.body,
                exchange="",
                routing_key=queue_name,
                headers=headers,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                delivery_mode=2,
                declare=declare,
                retry=True,
                retry_policy={"max_retries": 3},
            )


reliable_handler = ReliableEventHandler.decorator


def handle_once(service, event_type: str, body, effect, handler: str | None = None, record: bool = True):
    """Parse, then apply ``effect(uow, event)`` exactly once per event id.

    The processed-event record and the effect share one transaction; a duplicate delivery
    is acked without effect. Counted in ``events_handled_total`` / ``events_duplicate_total``.
    ``record=False``: the effect is idempotent by itself — a conditional write that a second
    delivery (or an older event) leaves as it is, such as intake's copy of a case's state
    ordered by the transition's ``seq`` — so no record is written (one INSERT less for each of
    the two transitions of every application; issue 9); every delivery counts as handled.
    """
    from . import events
    from .db import NATIONAL

    event = events.parse(event_type, body)
    township_id = None if event["township_id"] == NATIONAL else event["township_id"]
    result = None
    with service.db(township_id) as uow:
        first = uow.first_time(event, handler or f"{service.name}:{event_type}") if record else True
        if first:
            result = effect(uow, event)
    service.metrics.handled(event_type, first)
    return result


class CalendarFollower:
    """Mixin: keep this service's copy of the calendar overrides in step with staff's.

    A service that must react (e.g. recompute deadlines) overrides ``calendar_changed``, which
    runs in the same transaction, after the copy is updated."""

    def calendar_changed(self, uow, event) -> None:
        """Hook: the calendar copy has just changed (same transaction)."""

    @reliable_handler("staff", "calendar_changed")
    def on_calendar_changed(self, body):
        from .calendar import apply_calendar_change

        def effect(uow, event):
            apply_calendar_change(uow.session, uow.common, event, uow.now())
            uow.session.flush()
            self.calendar_changed(uow, event)

        handle_once(self, "staff.calendar_changed", body, effect)


class TownshipTimezoneFollower:
    """Mixin for a service whose rules have a ``timezone`` setting: it takes the township's time
    zone from staff's record of the township (DOMAIN "Time": local rules in the township's zone),
    so a director does not have to set it again in every service."""

    @reliable_handler("staff", "organisation_changed")
    def on_township_changed(self, body):
        def effect(uow, event):
            zone = (event.get("data") or {}).get("timezone")
            if event["entity"] == "township" and zone and "timezone" in self.rules.rules:
                self.rules.update(uow, {"timezone": zone})

        handle_once(self, "staff.organisation_changed", body, effect, handler=f"{self.name}:township_timezone")
