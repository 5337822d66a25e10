"""S6: an appeal whose decision lowers the measure below removal from the window (public
criticism or a sanction → criticism) undoes the removal: the person is back at their window and
A/B post, their tokens go stale (staff.access_changed, when they have an account) and the roster copies are told, on record."""
from __future__ import annotations

import pytest

from services.staff import accountability, organisation as org
from services.staff.models import Person, Window


def _remove_a(world):
    world.at(2025, 3, 6, 9)
    with world.uow() as uow:
        case = accountability.record_fault(uow, world.people["inspector"], world.people["a"], "fee",
                                           "serious", "乱收费", day="2025-03-06")
    assert case["measure"] == "public_criticism" and case["removed_from_window"]
    with world.uow() as uow:
        accountability.appeal(uow, world.people["a"], case["id"], "情况说明")
    return case


def _where_is_a(world):
    with world.uow() as uow:
        person = uow.session.get(Person, world.people["a"])
        window = uow.session.get(Window, world.windows["civil"])
        return person.window_id, window.a_person_id


def _told(world):
    import json
    return sum(1 for e in world.events("staff.organisation_changed")
               if (json.loads(e) if isinstance(e, str) else e).get("entity_id") == world.people["a"])


@pytest.mark.parametrize("upheld, revised, back", [
    (False, "criticism", True),          # lowered below removal: back at window 1, on the A post
    (False, "public_criticism", False),  # the same measure (still removal): stays removed
    (False, "sanction", False),          # raised: stays removed
    (True, None, False),                 # upheld: stays removed
])
def test_s6_an_appeal_lowering_the_measure_below_removal_restores_the_window(world, upheld, revised, back):
    case = _remove_a(world)
    assert _where_is_a(world) == (None, None)
    told_before = _told(world)
    world.at(2025, 3, 10, 9)
    with world.uow() as uow:
        decided = accountability.decide_appeal(uow, case["id"], upheld, revised)
    assert decided["removed_window_id"] == world.windows["civil"]
    if back:
        assert _where_is_a(world) == (world.windows["civil"], world.people["a"])
        assert decided["removed_from_window"] is False and decided["restored_at"]
        assert _told(world) == told_before + 1           # the roster copies see the return
        with world.uow() as uow:
            assert "A" in [r["name"] for r in org.staff_on_duty(uow)]   # back on the public list (T1)
    else:
        assert _where_is_a(world) == (None, None) and decided["restored_at"] is None
        assert _told(world) == told_before


def test_s6_no_restore_when_placed_elsewhere_meanwhile(world):
    case = _remove_a(world)
    with world.uow() as uow:
        org.update_person(uow, world.people["a"], window_id=world.windows["health"])
    with world.uow() as uow:
        decided = accountability.decide_appeal(uow, case["id"], False, "criticism")
    assert decided["restored_at"] is None
    with world.uow() as uow:
        assert uow.session.get(Person, world.people["a"]).window_id == world.windows["health"]
