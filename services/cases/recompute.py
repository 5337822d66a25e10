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
  ONE chunk per township per turn (sized by time: about 0.1 s, 50 to 1,000 cases), each chunk
  its own transaction, yielding to the other green threads inside and between chunks and
  stopping between chunks when the service stops.
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
* **cheap** (issue 9: 10^4 open cases in < 2 s) — the calendar is loaded once per pass (cached
  by township and version), cases are read as plain rows, a deadline is computed once per
  distinct inputs in a chunk, and only changed deadlines are written: on PostgreSQL one UPDATE
  and one INSERT of audit rows per chunk with the rows passed as arrays, and one INSERT of
  ``cases.deadline_changed`` events per 200 (built without marshmallow when already in their
  dumped form, ``events.build_many``, and in another green thread while the server writes the
  deadlines: Python and PostgreSQL work at once, on the machine's two cores).
"""
from __future__ import annotations

import logging

from sqlalchemy import select, text, update

from services.common import events, green
from services.common import recompute as engine
from services.common.db import pg_array

from . import deadlines, reviews
from .casebook import RUNNING, insert_trail, trail
from .models import CalendarRecompute, Case, Review

log = logging.getLogger(__name__)

RECOMPUTED = (*RUNNING, "suspended")  # cases whose deadline is counted (C2, C11)
REASON = "calendar changed"
EVENT = "cases.deadline_changed"
TABLE = CalendarRecompute.__table__
EVENTS_AT_ONCE = 50  # events (or audit rows) built between two yields (~1 ms)
OUTBOX_AT_ONCE = 200  # events written to the outbox by one INSERT
COMPUTE_YIELD_EVERY = 100  # deadlines computed between two yields (a few µs each, most shared)
_CASE_COLUMNS = ("id", "township_id", "clock_started_on", "promised_days", "extension_days", "paused_days",
                 "due_date", "provisional", "receipt_no", "holder_person_id")


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


# PostgreSQL: a chunk's changes in one statement each, the rows passed as arrays (one bound
# parameter per column), so the statement is compiled once per process and the server, not
# Python, unpacks the rows. (A VALUES list rendered its rows into the SQL: compiled anew for
# every chunk, 0.3 ms a row; an executemany is a round trip per row.) The chunk's range of ids
# (taken by the server, in its own collation) lets the planner read just the chunk's rows by
# the primary key rather than scan the township's cases for every chunk.
_PG_UPDATE = text(
    "WITH v AS (SELECT * FROM unnest(CAST(:ids AS varchar[]), CAST(:days AS date[]),"
    " CAST(:provisional AS boolean[])) AS v(id, due_date, provisional))"
    " UPDATE cases SET due_date = v.due_date, provisional = v.provisional FROM v"
    " WHERE cases.id = v.id AND cases.township_id = :township_id"
    " AND cases.id BETWEEN (SELECT min(id) FROM v) AND (SELECT max(id) FROM v)")


def _write(uow, township_id: str, changed: list) -> None:
    """The changed deadlines (``(row, due)`` pairs) and their audit rows (C1), in this
    transaction."""
    if engine.dialect(uow) != "postgresql":
        uow.session.execute(update(Case), [{"id": r.id, "due_date": due.day, "provisional": due.provisional}
                                           for r, due in changed])
        insert_trail(uow, _trail_rows(uow, changed))
        return
    rows = green.spawn(_trail_rows, uow, changed)  # built while the server updates the cases
    try:
        written = uow.session.execute(_PG_UPDATE, {
            "ids": pg_array([r.id for r, _ in changed]), "days": pg_array([str(due.day) for _, due in changed]),
            "provisional": "{" + ",".join("t" if due.provisional else "f" for _, due in changed) + "}",
            "township_id": township_id}).rowcount
        if written != len(changed):  # the chunk's cases are locked: never, unless the code is wrong
            raise RuntimeError(f"{written} of {len(changed)} deadlines written")
        trail_rows = rows.wait()
    finally:
        rows.kill()
    insert_trail(uow, trail_rows)


def _trail_rows(uow, changed: list) -> list[dict]:
    """The audit rows of the changed deadlines (``casebook.trail``), fifty between yields."""
    rows = []
    for n, (r, due) in enumerate(changed):
        if n and n % EVENTS_AT_ONCE == 0:
            green.sleep(0)
        rows.append(trail(uow, r, "deadline_changed", None, REASON, due_date=due.day, provisional=due.provisional))
    return rows


def _events(township_id: str, now, changed: list) -> list[dict]:
    """The ``cases.deadline_changed`` of the changed deadlines, built (and checked,
    ``events.build_many``) fifty at a time between yields."""
    bodies = []
    for start in range(0, len(changed), EVENTS_AT_ONCE):
        if start:
            green.sleep(0)
        bodies += events.build_many(EVENT, township_id, now, [
            dict(case_id=r.id, receipt_no=r.receipt_no, due_date=due.day.isoformat(), provisional=due.provisional,
                 reason=REASON) for r, due in changed[start:start + EVENTS_AT_ONCE]])
    return bodies


class Recomputer(engine.Recomputer):
    """Cases' part of the engine (``services/common/recompute.py``): the running cases of a
    township, by id, and their deadlines recomputed from their inputs."""

    table = TABLE
    unit = "cases"
    what = "deadlines"

    def rows(self, uow, township_id, cursor, lock):
        limit = self.chunk
        cases_table, reviews_table = Case.__table__, Review.__table__
        cases = select(*(cases_table.c[name] for name in _CASE_COLUMNS)).where(
            cases_table.c.township_id == township_id, cases_table.c.state.in_(RECOMPUTED),
            cases_table.c.clock_started_on.is_not(None)).order_by(cases_table.c.id).limit(limit)
        open_reviews = select(reviews_table.c.id).where(reviews_table.c.township_id == township_id, _open_review()) \
            .order_by(reviews_table.c.id).limit(limit)
        if cursor is not None:
            cases = cases.where(cases_table.c.id > cursor)
            open_reviews = open_reviews.where(reviews_table.c.id > cursor)
        if lock:  # an extension or a pause of one of these waits for this chunk
            cases = cases.with_for_update(of=cases_table)
            open_reviews = open_reviews.with_for_update(of=reviews_table)
        # the cases as plain rows, past the ORM (its loading cost ~15 µs a row; the township is
        # in the query itself); the open reviews, seldom any, as objects (``reviews.recount``
        # updates them) only when there are some
        connection = uow.session.connection()
        rows = []
        for part in connection.execute(cases).partitions(COMPUTE_YIELD_EVERY * 2):
            rows += part
            green.sleep(0)  # a thousand rows take a few ms to read: not in one go
        review_ids = connection.execute(open_reviews).scalars().all()
        if review_ids:
            rows += uow.session.execute(select(Review).where(Review.id.in_(review_ids))).scalars().all()
        return sorted(rows, key=lambda r: r.id)[:limit]  # the next chunk of both, by id

    def apply(self, uow, township_id, cal, rows):
        pending = [r for r in rows if isinstance(r, Review)]
        return (self._apply(uow, township_id, cal, [r for r in rows if not isinstance(r, Review)])
                + sum(reviews.recount(uow, cal, r) for r in pending))

    @staticmethod
    def _apply(uow, township_id: str, cal, rows) -> int:
        """Recompute each row's deadline (C2/C3/C11); write only those that changed."""
        now = uow.now()
        changed = []  # (row, due)
        dues = {}  # inputs → due: the cases started on one day with one period share their deadline
        for n, r in enumerate(rows):
            if n and n % COMPUTE_YIELD_EVERY == 0:
                green.sleep(0)  # computing a chunk must not hold the hub either
            inputs = (r.clock_started_on, r.promised_days, r.extension_days or 0, r.paused_days or 0)
            due = dues.get(inputs)
            if due is None:
                due = dues[inputs] = deadlines.due(cal, deadlines.DeadlineInputs(*inputs))
            if (due.day, due.provisional) != (r.due_date, bool(r.provisional)):
                changed.append((r, due))
        if changed:
            # the events are built in another green thread while this one waits for the server
            # to write the deadlines and their trail: Python and PostgreSQL at work at once
            building = green.spawn(_events, township_id, now, changed)
            try:
                _write(uow, township_id, changed)
                bodies = building.wait()
            finally:
                building.kill()
            for start in range(0, len(bodies), OUTBOX_AT_ONCE):
                green.sleep(0)
                uow.emit_built(EVENT, bodies[start:start + OUTBOX_AT_ONCE])
        provisional = sum(due.provisional for _, due in changed)
        if provisional:
            log.warning("%s provisional deadlines: a year without calendar data (C2); the operator must load it",
                        provisional, extra={"township_id": township_id})
        return len(changed)
