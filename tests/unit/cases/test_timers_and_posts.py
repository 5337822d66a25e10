"""Timer sweeps with a moved clock (C5 reminders and overdue once, C6 tacit approval, I5
escalation silence, C2 nothing irreversible on a provisional deadline) and A/B posts (C7)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.cases import lifecycle, posts, timers
from services.cases.rules import RULES
from services.common import events
from services.common.errors import Conflict

from .helpers import T1, World, at


@pytest.fixture
def w():
    world = World(at(2025, 1, 24, 10))  # Fri; a 3-day case is due Wed 5 Feb 2025
    world.org(T1)
    return world


def staff_event(event_type, **fields):
    body = events.build(event_type, T1, datetime.now(timezone.utc), **fields)
    return events.parse(event_type, body)


def test_reminder_goes_out_once_on_the_last_working_day_before(w):
    case_id = w.accept(days=3)
    w.move_to(at(2025, 1, 26, 9))  # Sun (make-up day): 27 Jan and 5 Feb left → not yet
    assert timers.sweep_reminders(w.sweep_run()) == 0
    w.move_to(at(2025, 1, 27, 9))  # Mon: Spring Festival follows, only 5 Feb is left
    assert timers.sweep_reminders(w.sweep_run()) == 1
    assert timers.sweep_reminders(w.sweep_run()) == 0  # once per deadline
    reminder = w.events("cases.case_reminder", case_id=case_id)
    assert len(reminder) == 1 and reminder[0]["holder_person_id"] == "clerk-a"
    # an extension gives the new deadline its own reminder
    w.do(lifecycle.extend, case_id, "boss", ["director"], 1, "现场核查")
    w.move_to(at(2025, 2, 5, 9))
    assert timers.sweep_reminders(w.sweep_run()) == 1


def test_overdue_exactly_once_even_when_swept_twice(w):
    case_id = w.accept(days=3)
    w.move_to(at(2025, 2, 5, 23, 59))  # the whole due day is in time
    assert timers.sweep_overdue(w.sweep_run()) == 0
    w.move_to(at(2025, 2, 6, 0, 1))
    assert timers.sweep_overdue(w.sweep_run()) == 1
    assert timers.sweep_overdue(w.sweep_run()) == 0
    assert timers.sweep(w.sweep_run())["overdue"] == 0
    overdue = w.events("cases.case_overdue")
    assert len(overdue) == 1 and overdue[0]["handler_person_id"] == "clerk-a"
    assert overdue[0]["due_date"] == "2025-02-05"
    # a late decision does not count it again
    w.do(lifecycle.review, case_id, "clerk-a", ["clerk"], "approve")
    w.do(lifecycle.decide, case_id, "head", ["section_head"], "approved")
    assert len(w.events("cases.case_overdue")) == 1


def test_a_decision_after_the_due_date_counts_overdue_even_before_a_sweep(w):
    case_id = w.accept(days=3)
    w.move_to(at(2025, 2, 7, 9))
    w.do(lifecycle.review, case_id, "clerk-a", ["clerk"], "approve")
    w.do(lifecycle.decide, case_id, "head", ["section_head"], "approved")
    assert [e["case_id"] for e in w.events("cases.case_overdue")] == [case_id]
    assert timers.sweep_overdue(w.sweep_run()) == 0


def test_overdue_counts_against_whoever_held_the_case_on_the_due_date(w):
    case_id = w.accept(days=3)
    w.move_to(at(2025, 2, 5, 8))  # A goes on leave on the due day: B holds it
    w.do(posts.record_leave, staff_event("staff.leave_approved", leave_id="L1", person_id="clerk-a",
                                         starts_at=at(2025, 2, 5, 8).isoformat(), ends_at=at(2025, 2, 6, 18).isoformat()))
    assert w.case(case_id)["holder_person_id"] == "clerk-b"
    w.move_to(at(2025, 2, 7, 9))  # A is back before the sweep runs
    w.do(posts.record_return, staff_event("staff.returned", person_id="clerk-a", leave_id="L1",
                                          returned_at=at(2025, 2, 7, 8).isoformat()))
    assert w.case(case_id)["holder_person_id"] == "clerk-a"
    timers.sweep_overdue(w.sweep_run())
    assert w.events("cases.case_overdue")[0]["handler_person_id"] == "clerk-b"


@pytest.mark.parametrize("switch, item, kind, approved", [
    (True, True, "promised", True),
    (False, True, "promised", False),  # default off (C6)
    (True, False, "promised", False),  # the item opts out
    (True, True, "joint", False),  # promised cases only (setting tacit_approval_kinds)
])
def test_tacit_approval_only_where_switch_and_item_allow(w, switch, item, kind, approved):
    if switch:
        w.do(RULES.update, {"tacit_approval_enabled": True})
    case_id = w.accept(kind=kind, days=3, tacit_approval=item, departments=["a", "b"])
    w.move_to(at(2025, 2, 6, 9))
    result = timers.sweep(w.sweep_run())
    assert result["overdue"] == 1  # tacitly approved or not, it is overdue for its handler (C5)
    case = w.case(case_id)
    assert (case["outcome"] == "tacitly_approved") is approved
    assert len(w.events("cases.case_tacitly_approved")) == int(approved)
    if approved:
        assert case["state"] == "decided" and timers.sweep(w.sweep_run())["tacit"] == 0
        assert w.events("cases.case_transitioned", case_id=case_id)[-1]["outcome"] == "tacitly_approved"


def test_nothing_irreversible_on_a_provisional_deadline(w):
    w.do(RULES.update, {"tacit_approval_enabled": True})
    w.move_to(at(2026, 12, 28, 9))
    case_id = w.accept(days=4, tacit_approval=True)  # due 2027-01-01, provisional
    w.move_to(at(2026, 12, 31, 9))
    assert timers.sweep_reminders(w.sweep_run()) == 1  # reminders may go out (C2)
    w.move_to(at(2027, 1, 8, 9))
    result = timers.sweep(w.sweep_run())
    assert result["overdue"] == 0 and result["tacit"] == 0
    assert w.case(case_id)["state"] == "in_review"


def test_escalation_silence_is_flagged_once_after_15_calendar_days_with_roll_over(w):
    w.move_to(at(2025, 9, 19, 10))  # forwarded Fri 19 Sep 2025; +15 calendar days = 4 Oct (holiday)
    case_id = w.accept(kind="escalated", days=3)
    assert timers.sweep_escalation_silence(w.sweep_run()) == 0  # not forwarded: no silence from above yet
    w.do(lifecycle.forward, case_id, "clerk-a")
    w.move_to(at(2025, 10, 8, 10))  # 5 Oct rolls over to Thu 9 Oct (Art. 203): not yet
    assert timers.sweep_escalation_silence(w.sweep_run()) == 0
    w.move_to(at(2025, 10, 10, 10))
    assert timers.sweep_escalation_silence(w.sweep_run()) == 1
    assert timers.sweep_escalation_silence(w.sweep_run()) == 0
    assert w.events("cases.escalation_silent")[0]["silent_since"] == "2025-10-09"
    out = w.do(lifecycle.explain_silence, case_id, "clerk-a", "县局正在会商")
    assert out["silence_explanation"] == "县局正在会商"


# -- C7 -------------------------------------------------------------------------------------------

def test_leave_moves_open_cases_to_b_and_back_on_return(w):
    first, second = w.accept(), w.accept()
    done = w.accept()
    w.do(lifecycle.review, done, "clerk-a", ["clerk"], "approve")
    w.do(lifecycle.decide, done, "head", ["section_head"], "approved")
    # planned leave from Monday: nothing moves before it starts
    w.do(posts.record_leave, staff_event("staff.leave_approved", leave_id="L9", person_id="clerk-a",
                                         starts_at=at(2025, 1, 27, 8).isoformat(), ends_at=at(2025, 1, 27, 18).isoformat()))
    assert w.case(first)["holder_person_id"] == "clerk-a"
    w.move_to(at(2025, 1, 27, 8, 30))
    assert timers.sweep_absences(w.sweep_run()) == 2 and timers.sweep_absences(w.sweep_run()) == 0
    assert {w.case(c)["holder_person_id"] for c in (first, second)} == {"clerk-b"}
    assert w.case(done)["holder_person_id"] == "clerk-a"  # decided cases stay
    moved = w.events("cases.case_reassigned")
    assert len(moved) == 2 and all(e["to_person_id"] == "clerk-b" for e in moved)
    new = w.accept()  # accepted by A while away: B holds it
    assert w.case(new)["holder_person_id"] == "clerk-b"
    w.do(posts.record_return, staff_event("staff.returned", person_id="clerk-a", leave_id="L9",
                                          returned_at=at(2025, 1, 28, 8).isoformat()))
    assert {w.case(c)["holder_person_id"] for c in (first, second, new)} == {"clerk-a"}
    trail = w.case(first)["trail"]
    assert [t["holder_person_id"] for t in trail if t["action"] == "reassigned"] == ["clerk-b", "clerk-a"]


def test_both_posts_away_alerts_the_director(w):
    case_id = w.accept()
    w.do(posts.record_absence, staff_event("staff.absence_recorded", person_id="clerk-b", day="2025-01-24", half="day"))
    w.do(posts.record_leave, staff_event("staff.leave_approved", leave_id="L2", person_id="clerk-a",
                                         starts_at=at(2025, 1, 24, 9).isoformat(), ends_at=at(2025, 1, 24, 18).isoformat()))
    alert = w.events("cases.handler_unavailable")
    assert len(alert) == 1 and set(alert[0]["person_ids"]) == {"clerk-a", "clerk-b"}
    assert alert[0]["director_person_ids"] == ["boss"] and alert[0]["open_cases"] == 1
    assert w.case(case_id)["holder_person_id"] == "clerk-a"
    # B's absence ends with the day: the sweep brings B back (nothing of B's to return)
    w.move_to(at(2025, 1, 25, 9))
    timers.sweep_absences(w.sweep_run())
    with w() as uow:
        assert not posts.is_away(uow, "clerk-b") and posts.is_away(uow, "clerk-a")


# -- I5 escalated: only late forwarding is overdue --------------------------------------------

@pytest.mark.parametrize("forward_at, sweep_at, overdue", [
    (None, at(2025, 1, 27, 23), False),              # accepted Fri 24 Jan; promise: forward by Wed 5 Feb
    (None, at(2025, 2, 5, 23), False),               # the whole promise day is in time
    (None, at(2025, 2, 6, 9), True),                 # not forwarded by its promise: overdue (C5)
    (at(2025, 2, 5, 16), at(2025, 3, 31, 9), False),  # forwarded on time, the county silent for weeks
    (at(2025, 1, 24, 11), at(2025, 6, 30, 9), False),
    (at(2025, 2, 7, 9), at(2025, 2, 7, 9), True),    # forwarded late: counted once, at forwarding
])
def test_an_escalated_case_is_overdue_only_for_late_forwarding(w, forward_at, sweep_at, overdue):
    case_id = w.accept(kind="escalated", days=3)
    assert w.case(case_id)["due_date"] == "2025-02-05" and w.case(case_id)["forwarded"] is False
    if forward_at:
        w.move_to(forward_at)
        rec = w.do(lifecycle.forward, case_id, "clerk-a", "已报县民政局")
        assert rec["forwarded"] is True and rec["escalated_on"] == forward_at.date().isoformat()
        with pytest.raises(Conflict, match="already forwarded"):
            w.do(lifecycle.forward, case_id, "clerk-a")
    w.move_to(sweep_at)
    timers.sweep(w.sweep_run())
    timers.sweep(w.sweep_run())
    assert w.case(case_id)["overdue"] is overdue
    assert len(w.events("cases.case_overdue", case_id=case_id)) == (1 if overdue else 0)
    if forward_at:  # the county answers at last; the decision after months counts nothing more
        w.do(lifecycle.record_upper_answer, case_id, "clerk-a", "县局同意")
        w.do(lifecycle.review, case_id, "clerk-a", ["clerk"], "approve")
        w.do(lifecycle.decide, case_id, "head", ["section_head"], "approved")
        assert len(w.events("cases.case_overdue", case_id=case_id)) == (1 if overdue else 0)


def test_the_upper_answer_needs_the_case_forwarded_first(w):
    case_id = w.accept(kind="escalated", days=3)
    with pytest.raises(Conflict, match="not been forwarded"):
        w.do(lifecycle.record_upper_answer, case_id, "clerk-a", "县局同意")


# -- I5 immediate: flagged past its target ------------------------------------------------------

@pytest.mark.parametrize("minutes_later, flagged", [(29, False), (30, False), (31, True), (240, True)])
def test_an_immediate_case_open_past_its_target_is_flagged_once_for_the_director(w, minutes_later, flagged):
    case_id = w.accept(kind="immediate", days=0)   # Fri 24 Jan 2025 10:00, target 10:30
    w.clock.move(minutes=minutes_later)
    assert timers.sweep_immediate_targets(w.sweep_run()) == (1 if flagged else 0)
    assert timers.sweep_immediate_targets(w.sweep_run()) == 0
    missed = w.events("cases.immediate_target_missed", case_id=case_id)
    assert len(missed) == (1 if flagged else 0)
    if flagged:
        assert missed[0]["director_person_ids"] == ["boss"]
    with w() as uow:
        listed = [c["id"] for c in lifecycle.list_cases(uow, past_target=True)]
    assert (case_id in listed) is flagged and w.case(case_id)["target_missed"] is flagged
    assert w.case(case_id)["overdue"] is False  # not overdue: the due day is today (C5)


def test_a_decided_immediate_case_is_not_flagged(w):
    case_id = w.accept(kind="immediate", days=0)
    w.do(lifecycle.review, case_id, "clerk-a", ["clerk"], "approve")
    w.do(lifecycle.decide, case_id, "head", ["section_head"], "approved")
    w.clock.move(hours=2)
    assert timers.sweep_immediate_targets(w.sweep_run()) == 0


# -- S6 removal from the window -------------------------------------------------------------------

def _removed(w, person="clerk-a", partner="clerk-b"):
    body = events.build("staff.removed_from_window", T1, w.clock.now(), person_id=person, window_id="w1",
                        partner_person_id=partner, director_person_ids=["boss"], fault_id="f1")
    with w() as uow:
        return posts.record_removal(uow, events.parse("staff.removed_from_window", body))


def test_a_removed_clerk_hands_every_open_case_to_the_other_post_at_once_and_gets_no_new_ones(w):
    open_ids = [w.accept(days=3) for _ in range(2)]
    assert _removed(w) == {"moved": 2}
    for case_id in open_ids:
        assert w.case(case_id)["holder_person_id"] == "clerk-b"
    assert {e["to_person_id"] for e in w.events("cases.case_reassigned")} == {"clerk-b"}
    # staff's copy: A leaves the window and its post
    with w() as uow:
        posts.apply_org_change(uow, {"entity": "window", "entity_id": "w1", "action": "updated", "township_id": T1,
                                     "data": {"id": "w1", "number": 1, "a_person_id": None, "b_person_id": "clerk-b"}})
    new = w.accept(days=3)  # an application A still received: B holds it
    assert w.case(new)["holder_person_id"] == "clerk-b"
    # a return from some leave does not bring anything back to a removed clerk
    body = events.build("staff.returned", T1, w.clock.now(), person_id="clerk-a",
                        returned_at=w.clock.now().isoformat())
    with w() as uow:
        assert posts.record_return(uow, events.parse("staff.returned", body)) == {"returned": 0}
    assert w.case(open_ids[0])["holder_person_id"] == "clerk-b"


def test_a_removal_with_nobody_on_the_other_post_alerts_the_director(w):
    with w() as uow:  # the window has no B post
        posts.apply_org_change(uow, {"entity": "window", "entity_id": "w1", "action": "updated", "township_id": T1,
                                     "data": {"id": "w1", "number": 1, "a_person_id": "clerk-a", "b_person_id": None}})
    w.accept(days=3)
    assert _removed(w, partner=None) == {"moved": 0}
    [alert] = w.events("cases.handler_unavailable")
    assert alert["director_person_ids"] == ["boss"] and alert["open_cases"] == 1
