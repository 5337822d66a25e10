"""The notices sweep (``services.common.sweep``): escalations of notices not acknowledged in
time (N1, claimed: once each, even with several instances) and outside deliveries due."""
from __future__ import annotations

from . import delivery, inbox


def sweep(run) -> dict:
    escalated = run.each("escalation", inbox.due_for_escalation(run), inbox.escalate)
    return {"escalated": escalated, **delivery.sweep_deliveries(run)}
