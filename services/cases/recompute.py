"""Recomputing running deadlines after a calendar change (DOMAIN C2; issue 7 "Heavy handlers
never block").

A deadline is always recomputed from its inputs (``deadlines.due``), so a calendar change — a
township's local holiday, a year of the national schedule loaded — must reach every running
case. Doing that inside the ``staff.calendar_changed`` handler held one worker and the CPU for
seconds per change (20 changes with 1,000 open cases stalled every township for 25 s). Instead
(the engine is ``services/common/recompute.py``, shared with notices; cases gives it the rows):

* ``mark(uow, scope)`` — the handler, in the same transaction as the calendar copy, bumps the
  township's row in ``calendar_recompute`` (a national change: every township with running
  cases). The need to recompute is durable: a crash or a restart resumes it.
* ``Recomputer.run(...)`` — a timer polls the rows and works township by township, round-robin,
  ONE chunk (default 50 cases) per township per turn, each chunk its own transaction, yielding
  to the other green threads between chunks and stopping between chunks when the service stops.
* **coalesced** — a township's pass starts only once its calendar has been quiet for
  ``quiet`` seconds (default 1; at most ``max_delay``, default 10 s, after the first change),
  so a burst of 20 changes is one pass, not 20; a change that arrives during a pass restarts
  it from the first case (``version`` moved past ``pass_version``).
* **claimed** — a chunk locks the township's row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL)
  and the chunk's cases, reads the cursor, recomputes, and saves the cursor in that same
  transaction: two instances of cases share the work chunk by chunk and never do a chunk twice;
  a case changed meanwhile (an extension, a pause) waits for the chunk or is seen after it.
* **reviews too** (C10) — a pending review not yet overdue is recounted with the cases, from the
  day it was asked and the period it was given (``reviews.recount``): a provisional due day
  firms up when its year is loaded, a local holiday moves it, and ``cases.review_changed`` tells
  intake's receipt query. A chunk is the next ``chunk`` rows of both tables by id.
* **cheap** — the calendar is loaded once per pass (cached by township and version), cases are
  read as plain rows, and only changed deadlines are written: one bulk UPDATE, one bulk
  INSERT of audit rows, one multi-row INSERT of ``cases.deadline_changed`` events.
"""
from __future__ import annotations

import logging

from sqlalchemy import Boolean, Date, String, column, insert, select, update, values

from services.common import green
from services.common import recompute as engine
from services.common.recompute import YIELD_EVERY

from . import deadlines, reviews
from .casebook import RUNNING, _jsonable
from .models import CalendarRecompute, Case, CaseLog, Review

log = logging.getLogger(__name__)

RECOMPUTED = (*RUNNING, "suspended")  # cases whose deadline is counted (C2, C11)
REASON = "calendar changed"
TABLE = CalendarRecompute.__table__


def mark(uow, scope: str | None) -> list[str]:
    """The calendar of ``scope`` (a township id; None = national) changed: record, in this
    transaction, that its townships' running deadlines must be recomputed. Returns them."""
    return engine.mark_scope(
        uow, TABLE, scope,
        select(Case.township_id).where(Case.state.in_(RECOMPUTED), Case.clock_started_on.is_not(None)),
        select(Review.township_id).where(_open_review()))


def _open_review():
    """C10: a review whose due day still counts — pending and not yet announced overdue."""
    return (Review.state == "pending") & Review.overdue_at.is_(None)


def pending(uow) -> list[tuple[str, int]]:
    """(township, 1) for every township whose deadlines wait for a recompute (a gauge)."""
    return engine.pending(uow, TABLE)


def _update_deadlines(uow, updates: list[dict]) -> None:
    """One UPDATE … FROM (VALUES …) on PostgreSQL (an executemany is a round trip per row)."""
    if engine.dialect(uow) != "postgresql":
        uow.session.execute(update(Case), updates)
        return
    cases = Case.__table__
    rows = values(column("id", String), column("due_date", Date), column("provisional", Boolean), name="v").data(
        [(u["id"], u["due_date"], u["provisional"]) for u in updates])
    uow.session.execute(update(cases).where(cases.c.id == rows.c.id)
                        .values(due_date=rows.c.due_date, provisional=rows.c.provisional))


class Recomputer(engine.Recomputer):
    """Cases' part of the engine (``services/common/recompute.py``): the running cases of a
    township, by id, and their deadlines recomputed from their inputs."""

    table = TABLE
    unit = "cases"
    what = "deadlines"

    def rows(self, uow, township_id, cursor, lock):
        cases = select(Case.id, Case.clock_started_on, Case.promised_days, Case.extension_days,
                       Case.paused_days, Case.due_date, Case.provisional, Case.receipt_no,
                       Case.holder_person_id).where(
            Case.township_id == township_id, Case.state.in_(RECOMPUTED),
            Case.clock_started_on.is_not(None)).order_by(Case.id).limit(self.chunk)
        open_reviews = select(Review).where(Review.township_id == township_id, _open_review()) \
            .order_by(Review.id).limit(self.chunk)
        if cursor is not None:
            cases = cases.where(Case.id > cursor)
            open_reviews = open_reviews.where(Review.id > cursor)
        if lock:  # an extension or a pause of one of these waits for this chunk
            cases = cases.with_for_update(of=Case.__table__)
            open_reviews = open_reviews.with_for_update(of=Review.__table__)
        rows = uow.session.execute(cases).all() + list(uow.session.execute(open_reviews).scalars())
        return sorted(rows, key=lambda r: r.id)[:self.chunk]  # the next chunk of both, by id

    def apply(self, uow, township_id, cal, rows):
        pending = [r for r in rows if isinstance(r, Review)]
        return (self._apply(uow, township_id, cal, [r for r in rows if not isinstance(r, Review)])
                + sum(reviews.recount(uow, cal, r) for r in pending))

    @staticmethod
    def _apply(uow, township_id: str, cal, rows) -> int:
        """Recompute each row's deadline (C2/C3/C11); write only those that changed."""
        now = uow.now()
        updates, trail, events = [], [], []
        provisional = 0
        for n, r in enumerate(rows):
            if n and n % YIELD_EVERY == 0:
                green.sleep(0)  # computing a chunk must not hold the hub either
            due = deadlines.due(cal, deadlines.DeadlineInputs(
                r.clock_started_on, r.promised_days, r.extension_days or 0, r.paused_days or 0))
            if (due.day, due.provisional) == (r.due_date, bool(r.provisional)):
                continue
            provisional += due.provisional
            updates.append({"id": r.id, "due_date": due.day, "provisional": due.provisional})
            trail.append(dict(case_id=r.id, township_id=township_id, action="deadline_changed",
                              holder_person_id=r.holder_person_id, reason=REASON, at=now,
                              data=_jsonable({"due_date": due.day, "provisional": due.provisional})))
            events.append(dict(case_id=r.id, receipt_no=r.receipt_no, due_date=due.day.isoformat(),
                               provisional=due.provisional, reason=REASON))
        if updates:
            _update_deadlines(uow, updates)
            green.sleep(0)
            uow.session.execute(insert(CaseLog), trail)
            for start in range(0, len(events), YIELD_EVERY):  # validating events costs ~1 ms each
                green.sleep(0)
                uow.emit_many("cases.deadline_changed", events[start:start + YIELD_EVERY], township_id=township_id)
        if provisional:
            log.warning("%s provisional deadlines: a year without calendar data (C2); the operator must load it",
                        provisional, extra={"township_id": township_id})
        return len(updates)
