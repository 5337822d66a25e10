"""N1 for P5 (leader on duty) and P7 (forwarding) without a broker: each event from complaints
reaches the right people's inboxes of its township — who must acknowledge — and nobody else;
people of another township never, even when an event names them."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.common import events
from services.common.clock import FrozenClock
from services.notices import inbox, orgcopy
from services.notices.models import Base, Notice
from services.notices.routing import ROUTES, named_people
from tests.support.units import UnitsOfWork

A, B = "town-a", "town-b"
NOW = datetime(2026, 3, 4, 2, 0, tzinfo=timezone.utc)  # Wed 10:00 in Shanghai

PEOPLE = {  # id: (township, roles)
    "dir": (A, ["director"]), "dep": (A, ["deputy_director"]), "officer": (A, ["complaint_officer"]),
    "head": (A, ["section_head"]), "clerk": (A, ["clerk"]), "guard": (A, ["guard"]),
    "gone": (A, ["director", "complaint_officer", "section_head"]),  # deactivated: told nothing
    "b_dir": (B, ["director"]), "b_dep": (B, ["deputy_director"]), "b_officer": (B, ["complaint_officer"]),
    "b_head": (B, ["section_head"]),
}


@pytest.fixture
def units():
    u = UnitsOfWork(Base, "notices", FrozenClock(NOW))
    for township in (A, B):
        with u(township) as uow:
            for pid, (t, roles) in PEOPLE.items():
                if t == township:
                    orgcopy.upsert_person(uow, pid, {"name": "姓名" + pid, "roles": roles, "active": pid != "gone"})
    return u


def event(event_type, township=A, **fields):
    return events.parse(event_type, events.build(event_type, township, NOW, **fields))


K = dict(complaint_id="k1", number="TS20260304-ABC123")
F = dict(K, forwarding_id="f1", department_id="d1")
# (event, fields, {person: must acknowledge})
TABLE = [
    # P5: next month's roster unpublished — who publishes it must act
    ("complaints.duty_roster_missing", dict(month="2026-04", deadline="2026-03-31", stage="reminder"),
     {"dir": True, "dep": True, "officer": True}),
    ("complaints.duty_roster_missing", dict(month="2026-03", deadline="2026-02-28", stage="overdue"),
     {"dir": True, "dep": True, "officer": True}),
    # P5: a reception booked to the leader on duty
    ("complaints.reception_booked", dict(K, leader_person_id="dep", day="2026-03-05", persons=3), {"dep": True}),
    ("complaints.reception_booked", dict(K, leader_person_id="b_dep", day="2026-03-05"), {}),
    # P7: forwarded to the department's people; another township's named never; none known → the office
    ("complaints.complaint_forwarded", dict(F, department_person_ids=["head", "b_head", "gone"], due_date="2026-03-11"),
     {"head": True}),
    ("complaints.complaint_forwarded", dict(F, department_person_ids=[], due_date="2026-03-11"), {"officer": True}),
    ("complaints.forwarding_answered", dict(F), {"officer": True}),
    ("complaints.forwarding_overdue", dict(F, department_person_ids=["head", "clerk"], due_date="2026-03-11"),
     {"head": True, "clerk": True, "officer": False}),
]


@pytest.mark.parametrize("event_type,fields,expected", TABLE, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(TABLE)])
def test_p5_p7_events_reach_their_people_and_nobody_else(units, event_type, fields, expected):
    assert event_type in ROUTES
    with units(A) as uow:
        made = inbox.notify(uow, event_type, event(event_type, **fields))
    assert {n.person_id: n.needs_ack for n in made} == expected
    assert all(n.rule in ("P5", "P7") for n in made)
    with units(B) as uow:  # another township's inboxes stay empty
        assert uow.session.query(Notice).count() == 0


def test_the_same_event_in_township_b_reaches_bs_people_only(units):
    with units(B) as uow:
        made = inbox.notify(uow, "complaints.duty_roster_missing", event(
            "complaints.duty_roster_missing", B, month="2026-04", deadline="2026-03-31", stage="reminder"))
    assert {n.person_id for n in made} == {"b_dir", "b_dep", "b_officer"}
    with units(A) as uow:
        assert uow.session.query(Notice).count() == 0


def test_the_people_an_event_names_are_known_before_recipients_are_chosen():
    """staffdir: the leader booked and the department's people are looked up if the copy lacks them."""
    assert set(named_people({"leader_person_id": "p1", "department_person_ids": ["p2", "p3"]})) == {"p1", "p2", "p3"}
    assert named_people({"department_person_ids": "p2"}) == []


def test_a_notice_names_no_complainant():
    """Events carry ids, numbers and dates only; the text is cleaned of anything phone- or ID-shaped."""
    u = UnitsOfWork(Base, "notices", FrozenClock(NOW))
    with u(A) as uow:
        orgcopy.upsert_person(uow, "officer", {"name": "x", "roles": ["complaint_officer"]})
        made = inbox.notify(uow, "complaints.forwarding_answered", event(
            "complaints.forwarding_answered", forwarding_id="f1", complaint_id="k1", department_id="d1",
            number="13912345678"))
    assert "13912345678" not in made[0].title + made[0].body
