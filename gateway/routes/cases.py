"""Gateway routes of the cases area (a mixin of gateway.service.GatewayService)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate  # noqa: F401

from ..api import api  # noqa: F401


class CasesRoutes:
    pass
