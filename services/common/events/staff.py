"""Events published by ``services/staff``."""
from marshmallow import fields

from . import Envelope, register


@register("staff.calendar_changed")
class CalendarChanged(Envelope):
    scope = fields.String(required=True)  # township id or "*" (national)
    days = fields.List(fields.Dict(), load_default=list)  # [{day, working, note}]
    cleared = fields.List(fields.String(), load_default=list)
    loaded_year = fields.Integer(allow_none=True, load_default=None)


@register("staff.token_revoked")
class TokenRevoked(Envelope):
    jti = fields.String(required=True)
    expires_at = fields.DateTime(allow_none=True, load_default=None)
