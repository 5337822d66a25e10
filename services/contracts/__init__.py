"""Output contracts: one marshmallow schema per resource the API returns.

A service serialises a resource with its schema (``shared(Person).dump(row)``: one instance
per process) and the gateway names the same schema as the route's ``response=``, so what is
documented in ``/openapi.json`` is what is sent. This package depends on marshmallow and
``services.common.privacy`` only: the gateway imports it without importing any service's
internals, and a service imports it without importing the gateway.

Conventions: every field a response always carries is ``required=True`` (documented as
required); a field that may be ``null`` has ``allow_none=True`` (documented as nullable).
Dates and moments are ISO-8601 strings (``fields.Date`` / ``fields.DateTime``).
Personal data goes out only through the masking fields below (P2).
"""
from __future__ import annotations

from functools import lru_cache

from marshmallow import Schema, fields

from services.common.privacy import mask_address, mask_id_number, mask_name, mask_phone


@lru_cache(maxsize=None)
def shared(schema_cls: type[Schema], **options) -> Schema:
    """The one instance of ``schema_cls(**options)`` of this process (issue 9: building a schema
    deep-copies its fields, 0.2–0.5 ms — more than dumping a record with it — and a request built
    a dozen). A marshmallow schema keeps no state between ``dump``/``load`` calls, so one
    instance serves every caller; ``options`` are the constructor's (``many``, ``full`` …)."""
    return schema_cls(**options)


class Out(Schema):
    """Base of every output schema. ``full=True`` shows personal data unmasked, for the
    callers whose role needs it (P2); the default masks."""

    def __init__(self, *args, full: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.full = full


def _full(field) -> bool:
    schema = field.parent
    while schema is not None and not isinstance(schema, Schema):
        schema = getattr(schema, "parent", None)
    return bool(getattr(schema, "full", False))


class MaskedPhone(fields.String):
    """A phone number, masked (``138****5678``) unless the schema was made with ``full=True``."""

    def _serialize(self, value, attr, obj, **kwargs):
        if not _full(self):
            value = mask_phone(value)
        return super()._serialize(value, attr, obj, **kwargs)


class MaskedName(fields.String):
    """A person's name, masked (``王*燕``) unless ``full=True``."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value and not _full(self):
            value = mask_name(value)
        return super()._serialize(value, attr, obj, **kwargs)


class MaskedId(fields.String):
    """An ID number, masked (``110***********1234``) unless ``full=True``."""

    def _serialize(self, value, attr, obj, **kwargs):
        if not _full(self):
            value = mask_id_number(value)
        return super()._serialize(value, attr, obj, **kwargs)


class _Iso:
    """Dates that a composite already carries as ISO strings pass through unchanged."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, str):
            return value
        return super()._serialize(value, attr, obj, **kwargs)


class IsoDate(_Iso, fields.Date):
    pass


class IsoDateTime(_Iso, fields.DateTime):
    pass


def Id(**kw):
    return fields.String(required=True, **kw)


def Ref(**kw):
    """The id of another resource, or null."""
    return fields.String(required=True, allow_none=True, **kw)


def Str(null: bool = False, **kw):
    return fields.String(required=True, allow_none=null, **kw)


def Int(null: bool = False, **kw):
    return fields.Integer(required=True, allow_none=null, **kw)


def Num(null: bool = False, **kw):
    return fields.Float(required=True, allow_none=null, **kw)


def Bool(null: bool = False, **kw):
    return fields.Boolean(required=True, allow_none=null, **kw)


def Day(null: bool = False, **kw):
    return IsoDate(required=True, allow_none=null, **kw)


def Moment(null: bool = False, **kw):
    return IsoDateTime(required=True, allow_none=null, **kw)


def Strings(**kw):
    return fields.List(fields.String(), required=True, **kw)


def Obj(null: bool = False, **kw):
    """A JSON object whose keys are data (settings, counts by category …)."""
    return fields.Dict(required=True, allow_none=null, **kw)


class Nested(fields.Nested):
    """Nested output: a ``full=True`` schema shows its nested resources unmasked too."""

    def _serialize(self, nested_obj, attr, obj, **kwargs):
        schema = self.schema
        if isinstance(schema, Out):
            schema.full = _full(self)
        return super()._serialize(nested_obj, attr, obj, **kwargs)


def Many(schema, **kw):
    return fields.List(Nested(schema), required=True, **kw)


def One(schema, null: bool = False, **kw):
    return Nested(schema, required=True, allow_none=null, **kw)


class Flat(fields.Nested):
    """A nested object built from the parent's own attributes (``applicant`` from
    ``applicant_name``, ``applicant_phone`` …): the nested schema maps each field with
    ``attribute=``."""

    def serialize(self, attr, obj, accessor=None, **kwargs):
        schema = self.schema
        if isinstance(schema, Out):
            schema.full = _full(self)
        return self._serialize(obj, attr, obj, **kwargs)


def Computed(fn, schema: dict, **kw):
    """A value computed from the record (``fn(obj)``), documented with a JSON schema."""
    return fields.Function(fn, required=True, metadata={**schema, **kw.pop("metadata", {})}, **kw)


class MaskedAddress(fields.String):
    """An address, hidden (``***``) unless ``full=True``."""

    def _serialize(self, value, attr, obj, **kwargs):
        if not _full(self):
            value = mask_address(value)
        return super()._serialize(value, attr, obj, **kwargs)
