"""What every service answers alike (settings, calendar) and the gateway's own answers
(health, who-am-I)."""
from __future__ import annotations

from marshmallow import fields

from . import Bool, Day, Int, Many, Obj, Out, Ref, Str, Strings


class Health(Out):
    service = Str()
    ok = Bool()
    checks = Obj(metadata={"description": "check → \"ok\" or what is wrong"})
    services = fields.Dict(metadata={"description": "service → its circuit breaker and last probe"})


class OpenApiDocument(Out):
    openapi = Str(metadata={"example": "3.0.3"})
    info = Obj()
    paths = Obj()
    components = Obj()


class Me(Out):
    township_id = Ref()
    person_id = Ref()
    roles = Strings()


class RuleHelp(Out):
    key = Str()
    default = fields.Raw(required=True, allow_none=True)
    help = Str()


class Settings(Out):
    """A service's rules for the township (rules are data): the values in force and what each means."""

    settings = Obj(metadata={"description": "key → value in force (the default where unchanged)"})
    rules = Many(RuleHelp)


class CalendarDay(Out):
    day = Day()
    working = Bool()
    note = Str(null=True)


class CalendarChange(Out):
    scope = Str(metadata={"description": "\"*\" for the national calendar, else the township's id"})
    days = Many(CalendarDay)
    cleared = fields.List(Day(), required=True)
    loaded_year = Int(null=True)


class CalendarAnswer(Out):
    day = Day()
    working = Bool()
    provisional = Bool(metadata={"description": "true when next year's calendar is not loaded yet (C3)"})
