"""C8 统一收费 (seed 004): one window of a township's organisation is the fee window; marking
one unmarks the one before, and each change is announced (cases keeps the copy it checks)."""
from __future__ import annotations

import pytest

from services.common.errors import NotFound
from services.staff import organisation as org

@pytest.mark.parametrize("marks, expected", [
    ([], []),                          # none marked: cases refuses every fee until one is
    (["civil"], [1]),
    (["civil", "health"], [2]),        # C8: one fee window; the one before is unmarked
    (["health", "health"], [2]),
])
def test_c8_one_fee_window_per_township(world, marks, expected):
    for key in marks:
        with world.uow() as uow:
            out = org.set_fee_window(uow, world.windows[key])
            assert out["fee_window"] is True
    with world.uow() as uow:
        assert sorted(w["number"] for w in org.list_windows(uow) if w["fee_window"]) == expected
    announced = [e for e in world.events("staff.organisation_changed") if e["entity"] == "window"]
    assert all("fee_window" in e["data"] for e in announced)
    if len(marks) == 2 and marks[0] != marks[1]:  # the unmarked window is announced too
        assert announced[-2]["entity_id"] == world.windows[marks[0]] and announced[-2]["data"]["fee_window"] is False

def test_c8_a_window_created_as_the_fee_window(world):
    with world.uow() as uow:
        org.set_fee_window(uow, world.windows["civil"])
        made = org.create_window(uow, 7, "收费窗口", None, fee_window=True)
        assert made["fee_window"] is True
        assert [w["number"] for w in org.list_windows(uow) if w["fee_window"]] == [7]

def test_c8_another_townships_window_is_not_found(world):
    with world.uow(None) as uow:
        other = org.create_township(uow, "qs2", "白云镇", {"name": "李主任"})
    with world.uow(other["township"]["id"]) as uow:
        with pytest.raises(NotFound):
            org.set_fee_window(uow, world.windows["civil"])
