"""Events published by ``services/intake``."""
from marshmallow import fields

from . import Envelope, register


@register("intake.application_accepted")
class ApplicationAccepted(Envelope):
    application_id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    item_code = fields.String(required=True)
    kind = fields.String(required=True)
    accepted_on = fields.Date(required=True)
    promised_days = fields.Integer(required=True)
