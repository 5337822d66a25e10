"""The envelope, the registry and building/parsing events (the package re-exports them)."""
from __future__ import annotations

import uuid
from datetime import date, datetime

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


_INSTANCES: dict[str, tuple[Schema, int, object]] = {}


def _instance(event_type: str) -> tuple[Schema, int, object]:
    """The event type's schema, version and ``_canonical`` check, made once per process
    (building a schema cost more than using it; a marshmallow schema keeps no state between
    ``validate``/``load`` calls)."""
    found = _INSTANCES.get(event_type)
    if found is None:
        try:
            cls, version = REGISTRY[event_type]
        except KeyError:
            raise UnknownEvent(event_type) from None
        schema = cls()
        found = _INSTANCES[event_type] = (schema, version, _canonical_check(schema))
    return found


def _schema(event_type: str) -> tuple[Schema, int]:
    schema, version, _ = _instance(event_type)
    return schema, version


def build(event_type: str, township_id: str, occurred_at: datetime, **payload) -> dict:
    """A complete, validated event body, ready for the outbox (``ValidationError`` otherwise)."""
    return build_many(event_type, township_id, occurred_at, [payload])[0]


def build_many(event_type: str, township_id: str, occurred_at: datetime, payloads: list[dict]) -> list[dict]:
    """``build`` for many events of one type (bulk work such as a deadline recompute emits
    thousands): each body loaded once (which validates it and raises ``ValidationError``) and
    dumped once — or, when it is already in the form that gives back (``_canonical``), taken
    as it is, which is what loading and dumping it would return."""
    schema, version, canonical = _instance(event_type)
    envelope = {"event_type": event_type, "township_id": township_id, "occurred_at": occurred_at.isoformat(),
                "schema_version": version}
    bodies = []
    for payload in payloads:
        body = {"event_id": uuid.uuid4().hex, **envelope, **payload}
        fast = canonical(body) if canonical is not None else None
        bodies.append(fast if fast is not None else schema.dump(schema.load(body)))
    return bodies


def _canonical(event_type: str):
    """A check for the event type's bodies that loading then dumping gives back unchanged
    (issue 9: marshmallow costs ~0.07 ms an event, most of a deadline recompute's time): a
    function returning the body (its keys in the schema's order) when every field is present,
    no other key is, and each value is already in its dumped form — a ``str`` for a String,
    a ``bool`` for a Boolean, an ``int`` for an Integer, an ISO text that reads and writes back
    to itself for a Date or a DateTime, or None where the field allows it — and None otherwise
    (the body then goes through marshmallow, which also reports what is wrong). None for a
    schema it cannot vouch for: hooks, validators, other field kinds or options."""
    return _instance(event_type)[2]


def _iso_date(value) -> bool:
    try:
        return type(value) is str and date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def _iso_datetime(value) -> bool:
    try:
        return type(value) is str and datetime.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def _canonical_check(schema: Schema):
    if any(schema._hooks.values()):
        return None
    checks = []
    for name, field in schema.fields.items():
        if (field.validators or field.load_only or field.dump_only or field.data_key not in (None, name)
                or field.attribute not in (None, name)):
            return None
        kind = type(field)
        if kind is fields.String:
            check = lambda v: type(v) is str  # noqa: E731
        elif kind is fields.Boolean and field.truthy is fields.Boolean.truthy and field.falsy is fields.Boolean.falsy:
            check = lambda v: type(v) is bool  # noqa: E731
        elif kind is fields.Integer and not field.as_string:
            check = lambda v: type(v) is int  # noqa: E731
        elif kind is fields.Date and field.format in ("iso", "iso8601"):
            check = _iso_date
        elif kind is fields.DateTime and field.format in ("iso", "iso8601"):
            check = _iso_datetime
        else:
            return None
        checks.append((name, check, field.allow_none))
    names = frozenset(name for name, _, _ in checks)

    def canonical(body: dict) -> dict | None:
        if body.keys() != names:
            return None
        out = {}
        for name, check, allow_none in checks:
            value = body[name]
            if not (check(value) or (value is None and allow_none)):
                return None
            out[name] = value
        return out

    return canonical


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
