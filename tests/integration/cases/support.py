"""Publishing other services' events the way they do (nameko's ``<service>.events`` topic
exchange, routing key = the fact), and reading the cases service's outbox."""
from __future__ import annotations

from kombu import Connection, Exchange
from sqlalchemy import select

from services.cases.models import Base
from services.common import events
from tests.support.runtime import database_of


def publish(amqp_uri, event_type, township_id, occurred_at, body=None, **payload):
    body = body or events.build(event_type, township_id, occurred_at, **payload)
    source, key = events.routing(event_type)
    exchange = Exchange(f"{source}.events", type="topic", durable=True)
    with Connection(amqp_uri) as conn:
        conn.Producer().publish(body, exchange=exchange, routing_key=key, declare=[exchange],
                                serializer="json", delivery_mode=2)
    return body


def accepted(amqp_uri, township_id, now, receipt_no, handler, window_id=None, kind="promised", days=3, **extra):
    from services.common.clock import DEFAULT_TZ, local_date

    return publish(amqp_uri, "intake.application_accepted", township_id, now,
                   application_id=extra.pop("application_id", "app-" + receipt_no), receipt_no=receipt_no,
                   item_code="MZ-001", item_version=1, item_name="最低生活保障审核", kind=kind,
                   window_id=window_id, handler_person_id=handler, accepted_at=now.isoformat(),
                   accepted_on=extra.pop("accepted_on", local_date(now, DEFAULT_TZ)).isoformat(), promised_days=days, **extra)


def outbox(container, event_type=None) -> list[dict]:
    table = Base.common.outbox
    stmt = select(table.c.payload).order_by(table.c.id)
    if event_type:
        stmt = stmt.where(table.c.event_type == event_type)
    with database_of(container).engine.connect() as conn:
        return [row[0] for row in conn.execute(stmt)]
