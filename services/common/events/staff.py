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


@register("staff.organisation_changed")
class OrganisationChanged(Envelope):
    """A township, department, window, person, role, A/B pair or hours changed.

    ``entity`` is one of township, department, window, person; ``data`` is the entity's
    public record as staff now holds it (no personal data beyond name and badge)."""

    entity = fields.String(required=True)
    entity_id = fields.String(required=True)
    action = fields.String(required=True)  # created, updated, deactivated
    data = fields.Dict(required=True)
