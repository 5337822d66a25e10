"""N1 escalation beyond the director: who is told when a notice is not acknowledged in time,
when its reader is the director (or a director is its only reader), once per notice even when
two instances sweep; the director's view shows whom each escalation reached."""
from __future__ import annotations

import pytest

from services.notices import inbox, orgcopy
from services.notices.models import Notice

from .test_notices import A, CASE, event, units  # noqa: F401  (the fixture)

LEADERSHIP = dict(complaint_id="k1", number="TS-1", kind="complaint", reason="major_complaint")
BOTH_AWAY = dict(window_id="w1", person_ids=["clerk_a", "clerk_b"], open_cases=3)


def sweep_twice(units):
    """Two instances that read the same due list: each notice escalated once between them."""
    run = units.sweep_run()
    items = inbox.due_for_escalation(run)
    return run.each("e", items, inbox.escalate) + run.each("e", items, inbox.escalate)


def escalations(units) -> dict[str, set[str]]:
    """{reader of the original notice: {people it was escalated to}}"""
    with units(A) as uow:
        by_id = {n.id: n for n in uow.session.query(Notice)}
        out: dict[str, set[str]] = {}
        for n in by_id.values():
            if n.escalation_of:
                out.setdefault(by_id[n.escalation_of].person_id, set()).add(n.person_id)
        return out


@pytest.mark.parametrize("event_type,fields,expected", [
    # a clerk's notice → the director (N1)
    ("cases.case_reminder", dict(CASE, holder_person_id="clerk_b", due_date="2026-03-05"), {"clerk_b": {"dir"}}),
    # the director is the only reader (C7): the director's notice → the deputy director
    ("cases.handler_unavailable", BOTH_AWAY, {"dir": {"dep"}}),
    ("cases.immediate_target_missed", dict(CASE, holder_person_id="clerk_a", target_at="2026-03-04T02:00:00+00:00"),
     {"dir": {"dep"}}),
    # director and deputy both asked (P3): each one's silence reaches the other
    ("complaints.leadership_alerted", LEADERSHIP, {"dir": {"dep"}, "dep": {"dir"}}),
])
def test_who_is_told_when_a_notice_is_not_acknowledged_in_time(units, event_type, fields, expected):
    with units(A) as uow:
        made = inbox.notify(uow, event_type, event(event_type, **fields))
    units.clock.move(days=2)
    assert sweep_twice(units) == len(made)  # one escalation per notice
    assert escalations(units) == expected
    assert sweep_twice(units) == 0  # escalations are not escalated again


def test_a_sole_leader_s_unacknowledged_notice_is_recorded_as_escalated_to_nobody(units):
    """N1: no director or deputy but the reader: the escalation is recorded once (escalated_at),
    shown in the director's view with nobody to tell; it stays overdue (the operator's alert)."""
    with units(A) as uow:
        orgcopy.upsert_person(uow, "dep", {"name": "副主任", "roles": ["deputy_director"], "active": False})
        [n] = inbox.notify(uow, "cases.handler_unavailable", event("cases.handler_unavailable", **BOTH_AWAY))
    units.clock.move(days=2)
    assert sweep_twice(units) == 1
    assert escalations(units) == {}
    with units(A) as uow:
        [row] = inbox.pending(uow, overdue_only=True)
        assert inbox.overdue_counts(uow) == [(A, 1)]
    assert (row["id"], row["overdue"], row["escalated_to"]) == (n.id, True, [])
    assert row["escalated_at"] is not None


def test_the_director_s_view_names_whom_each_escalation_reached(units):
    with units(A) as uow:
        inbox.notify(uow, "cases.case_reminder", event("cases.case_reminder", **CASE, holder_person_id="clerk_b",
                                                       due_date="2026-03-05"))
    units.clock.move(days=2)
    sweep_twice(units)
    with units(A) as uow:
        rows = {r["person_id"]: r for r in inbox.pending(uow)}
    assert [(t["person_id"], t["person_name"], t["acked_at"]) for t in rows["clerk_b"]["escalated_to"]] == [
        ("dir", "姓名dir", None)]
    assert rows["dir"]["escalation_of"] and rows["dir"]["escalated_to"] == []  # the escalation itself: not yet due
