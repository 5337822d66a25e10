"""The one check of hostile input every gateway schema uses (services/common/validate.py;
issue 7 "Hostile input → 4xx"): NUL and lone surrogates, over-long lists, JSON depth."""
from __future__ import annotations

import inspect

import pytest
from marshmallow import ValidationError, fields

from services.common import validate


@pytest.mark.parametrize("value, problem", [
    ("plain 文字", None),
    ("emoji 😀 (a proper surrogate pair in JSON)", None),
    ("a\x00b", "NUL"),
    ("\ud800", "surrogate"),
    ("x\udfffy", "surrogate"),
    (12, None),
])
def test_bad_text(value, problem):
    found = validate.bad_text_problem(value)
    assert (found is None) if problem is None else (problem in found)


def test_problems_name_every_field_wherever_it_is():
    data = {"a": "ok", "b": "x\x00", "c": {"d": ["ok", "\ud800"]}, "e": list(range(5)), "k\x00": 1}
    problems = validate.input_problems(data, limit=3)
    assert set(problems) == {"b", "c.d.1", "e", "_schema"}


@pytest.mark.parametrize("text, limit, deeper", [
    ("{}", 1, False),
    ('{"a": [1, {"b": 2}]}', 3, False),
    ('{"a": [1, {"b": 2}]}', 2, True),
    ('{"a": "[[[[[[[["}', 1, False),          # brackets inside strings do not count
    ('{"a": "\\"[[[["}', 1, False),           # nor after an escaped quote
    ("[" * 1000 + "]" * 1000, 20, True),
])
def test_json_depth(text, limit, deeper):
    assert validate.json_depth_exceeds(text, limit) is deeper


def test_the_base_schema_refuses_before_any_field_is_read():
    class Person(validate.Schema):
        name = fields.String()
        tags = fields.List(fields.String())

    assert Person().load({"name": "张三"}) == {"name": "张三"}
    with pytest.raises(ValidationError) as exc:
        Person().load({"name": "张\x00三", "tags": ["\ud800"]})
    assert set(exc.value.messages) == {"name", "tags.0"}


def _schemas_of(schema, seen):
    cls = schema if inspect.isclass(schema) else type(schema)
    if cls in seen:
        return
    seen.add(cls)
    for field in cls._declared_fields.values():
        inner = getattr(field, "inner", None) or getattr(field, "value_field", None)
        for f in (field, inner):
            nested = getattr(f, "nested", None)
            if nested is not None and not isinstance(nested, str) and not callable(getattr(nested, "fields", None)):
                _schemas_of(nested() if callable(nested) and not inspect.isclass(nested) else nested, seen)


def test_every_gateway_input_schema_uses_the_one_check():
    """Walks every route of the gateway: its body and query schemas, and the schemas nested in
    them, all derive from services.common.validate.Schema."""
    from gateway.openapi import routes
    from gateway.service import GatewayService

    seen: set = set()
    count = 0
    for _name, _member, ext in routes(GatewayService):
        for schema in (ext.body_schema, ext.query_schema):
            if schema is not None:
                count += 1
                _schemas_of(schema, seen)
    assert count > 40
    outside = sorted(cls.__name__ for cls in seen if not issubclass(cls, validate.Schema))
    assert not outside, f"schemas without the hostile-input check: {outside}"
