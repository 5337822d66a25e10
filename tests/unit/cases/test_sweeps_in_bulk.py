"""The overdue and reminder sweeps in bulk (C5, issue 9): a chunk of one township's candidates is
read, claimed with ONE conditional UPDATE, and written with one INSERT of trail rows and one of
events — each case still counted exactly once, against the person who held it on its own due
date, and reminded once per deadline; a bad row costs only itself; a deadline moved since it was
read is left for the next sweep; reminder candidates are only the cases due in a window of days
that no township's date, setting or calendar can reach beyond."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select, update

from services.cases import casebook, deadlines, posts, timers
from services.cases.models import Case, CaseLog
from services.cases.rules import RULES
from services.common import events
from services.common.calendar import apply_calendar_change
from services.common.sweep import SweepRun

from .helpers import T1, T2, World, at


@pytest.fixture
def w():
    world = World(at(2025, 1, 24, 10))  # Fri; a 3-day case is due Wed 5 Feb 2025
    world.org(T1)
    world.org(T2, window="w9", a="t2-a", b="t2-b", reviewer2="t2-c", prefix="t2-")
    return world


def staff_event(event_type, **fields):
    body = events.build(event_type, T1, datetime.now(timezone.utc), **fields)
    return events.parse(event_type, body)


@pytest.fixture
def statements(w):
    """The SQL statements the database is sent (an executemany counts once)."""
    sent = []
    event.listen(w.engine, "before_cursor_execute", lambda conn, cursor, stmt, *a: sent.append(stmt))
    return sent


def count(statements, prefix):
    return sum(1 for s in statements if " ".join(s.split()).upper().startswith(prefix))


@pytest.mark.parametrize("batch, chunks", [(4, 4), (500, 2), (1, 13)])  # T1: 10 due → 3 chunks of 4, T2: 3 → 1
def test_a_chunk_is_claimed_with_one_update_and_written_with_one_insert_each(w, statements, batch, chunks):
    due = [w.accept(T1, days=3) for _ in range(10)] + [w.accept(T2, days=3, window_id="w9", handler="t2-a") for _ in range(3)]
    later = [w.accept(T1, days=10) for _ in range(4)]  # due 14 Feb: not yet
    w.move_to(at(2025, 2, 6, 9))
    statements.clear()
    run = SweepRun(w, batch=batch)
    assert timers.sweep_overdue(run) == 13 and run.errors == {}
    assert count(statements, "UPDATE CASES") == chunks  # one claim a chunk, not one a case
    assert count(statements, "INSERT INTO CASE_LOG") == chunks
    assert count(statements, "INSERT INTO OUTBOX") == chunks
    overdue = w.events("cases.case_overdue")
    assert Counter(e["case_id"] for e in overdue) == Counter(due)  # each once
    assert {e["township_id"] for e in overdue if e["case_id"] in due[10:]} == {T2}
    assert {(e["due_date"], e["handler_person_id"]) for e in overdue} == {("2025-02-05", "clerk-a"),
                                                                         ("2025-02-05", "t2-a")}
    assert all(w.case(c)["overdue"] for c in due[:10]) and all(w.case(c, T2)["overdue"] for c in due[10:])
    assert not any(w.case(c)["overdue"] for c in later)
    with w(T1) as uow:
        trail = Counter(uow.session.scalars(select(CaseLog.case_id).where(CaseLog.action == "overdue")))
    assert trail == Counter(due[:10])
    assert timers.sweep_overdue(SweepRun(w, batch=batch)) == 0  # swept again: nothing twice
    assert len(w.events("cases.case_overdue")) == 13


def test_in_one_chunk_each_case_counts_against_whoever_held_it_on_its_own_due_date(w):
    early = w.accept(days=3)  # due Wed 5 Feb
    late = w.accept(days=6)  # due Mon 10 Feb
    other = w.accept(days=3, handler="clerk-c", window_id="other")  # never handed over
    w.move_to(at(2025, 2, 5, 8))  # A goes on leave on the first due day: B holds A's cases
    w.do(posts.record_leave, staff_event("staff.leave_approved", leave_id="L1", person_id="clerk-a",
                                         starts_at=at(2025, 2, 5, 8).isoformat(), ends_at=at(2025, 2, 7, 18).isoformat()))
    w.move_to(at(2025, 2, 7, 8))  # A is back before the second due day
    w.do(posts.record_return, staff_event("staff.returned", person_id="clerk-a", leave_id="L1",
                                          returned_at=at(2025, 2, 7, 8).isoformat()))
    w.move_to(at(2025, 2, 11, 9))
    with w(T1) as uow:  # the bulk answer is the one-by-one answer
        cases = [uow.session.get(Case, c) for c in (early, late, other)]
        one_by_one = {c.id: casebook.responsible_on(uow, c, c.due_date) for c in cases}
        assert casebook.responsible_on_many(uow, [(c, c.due_date) for c in cases]) == one_by_one
    assert timers.sweep_overdue(SweepRun(w)) == 3
    assert {e["case_id"]: e["handler_person_id"] for e in w.events("cases.case_overdue")} == {
        early: "clerk-b", late: "clerk-a", other: "clerk-c"}
    assert {c: w.case(c)["overdue_person_id"] for c in (early, late, other)} == {
        early: "clerk-b", late: "clerk-a", other: "clerk-c"}


def test_a_bad_row_costs_only_itself_and_is_counted(w, monkeypatch):
    ids = [w.accept(days=3) for _ in range(6)]
    bad = ids[3]
    w.move_to(at(2025, 2, 6, 9))
    trail = casebook.trail

    def failing(uow, case, *args, **kwargs):
        if case.id == bad:
            raise ValueError("a row that cannot be written")
        return trail(uow, case, *args, **kwargs)
    monkeypatch.setattr(casebook, "trail", failing)
    counted = []
    run = SweepRun(w, on_error=lambda kind, error: counted.append((kind, error)))
    assert timers.sweep_overdue(run) == 5  # the chunk failed, then was redone one by one
    assert counted == [("overdue", "ValueError")] and run.errors == {"overdue": 1}
    assert sorted(e["case_id"] for e in w.events("cases.case_overdue")) == sorted(set(ids) - {bad})
    assert w.case(bad)["overdue"] is False  # rolled back whole: not claimed, no trail, no event
    monkeypatch.setattr(casebook, "trail", trail)
    assert timers.sweep_overdue(SweepRun(w)) == 1  # the next sweep counts it, once
    assert Counter(e["case_id"] for e in w.events("cases.case_overdue")) == Counter(ids)


def test_a_case_counted_meanwhile_or_whose_deadline_moved_is_not_claimed(w):
    counted, moved, kept = (w.accept(days=3) for _ in range(3))
    w.move_to(at(2025, 2, 6, 9))
    with w(T1) as uow:
        cases = list(uow.session.scalars(select(Case).where(Case.id.in_([counted, moved, kept])).order_by(Case.id)))
        # after they were read: another instance counts one, an extension moves another's deadline
        uow.session.execute(update(Case).where(Case.id == counted).values(overdue_at=uow.now(), overdue_person_id="x")
                            .execution_options(synchronize_session=False))
        uow.session.execute(update(Case).where(Case.id == moved).values(due_date=datetime(2025, 2, 12).date())
                            .execution_options(synchronize_session=False))
        assert casebook.mark_overdue_many(uow, cases) == 1
    assert [e["case_id"] for e in w.events("cases.case_overdue")] == [kept]
    assert w.case(counted)["overdue_person_id"] == "x"
    assert w.case(moved)["overdue"] is False


def test_mark_overdue_of_one_case_is_a_chunk_of_one(w):
    case_id = w.accept(days=3)
    w.move_to(at(2025, 2, 6, 9))
    with w(T1) as uow:
        case = uow.session.get(Case, case_id)
        assert casebook.mark_overdue(uow, case) is True
        assert case.overdue_at is not None and case.overdue_person_id == "clerk-a"  # the object knows
        assert casebook.mark_overdue(uow, case) is False
    assert [e["case_id"] for e in w.events("cases.case_overdue")] == [case_id]


# -- reminders ----------------------------------------------------------------------------------

T3 = "town-c"


def _due_on(w, township_id, window, handler, day) -> str:
    case_id = w.accept(township_id, days=3, window_id=window, handler=handler)
    with w(township_id) as uow:
        uow.session.execute(update(Case).where(Case.id == case_id).values(due_date=day))
    return case_id


def test_reminders_in_bulk_match_the_rule_for_every_due_date_township_calendar_and_setting(w, statements):
    """Three townships: T1 national calendar and N=1; T2 with its own holidays 4–6 Mar (its next
    working day after Mon 3 Mar is Fri 7 Mar); T3 with N=3. A case due on each day from 28 Feb to
    20 Mar in each: exactly those the rule (``deadlines.reminder_due``) names are reminded, once."""
    w.org(T3, window="w7", a="t3-a", b="t3-b", reviewer2="t3-c", prefix="t3-")
    with w(None) as uow:
        apply_calendar_change(uow.session, uow.common, {"scope": T2, "days": [
            {"day": f"2025-03-0{d}", "working": False} for d in (4, 5, 6)]}, uow.now())
    w.do(RULES.update, {"reminder_working_days": 3}, township_id=T3)
    w.move_to(at(2025, 3, 3, 10))  # Mon
    places = {T1: ("w1", "clerk-a"), T2: ("w9", "t2-a"), T3: ("w7", "t3-a")}
    cases = {(tid, day): _due_on(w, tid, *places[tid], day)
             for tid in places for day in (date(2025, 2, 28) + timedelta(days=i) for i in range(21))}
    expected = set()
    for tid in places:
        with w(tid) as uow:
            cal, today, n = casebook.calendar(uow), casebook.today(uow), RULES.load(uow)["reminder_working_days"]
        expected |= {cases[(t, day)] for t, day in cases if t == tid and deadlines.reminder_due(cal, today, day, n)}
    assert cases[(T2, date(2025, 3, 7))] in expected and cases[(T1, date(2025, 3, 7))] not in expected
    assert cases[(T3, date(2025, 3, 6))] in expected and cases[(T1, date(2025, 3, 6))] not in expected
    with w(None) as uow:  # UTC−12's date … T2's 4th working day after the latest date, less one
        assert timers.reminder_window(uow) == (date(2025, 3, 2), date(2025, 3, 11))
    statements.clear()
    run = SweepRun(w)
    assert timers.sweep_reminders(run) == len(expected) and run.errors == {}
    reminders = w.events("cases.case_reminder")
    assert Counter(e["case_id"] for e in reminders) == Counter(expected)
    by_case = {case_id: key for key, case_id in cases.items()}
    assert all(e["due_date"] == by_case[e["case_id"]][1].isoformat() for e in reminders)
    assert {e["holder_person_id"] for e in reminders} == {"clerk-a", "t2-a", "t3-a"}
    assert len(expected) == 2 + 7 + 4  # T2: 7 Mar and the weekend after it too
    assert count(statements, "UPDATE CASES") == 3  # a claim a township's chunk, not one a case
    assert timers.sweep_reminders(SweepRun(w)) == 0  # once per deadline


def test_a_reminder_claim_skips_a_case_whose_deadline_moved_since_it_was_read(w, monkeypatch):
    moved, kept = w.accept(days=3), w.accept(days=3)  # due Wed 5 Feb
    w.move_to(at(2025, 1, 27, 9))  # Mon: only 5 Feb is left — both due for a reminder
    judge = deadlines.reminder_due

    def judged_then_moved(cal, today, due_day, n):  # an extension commits after the read
        with w(T1) as uow:
            uow.session.execute(update(Case).where(Case.id == moved).values(due_date=date(2025, 2, 12)))
        return judge(cal, today, due_day, n)
    monkeypatch.setattr(deadlines, "reminder_due", judged_then_moved)
    assert timers.sweep_reminders(SweepRun(w)) == 1
    assert [e["case_id"] for e in w.events("cases.case_reminder")] == [kept]
    assert w.case(moved)["due_date"] == "2025-02-12"


def test_candidates_are_bounded_by_each_township_s_own_date(w, monkeypatch):
    """At 00:30 on 6 Feb in Shanghai it is still 5 Feb in New York: a case due 5 Feb is overdue in
    T1 (Shanghai) and in T3 (no copy of its township: the default zone), but in T2 (New York) it
    is not even a candidate — not read again every sweep until its own day ends — and it is
    still a reminder candidate there, while T1's and T3's are not."""
    from sqlalchemy import delete

    from services.cases.models import TownshipCopy

    w.org(T3, window="w7", a="t3-a", b="t3-b", reviewer2="t3-c", prefix="t3-")
    shanghai, new_york, default = (w.accept(T1, days=3), w.accept(T2, days=3, window_id="w9", handler="t2-a"),
                                   w.accept(T3, days=3, window_id="w7", handler="t3-a"))
    with w(None) as uow:  # then T2 moves to New York's zone, and T3's copy is gone
        uow.session.execute(update(TownshipCopy).where(TownshipCopy.id == T2).values(timezone="America/New_York"))
        uow.session.execute(delete(TownshipCopy).where(TownshipCopy.id == T3))
    for township_id, case_id in ((T1, shanghai), (T2, new_york), (T3, default)):
        assert w.case(case_id, township_id)["due_date"] == "2025-02-05"
    seen = []
    rows = timers._rows

    def recorded(uow, stmt):
        found = rows(uow, stmt)
        seen.append({case_id for _, case_id in found})
        return found
    monkeypatch.setattr(timers, "_rows", recorded)
    w.move_to(at(2025, 2, 6, 0, 30))
    assert timers.sweep_overdue(SweepRun(w)) == 2
    assert timers.sweep_reminders(SweepRun(w)) == 1
    assert seen == [{shanghai, default}, {new_york}]
    assert [e["case_id"] for e in w.events("cases.case_reminder")] == [new_york]
    w.move_to(at(2025, 2, 6, 13, 30))  # 00:30 on 6 Feb in New York
    assert timers.sweep_overdue(SweepRun(w)) == 1
    assert seen[-1] == {new_york}
    assert Counter(e["case_id"] for e in w.events("cases.case_overdue")) == Counter([shanghai, default, new_york])
