"""C12 sweep (``services.common.sweep``): a received application whose one-time notice is
overdue is accepted from the day its materials arrived — once, even with several instances
sweeping (``applications.deem_overdue`` claims the row)."""
from __future__ import annotations

from services.common.clock import latest_local_date

from . import applications as apps
from .rules import RULES


def deem(uow, application_id: str) -> bool:
    """One application, judged by its own township's local date (its ``timezone`` setting)."""
    return apps.deem_overdue(uow, application_id, RULES.load(uow))


def sweep(run) -> dict:
    """Candidates by the latest local date anywhere; each is then judged in its township's zone."""
    with run.unit_of_work() as uow:
        due = apps.overdue_received(uow, latest_local_date(uow.now()))
    return {"deemed_accepted": run.each("deemed_acceptance", due, deem)}
