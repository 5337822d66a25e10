"""The envelope, the registry and building/parsing events (the package re-exports them)."""
from __future__ import annotations

import uuid
from datetime import datetime

from marshmallow import EXCLUDE, Schema, ValidationError, fields

REGISTRY: dict[str, tuple[type[Schema], int]] = {}


class Envelope(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    township_id = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    schema_version = fields.Integer(required=True)


def register(event_type: str, version: int = 1):
    """Class decorator: the payload schema of ``event_type`` (which includes the envelope)."""

    def deco(schema_cls):
        if not issubclass(schema_cls, Envelope):
            raise TypeError("event schemas extend Envelope")
        REGISTRY[event_type] = (schema_cls, version)
        _INSTANCES.pop(event_type, None)
        return schema_cls

    return deco


class UnknownEvent(Exception):
    pass


_INSTANCES: dict[str, tuple[Schema, int]] = {}


def _schema(event_type: str) -> tuple[Schema, int]:
    """The event type's schema, built once per process (building one cost more than using it;
    a marshmallow schema keeps no state between ``validate``/``load`` calls)."""
    found = _INSTANCES.get(event_type)
    if found is None:
        try:
            cls, version = REGISTRY[event_type]
        except KeyError:
            raise UnknownEvent(event_type) from None
        found = _INSTANCES[event_type] = (cls(), version)
    return found


def build(event_type: str, township_id: str, occurred_at: datetime, **payload) -> dict:
    """A complete, validated event body, ready for the outbox (``ValidationError`` otherwise)."""
    return build_many(event_type, township_id, occurred_at, [payload])[0]


def build_many(event_type: str, township_id: str, occurred_at: datetime, payloads: list[dict]) -> list[dict]:
    """``build`` for many events of one type (bulk work such as a deadline recompute emits
    hundreds): each body loaded once (which validates it and raises ``ValidationError``) and
    dumped once."""
    schema, version = _schema(event_type)
    envelope = {"event_type": event_type, "township_id": township_id, "occurred_at": occurred_at.isoformat(),
                "schema_version": version}
    return [schema.dump(schema.load({"event_id": uuid.uuid4().hex, **envelope, **payload})) for payload in payloads]


def parse(event_type: str, body) -> dict:
    """Validate a received event; raises ``ValidationError`` for a malformed (poison) one."""
    if not isinstance(body, dict):
        raise ValidationError({"_schema": ["event body is not an object"]})
    schema, _ = _schema(event_type)
    if body.get("event_type") != event_type:
        raise ValidationError({"event_type": [f"expected {event_type}"]})
    return schema.load(body)


def routing(event_type: str) -> tuple[str, str]:
    """(source service, routing key) of an event name ``service.fact``."""
    source, _, fact = event_type.partition(".")
    return source, fact
