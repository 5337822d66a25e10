"""N1 acknowledgement deadlines follow the township's calendar (C2): a calendar change marks the
township in the handler's transaction and the open deadlines are recomputed later in bounded
chunks — a burst coalesced into one pass, resumed after a restart, nobody else's touched; a
provisional due day (a year without data) firms up when the year is loaded."""
from __future__ import annotations

from datetime import datetime, timezone

from services.common.calendar import apply_calendar_change
from services.notices import inbox, recompute
from services.notices.models import CalendarRecompute, Notice

from .test_notices import A, B, CASE, event, units  # noqa: F401  (the fixture)

# Wed 2026-03-04 10:00 in Shanghai: due at the close of Thu 5 Mar = 2026-03-05T16:00Z
THU_CLOSE = datetime(2026, 3, 5, 16, 0, tzinfo=timezone.utc)
FRI_CLOSE = datetime(2026, 3, 6, 16, 0, tzinfo=timezone.utc)
MON_CLOSE = datetime(2026, 3, 9, 16, 0, tzinfo=timezone.utc)


def change(units, scope, days, loaded_year=None):
    """staff.calendar_changed as the service's handler applies it: the copy, then the mark."""
    with units(None if scope == "*" else scope) as uow:
        apply_calendar_change(uow.session, uow.common, {"scope": scope, "days": days, "loaded_year": loaded_year},
                              uow.now())
        uow.session.flush()
        return recompute.mark(uow, None if scope == "*" else scope)


def remind(units, township, n, holder="clerk_b"):
    with units(township) as uow:
        return [inbox.notify(uow, "cases.case_reminder", event(
            "cases.case_reminder", township, **dict(CASE, case_id=f"c{i}"), holder_person_id=holder,
            due_date="2026-03-10"))[0].id for i in range(n)]


def dues(units, township) -> dict:
    with units(township) as uow:
        return {n.id: (n.ack_due_at, n.ack_provisional) for n in uow.session.query(Notice)}


def test_a_local_holiday_moves_every_open_deadline_in_one_chunked_pass(units):
    ids = remind(units, A, 12)
    assert set(dues(units, A).values()) == {(THU_CLOSE, False)}
    for i in range(6):  # a director toggles Thursday 6 times, ending on a holiday
        change(units, A, [{"day": "2026-03-05", "working": i % 2 == 0}])
    work = recompute.Recomputer(chunk=5).settle(units)
    assert (work["passes"], work["chunks"], work["notices"], work["changed"]) == (1, 3, 12, 12)  # 5+5+2
    assert set(dues(units, A).values()) == {(FRI_CLOSE, False)}
    with units(A) as uow:
        row = uow.session.get(CalendarRecompute, A)
        assert (row.version, row.done_version, row.cursor, row.passes) == (6, 6, None, 1)
    assert recompute.Recomputer(chunk=5).settle(units)["chunks"] == 0  # nothing more to do
    # the escalation follows the new deadline: not on Friday morning (past Thursday's close) …
    units.clock.move(days=2)
    run = units.sweep_run()
    assert inbox.due_for_escalation(run) == []
    units.clock.move(days=1)  # … on Saturday, past Friday's
    assert len(inbox.due_for_escalation(run)) == len(ids)


def test_acknowledged_escalated_and_other_townships_notices_are_left_alone(units):
    acked, escalated, waiting = remind(units, A, 3)
    [other] = remind(units, B, 1, holder="b_clerk")
    with units(A) as uow:
        inbox.acknowledge(uow, acked, "clerk_b")
        uow.session.get(Notice, escalated).escalated_at = uow.now()
    change(units, A, [{"day": "2026-03-05", "working": False}])
    assert recompute.Recomputer().settle(units)["changed"] == 1
    got = dues(units, A)
    assert (got[acked][0], got[escalated][0], got[waiting][0]) == (THU_CLOSE, THU_CLOSE, FRI_CLOSE)
    assert dues(units, B)[other] == (THU_CLOSE, False)


def test_the_period_a_notice_was_given_is_kept_when_the_setting_changes(units):
    [first] = remind(units, A, 1)
    with units(A) as uow:
        from services.notices.rules import RULES

        RULES.update(uow, {"ack_working_days": 2})
    change(units, A, [{"day": "2026-03-05", "working": False}])
    recompute.Recomputer().settle(units)
    assert dues(units, A)[first] == (FRI_CLOSE, False)  # still one working day: Fri, not Mon
    [second] = remind(units, A, 1, holder="clerk_a")
    assert dues(units, A)[second] == (MON_CLOSE, False)  # two working days from Wed: Fri, Mon


def test_a_restart_resumes_at_the_saved_cursor(units):
    remind(units, A, 7)
    change(units, A, [{"day": "2026-03-05", "working": False}])
    assert recompute.Recomputer(chunk=5).chunk_of(units, A)["notices"] == 5  # ... and the process dies here
    again = recompute.Recomputer(chunk=5).settle(units)
    assert (again["notices"], again["passes"]) == (2, 0)
    assert set(dues(units, A).values()) == {(FRI_CLOSE, False)}


def test_a_provisional_due_day_firms_up_when_the_year_is_loaded(units):
    """C2: created Thu 31 Dec 2026, one working day → Fri 1 Jan 2027, a year without data:
    provisional. The operator loads 2027 (1 Jan a holiday): due the close of Mon 4 Jan, firm.
    A national change reaches every township with open deadlines."""
    units.clock.set(datetime(2026, 12, 31, 2, 0, tzinfo=timezone.utc))
    [a] = remind(units, A, 1)
    [b] = remind(units, B, 1, holder="b_clerk")
    assert dues(units, A)[a] == (datetime(2027, 1, 1, 16, 0, tzinfo=timezone.utc), True)
    assert change(units, "*", [{"day": "2027-01-01", "working": False}], loaded_year=2027) == [A, B]
    assert recompute.Recomputer().settle(units)["passes"] == 2
    firm = (datetime(2027, 1, 4, 16, 0, tzinfo=timezone.utc), False)
    assert dues(units, A)[a] == firm and dues(units, B)[b] == firm


def test_a_notice_listed_for_escalation_whose_deadline_moved_meanwhile_is_not_escalated(units):
    """The sweep lists a notice past its deadline; a holiday is declared and the recompute
    moves the deadline before the escalation claims it: no escalation, until the new one."""
    [n] = remind(units, A, 1)
    units.clock.move(days=1, hours=15)  # Fri 01:00 local: past Thursday's close
    run = units.sweep_run()
    listed = inbox.due_for_escalation(run)
    assert [i for _, i in listed] == [n]
    change(units, A, [{"day": "2026-03-05", "working": False}])
    recompute.Recomputer().settle(units)
    assert run.each("e", listed, inbox.escalate) == 0
    units.clock.move(days=1)  # Sat 01:00: past Friday's close
    assert run.each("e", inbox.due_for_escalation(run), inbox.escalate) == 1
