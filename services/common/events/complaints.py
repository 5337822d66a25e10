"""Events published by ``services/complaints``."""
from marshmallow import fields

from . import Envelope, register


@register("complaints.complaint_verified")
class ComplaintVerified(Envelope):
    """P4: a complaint was investigated and verified against a person or window.

    Carries no complainant identity (P2)."""

    complaint_id = fields.String(required=True)
    target_person_id = fields.String(allow_none=True, load_default=None)
    target_window_id = fields.String(allow_none=True, load_default=None)
    category = fields.String(allow_none=True, load_default=None)  # e.g. attitude, argument, bribery
