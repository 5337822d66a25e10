"""Building events in bulk (services/common/events/base.py; issue 9): a body already in the
form that loading and dumping gives back is taken as it is — the same body marshmallow
returns, at a fraction of the cost — and any other body still goes through marshmallow, which
normalises it or refuses it with the same ``ValidationError`` as before. Built events are
written to the outbox as ``emit_many`` writes them (``UnitOfWork.emit_built``)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from marshmallow import Schema, ValidationError, fields, validates_schema

from services.common import events
from services.common.events import base

AT = datetime(2026, 11, 30, 8, 15, 0, 123456, tzinfo=timezone.utc)
GOOD = {"case_id": "c1", "receipt_no": "R-1", "due_date": "2026-12-01", "provisional": False,
        "reason": "calendar changed"}


def marshmallow_body(event_type: str, body: dict) -> dict:
    schema, _ = base._schema(event_type)
    return schema.dump(schema.load(body))


def without_id(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "event_id"}


@pytest.mark.parametrize("payload, taken_as_is", [
    (GOOD, True),
    ({**GOOD, "provisional": True, "reason": None}, True),  # reason allows None
    ({**GOOD, "due_date": "2026-12-1"}, False),             # not ISO: refused (below)
    ({**GOOD, "due_date": date(2026, 12, 1)}, False),       # a date object: marshmallow dumps it
    ({**GOOD, "provisional": 1}, False),                    # truthy: marshmallow makes it True
    ({**GOOD, "provisional": "false"}, False),
    ({k: v for k, v in GOOD.items() if k != "reason"}, False),  # missing: marshmallow's default
    ({**GOOD, "extra": "x"}, False),                        # unknown: marshmallow drops it
    ({**GOOD, "receipt_no": None}, False),                  # None where it is not allowed: refused
    ({**GOOD, "receipt_no": 7}, False),                     # not a string: refused
])
def test_a_body_is_what_marshmallow_gives_and_only_a_canonical_one_skips_it(payload, taken_as_is):
    canonical = base._canonical("cases.deadline_changed")
    body = {"event_id": "e" * 32, "event_type": "cases.deadline_changed", "township_id": "t1",
            "occurred_at": AT.isoformat(), "schema_version": 1, **payload}
    assert (canonical(body) is not None) is taken_as_is
    try:
        expected = marshmallow_body("cases.deadline_changed", body)
    except ValidationError as error:
        with pytest.raises(ValidationError) as refused:
            events.build_many("cases.deadline_changed", "t1", AT, [payload])
        assert refused.value.messages == error.messages
        return
    built = events.build_many("cases.deadline_changed", "t1", AT, [payload])[0]
    assert built == {**expected, "event_id": built["event_id"]}
    assert list(built) == list(expected)  # the same keys in the same order: the same JSON
    if taken_as_is:
        assert canonical(body) == body


def test_many_bodies_each_get_their_own_id_and_every_one_is_checked():
    built = events.build_many("cases.deadline_changed", "t1", AT, [GOOD, {**GOOD, "case_id": "c2"}])
    assert [b["case_id"] for b in built] == ["c1", "c2"] and built[0]["event_id"] != built[1]["event_id"]
    assert [without_id(b) for b in built] == [without_id(marshmallow_body("cases.deadline_changed", b))
                                              for b in built]
    with pytest.raises(ValidationError):  # the bad one in the middle of good ones
        events.build_many("cases.deadline_changed", "t1", AT, [GOOD, {**GOOD, "receipt_no": None}, GOOD])


@pytest.mark.parametrize("event_type", sorted(base.REGISTRY))
def test_every_registered_event_is_built_as_marshmallow_builds_it(event_type):
    """Each schema either has a canonical check that agrees with marshmallow on a body it
    dumped itself, or none (a List, a Dict, a validator: marshmallow every time)."""
    schema, version = base._schema(event_type)
    canonical = base._canonical(event_type)
    sample = {name: _sample(field) for name, field in schema.fields.items()}
    sample.update(event_id="e" * 32, event_type=event_type, township_id="t1", occurred_at=AT.isoformat(),
                  schema_version=version)
    try:
        dumped = marshmallow_body(event_type, sample)
    except ValidationError:
        pytest.skip("no simple sample for this schema")
    if canonical is None:
        assert any(type(f) not in (fields.String, fields.Boolean, fields.Integer, fields.Date, fields.DateTime)
                   or f.validators for f in schema.fields.values()) or any(schema._hooks.values())
        return
    assert canonical(dumped) == dumped
    payload = {k: v for k, v in dumped.items() if k not in base.Envelope._declared_fields}
    built = events.build_many(event_type, "t1", AT, [payload])[0]
    assert without_id(built) == without_id(dumped)


def _sample(field):
    kind = type(field)
    if kind is fields.Boolean:
        return True
    if kind is fields.Integer:
        return 3
    if kind is fields.Date:
        return "2026-12-01"
    if kind is fields.DateTime:
        return AT.isoformat()
    if kind is fields.List:
        return []
    if kind is fields.Dict:
        return {}
    return "x"


class Hooked(base.Envelope):
    note = fields.String(required=True)

    @validates_schema
    def no_secrets(self, data, **kwargs):
        if data["note"] == "secret":
            raise ValidationError("no secrets")


class Validated(base.Envelope):
    size = fields.Integer(required=True, validate=lambda n: n < 10)


class Keyed(base.Envelope):
    note = fields.String(required=True, data_key="Note")


class Yes(base.Envelope):
    agreed = fields.Boolean(required=True, truthy={"yes"}, falsy={"no"})  # True itself is refused


@pytest.mark.parametrize("schema_cls", [Hooked, Validated, Keyed, Yes])
def test_a_schema_with_hooks_validators_or_renamed_keys_always_goes_through_marshmallow(schema_cls):
    assert base._canonical_check(schema_cls()) is None


def test_a_plain_schema_has_a_check():
    class Plain(Schema):
        when = fields.DateTime(required=True)
        day = fields.Date(required=True)
        n = fields.Integer(required=True)

    check = base._canonical_check(Plain())
    assert check({"when": AT.isoformat(), "day": "2026-12-01", "n": 2}) is not None
    assert check({"when": AT.isoformat(), "day": "2026-12-01", "n": True}) is None  # a bool is no Integer
    assert check({"when": "2026-11-30 08:15:00", "day": "2026-12-01", "n": 2}) is None  # reads, not back


# -- writing built events (services/common/db.py UnitOfWork.emit_built) -----------------------

@pytest.fixture
def units():
    from services.cases.models import Base
    from services.common.clock import FrozenClock
    from tests.support.units import UnitsOfWork

    return UnitsOfWork(Base, "cases", FrozenClock(AT))


def test_built_events_are_written_to_the_outbox_as_emit_many_writes_them(units):
    with units.unit_of_work("t1") as uow:
        many = uow.emit_many("cases.deadline_changed", [GOOD])
        bodies = events.build_many("cases.deadline_changed", "t1", AT, [{**GOOD, "case_id": "c2"}])
        assert uow.emit_built("cases.deadline_changed", bodies) == bodies
        assert uow.emit_built("cases.deadline_changed", []) == []
    assert units.outbox("cases.deadline_changed") == many + bodies == units.emitted


@pytest.mark.parametrize("townships, event_type", [
    (["t1", "t2"], "cases.deadline_changed"),  # two townships in one write
    (["t1"], "cases.other"),                   # a body of another type
])
def test_built_events_of_another_type_or_township_are_refused(units, townships, event_type):
    bodies = [{**body, "event_type": event_type} for t in townships
              for body in events.build_many("cases.deadline_changed", t, AT, [GOOD])]
    with pytest.raises(ValueError), units.unit_of_work("t1") as uow:
        uow.emit_built("cases.deadline_changed", bodies)
    assert units.outbox() == []
