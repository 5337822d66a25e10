"""Outside channels (N1 "optionally pushed to an outside channel (SMS, messaging) through a
pluggable sender").

* A **sender** is anything with ``send(payload: dict, settings: dict) -> None`` that raises
  :class:`DeliveryFailed` (or any error) when the channel did not take the message.
  ``SENDERS`` maps a channel name to its sender; ``webhook`` is built in: an HTTP POST of the
  notice as JSON to the township's ``webhook_url``, signed with HMAC-SHA256 of the body under
  ``webhook_secret`` (header ``X-Notice-Signature: sha256=<hex>``), ``X-Notice-Id`` carrying the
  notice id for the receiver to drop a repeat.
* **Delivery status** is a row per notice and channel: pending → sending → delivered, or back to
  pending with the next attempt after ``webhook_retry_seconds`` × 2^(attempts−1) (at most an
  hour), or failed after ``webhook_max_attempts``; cancelled when the township removed its
  channel before it was delivered. The inbox copy is written before and never
  depends on it.
* The **sweep** (:func:`sweep_deliveries`) claims each due row (an atomic conditional UPDATE:
  two instances never send one attempt twice), sends with no transaction open, and records the
  outcome. A row left "sending" by a dead instance is retried once its lease has passed.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import timedelta

from sqlalchemy import and_, func, or_, select

from services.common import green
from services.common.db import claim

from .models import Delivery, Notice
from .rules import RULES

log = logging.getLogger(__name__)

BATCH = 100
TIMEOUT = 5.0  # seconds a channel has to answer one POST
LEASE = timedelta(seconds=60)  # a "sending" row older than this is retried
MAX_BACKOFF = 3600


class DeliveryFailed(Exception):
    """The channel did not take the message (refused, unreachable, not 2xx)."""


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    """POST the notice as JSON to the township's webhook (an SMS or messaging gateway)."""

    def send(self, payload: dict, settings: dict) -> None:
        import requests

        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Notice-Id": payload["notice_id"],
                   "X-Notice-Signature": signature(settings["webhook_secret"], body)}
        try:
            answer = requests.post(settings["webhook_url"], data=body, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise DeliveryFailed(type(exc).__name__) from None
        if not 200 <= answer.status_code < 300:
            raise DeliveryFailed(f"HTTP {answer.status_code}")


SENDERS: dict = {"webhook": WebhookSender()}


def configured(channel: str, settings: dict) -> bool:
    """Whether the township still has the channel (a delivery made before it was removed is
    cancelled, not retried into a failure and an alert)."""
    return bool(settings.get(f"{channel}_url"))


def backoff(settings: dict, attempts: int) -> timedelta:
    return timedelta(seconds=min(settings["webhook_retry_seconds"] * 2 ** max(attempts - 1, 0), MAX_BACKOFF))


def due(run) -> list[tuple[str, str]]:
    with run.unit_of_work() as uow:
        now = uow.now()
        rows = uow.session.execute(
            select(Delivery.township_id, Delivery.id)
            .where(or_(and_(Delivery.state == "pending", Delivery.next_attempt_at <= now),
                       and_(Delivery.state == "sending", Delivery.lease_until < now)))
            .order_by(Delivery.next_attempt_at).limit(BATCH)).all()
    return [(t, i) for t, i in rows]


def is_due(d: Delivery, now) -> bool:
    if d.state == "pending":
        return d.next_attempt_at <= now
    return d.state == "sending" and d.lease_until is not None and d.lease_until < now


def start(uow, delivery_id: str):
    """Claim one attempt: (attempt number, channel, payload, settings), or None if another
    instance has it. The claim expects the attempts counted when the row was read, and every
    claim counts one more: of two instances that read the same due row, one sends."""
    d = uow.session.get(Delivery, delivery_id)
    now = uow.now()
    if d is None or not is_due(d, now):
        return None  # taken (or sent) by another instance since the list was read
    settings = RULES.load(uow)
    if not configured(d.channel, settings):  # the township turned its channel off: nothing to retry
        claim(uow.session, Delivery, d.id, expected={"state": d.state, "attempts": d.attempts},
              updates={"state": "cancelled", "last_error": "the township's channel was removed", "lease_until": None})
        return None
    if not claim(uow.session, Delivery, d.id, expected={"state": d.state, "attempts": d.attempts},
                 updates={"state": "sending", "attempts": d.attempts + 1, "lease_until": now + LEASE}):
        return None
    uow.session.refresh(d)
    n = uow.session.get(Notice, d.notice_id)
    payload = {"notice_id": n.id, "township_id": n.township_id, "person_id": n.person_id, "rule": n.rule,
               "title": n.title, "body": n.body, "needs_ack": n.needs_ack,
               "ack_due_at": n.ack_due_at.isoformat() if n.ack_due_at else None,
               "created_at": n.created_at.isoformat()}
    return d.attempts, d.channel, payload, settings


def finish(uow, delivery_id: str, attempt: int, error: str | None) -> str | None:
    """Record the outcome of attempt ``attempt`` (None if a later attempt took the row over)."""
    now = uow.now()
    settings = RULES.load(uow)
    expected = {"state": "sending", "attempts": attempt}
    if error is None:
        updates = {"state": "delivered", "delivered_at": now, "last_error": None, "lease_until": None}
    elif attempt >= settings["webhook_max_attempts"]:
        updates = {"state": "failed", "last_error": error[:500], "lease_until": None}
    else:
        updates = {"state": "pending", "last_error": error[:500], "lease_until": None,
                   "next_attempt_at": now + backoff(settings, attempt)}
    return updates["state"] if claim(uow.session, Delivery, delivery_id, expected, updates) else None


def sweep_deliveries(run, senders=None) -> dict:
    """Send what is due, each with no transaction open; ``{"delivered": n, "retrying": n, "failed": n}``."""
    senders = SENDERS if senders is None else senders
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    for n, (township_id, delivery_id) in enumerate(due(run)):
        if n and n % run.chunk == 0:
            green.sleep(0)
            if run.stopping():
                break
        try:
            with run.unit_of_work(township_id) as uow:
                started = start(uow, delivery_id)
            if started is None:
                continue
            attempt, channel, payload, settings = started
            error = None
            try:
                senders[channel].send(payload, settings)
            except Exception as exc:
                error = str(exc) or type(exc).__name__
                log.warning("delivery %s attempt %s failed: %s", delivery_id, attempt, error)
            with run.unit_of_work(township_id) as uow:
                state = finish(uow, delivery_id, attempt, error)
            if state == "delivered":
                counts["delivered"] += 1
            elif state == "pending":
                counts["retrying"] += 1
            elif state == "failed":
                counts["failed"] += 1
                run.failed("delivery", DeliveryFailed(error))
        except Exception as exc:
            run.failed("delivery", exc)
    return counts


def failed_counts(uow):
    return uow.session.execute(select(Delivery.township_id, func.count()).where(Delivery.state == "failed")
                               .group_by(Delivery.township_id)).all()


def retrying_counts(uow):
    return uow.session.execute(
        select(Delivery.township_id, func.count())
        .where(Delivery.state.in_(("pending", "sending")), Delivery.attempts > 0).group_by(Delivery.township_id)).all()
