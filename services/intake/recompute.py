"""Village agents' submission deadlines after a calendar change (I6 period in working days, C2).

A collection's ``due_on`` is the close of the N-th working day after the day it was collected,
never more than a week (``agents.submission_due``); when the township's calendar changes (a
local holiday, a make-up working day, a year of the national schedule loaded: provisional →
firm) every collection still out and not yet announced overdue is recomputed from its inputs
(``collected_on`` and the period it was given), and so is its reminder day if it was not yet
reminded — exactly as cases and notices recompute theirs, on the shared engine
(``services/common/recompute.py``): the handler marks the township in the same transaction as
the calendar copy, and a timer does the work in bounded chunks that yield, a burst of changes
coalesced into one pass, shared by instances chunk by chunk.

A collection already brought in on a provisional deadline is settled too (C2 "days left open
this way are settled when the year is loaded"): its deadline firms up and whether it came late
is judged again, on the collection and on the application that carries it. A collection
announced overdue keeps its deadline (the announcement happened, once); a withdrawn one is done.
"""
from __future__ import annotations

from sqlalchemy import and_, or_, select, update

from services.common import green
from services.common import recompute as engine

from .agents import is_late, remind_on, submission_due
from .models import AgentCollection, Application, CalendarRecompute
from .rules import RULES

TABLE = CalendarRecompute.__table__
YIELD_EVERY = engine.YIELD_EVERY


def _open():
    """Still out and not announced overdue, or brought in on a provisional deadline."""
    return or_(and_(AgentCollection.status == "collected", AgentCollection.overdue_at.is_(None)),
               and_(AgentCollection.status == "submitted", AgentCollection.due_provisional.is_(True)))


def mark(uow, scope: str | None) -> list[str]:
    """The calendar of ``scope`` (a township id; None = national) changed: record, in this
    transaction, that its townships' agent deadlines must be recomputed."""
    return engine.mark_scope(uow, TABLE, scope, select(AgentCollection.township_id).where(_open()))


def pending(uow) -> list[tuple[str, int]]:
    """(township, 1) while a township's agent deadlines wait for a recompute (a gauge)."""
    return engine.pending(uow, TABLE)


class Recomputer(engine.Recomputer):
    table = TABLE
    unit = "collections"
    what = "village agents' submission deadlines"

    def rows(self, uow, township_id, cursor, lock):
        stmt = (select(AgentCollection.id, AgentCollection.status, AgentCollection.collected_on,
                       AgentCollection.due_on, AgentCollection.due_provisional, AgentCollection.remind_on,
                       AgentCollection.reminded_at, AgentCollection.submission_days,
                       AgentCollection.submission_max_days, AgentCollection.submitted_on,
                       AgentCollection.late, AgentCollection.application_id)
                .where(AgentCollection.township_id == township_id, _open())
                .order_by(AgentCollection.id).limit(self.chunk))
        if cursor is not None:
            stmt = stmt.where(AgentCollection.id > cursor)
        if lock:  # a clerk receiving or the sweep marking one of these waits for this chunk
            stmt = stmt.with_for_update(of=AgentCollection.__table__)
        return uow.session.execute(stmt).all()

    def apply(self, uow, township_id, cal, rows) -> int:
        settings = RULES.load(uow)
        updates, apps = [], []
        for n, r in enumerate(rows):
            if n and n % YIELD_EVERY == 0:
                green.sleep(0)  # computing a chunk must not hold the hub either
            due = submission_due(cal, r.collected_on, r.submission_days or settings["agent_submission_days"],
                                 r.submission_max_days or settings["agent_submission_max_days"])
            row = {}
            if (due.day, due.provisional) != (r.due_on, bool(r.due_provisional)):
                row.update(due_on=due.day, due_provisional=due.provisional)
            if r.status == "collected" and r.reminded_at is None:
                day = remind_on(cal, r.collected_on, due.day, settings["agent_reminder_days"])
                if day != r.remind_on:
                    row["remind_on"] = day
            if r.status == "submitted":
                late = is_late(due.day, r.submitted_on)
                if late != r.late:
                    row["late"] = late
                if row and r.application_id:
                    apps.append({"id": r.application_id, "agent_due_on": due.day, "agent_late": late})
            if row:
                updates.append({"id": r.id, **row})
        if updates:
            uow.session.execute(update(AgentCollection), updates)
        if apps:
            uow.session.execute(update(Application), apps)
        return len(updates)
