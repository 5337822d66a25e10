"""Open acknowledgement deadlines after a calendar change (N1 period in working days, C2).

A notice's ``ack_due_at`` is the close of the N-th working day after its local day; when the
township's calendar changes (a local holiday, a make-up working day, a year of the national
schedule loaded: provisional → firm) every notice still waiting for an answer and not yet
escalated is recomputed from its inputs (``created_at`` and the ``ack_working_days`` it was
given), exactly as cases recomputes its running deadlines: the handler marks the township in
the same transaction as the calendar copy, and a timer does the work in bounded chunks that
yield, a burst of changes coalesced into one pass, shared by instances chunk by chunk
(``services/common/recompute.py``). An escalated notice keeps its due moment: its escalation
has happened (N1, once).
"""
from __future__ import annotations

from sqlalchemy import select, update

from services.common import green
from services.common import recompute as engine

from .inbox import ack_due_on
from .models import CalendarRecompute, Notice
from .rules import RULES

TABLE = CalendarRecompute.__table__
YIELD_EVERY = engine.YIELD_EVERY


def _open():
    return (Notice.needs_ack.is_(True), Notice.acked_at.is_(None), Notice.escalated_at.is_(None))


def mark(uow, scope: str | None) -> list[str]:
    """The calendar of ``scope`` (a township id; None = national) changed: record, in this
    transaction, that its townships' open acknowledgement deadlines must be recomputed."""
    return engine.mark_scope(uow, TABLE, scope, select(Notice.township_id).where(*_open()))


def pending(uow) -> list[tuple[str, int]]:
    """(township, 1) while a township's acknowledgement deadlines wait for a recompute (a gauge)."""
    return engine.pending(uow, TABLE)


class Recomputer(engine.Recomputer):
    table = TABLE
    unit = "notices"
    what = "acknowledgement deadlines"

    def rows(self, uow, township_id, cursor, lock):
        stmt = (select(Notice.id, Notice.created_at, Notice.ack_working_days, Notice.ack_due_at,
                       Notice.ack_provisional)
                .where(Notice.township_id == township_id, *_open()).order_by(Notice.id).limit(self.chunk))
        if cursor is not None:
            stmt = stmt.where(Notice.id > cursor)
        if lock:  # an acknowledgement or an escalation of one of these waits for this chunk
            stmt = stmt.with_for_update(of=Notice.__table__)
        return uow.session.execute(stmt).all()

    def apply(self, uow, township_id, cal, rows) -> int:
        settings = RULES.load(uow)
        updates = []
        for n, r in enumerate(rows):
            if n and n % YIELD_EVERY == 0:
                green.sleep(0)  # computing a chunk must not hold the hub either
            days = r.ack_working_days or settings["ack_working_days"]
            due, provisional = ack_due_on(cal, r.created_at, settings["timezone"], days)
            if (due, provisional) != (r.ack_due_at, bool(r.ack_provisional)):
                updates.append({"id": r.id, "ack_due_at": due, "ack_provisional": provisional})
        if updates:
            uow.session.execute(update(Notice), updates)
        return len(updates)
