"""C12 and I6 sweep (``services.common.sweep``): a received application whose one-time notice is
overdue is accepted from the day its materials arrived — once, even with several instances
sweeping (``applications.deem_overdue`` claims the row)."""
from __future__ import annotations

from services.common.clock import latest_local_date

from . import agents
from . import applications as apps
from .rules import RULES


def deem(uow, application_id: str) -> bool:
    """One application, judged by its own township's local date (its ``timezone`` setting)."""
    return apps.deem_overdue(uow, application_id, RULES.load(uow))


def sweep(run) -> dict:
    """Candidates by the latest local date anywhere; each is then judged in its township's zone."""
    with run.unit_of_work() as uow:
        latest = latest_local_date(uow.now())
        due = apps.overdue_received(uow, latest)
        remind = agents.due_for_reminder(uow, latest)
        overdue = agents.due_for_overdue(uow, latest)
    return {"deemed_accepted": run.each("deemed_acceptance", due, deem),
            "agent_reminders": run.each("agent_reminder", remind, agent_reminder),
            "agent_overdue": run.each("agent_overdue", overdue, agent_overdue)}


def agent_reminder(uow, collection_id: str) -> bool:
    """I6: the agent is reminded before their submission deadline (N1 tells them)."""
    return agents.remind(uow, collection_id, RULES.load(uow))


def agent_overdue(uow, collection_id: str) -> bool:
    """I6: a collection not brought by its deadline is overdue, announced once."""
    return agents.mark_overdue(uow, collection_id, RULES.load(uow))
