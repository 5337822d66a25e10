"""T1 statistics from real case lifecycles (issue 14, Must show 1): a month with known cases —
on time, late, tacitly approved, rated, across the month's edges in local time — gives figures
equal to the hand-computed ones, and another township's cases are never counted."""
from __future__ import annotations

import pytest

from services.cases import lifecycle, posts, ratings, statistics, timers
from services.cases.rules import RULES
from services.common.errors import ValidationFailed

from .helpers import T1, T2, World, at

HEAD = ["section_head"]


def org(w, township, windows, people):
    with w(township) as uow:
        posts.apply_org_change(uow, {"entity": "township", "entity_id": township, "action": "created",
                                     "township_id": township, "data": {"timezone": "Asia/Shanghai"}})
        for ident, number, name in windows:
            posts.apply_org_change(uow, {"entity": "window", "entity_id": ident, "action": "created",
                                         "township_id": township, "data": {"number": number, "name": name}})
        for ident, window, roles in people:
            posts.apply_org_change(uow, {"entity": "person", "entity_id": ident, "action": "created",
                                         "township_id": township, "data": {"window_id": window, "roles": roles}})


class Month:
    """Moves the clock through March 2025 (Shanghai) doing what the hall does."""

    def __init__(self):
        self.w = World(at(2025, 2, 28, 10))
        org(self.w, T1, [("w1", 1, "民政"), ("w2", 2, "社保"), ("w3", 3, "国土")],
            [("clerk-a", "w1", ["clerk"]), ("clerk-d", "w2", ["clerk"]), ("head", None, ["section_head"])])
        org(self.w, T2, [("w9", 1, "民政")], [("t2-a", "w9", ["clerk"]), ("t2-head", None, ["section_head"])])
        self.ids: dict[str, str] = {}

    def at(self, *when):
        self.w.move_to(at(*when))

    def accept(self, name, window, clerk, kind="promised", days=3, township=T1, **extra):
        self.ids[name] = self.w.accept(township_id=township, kind=kind, days=days, window_id=window,
                                       handler=clerk, application_id=f"app-{name}", receipt_no=f"R-{name}",
                                       **extra)

    def decide_and_deliver(self, name, clerk, head="head", township=T1):
        cid = self.ids[name]
        self.w.do(lifecycle.review, cid, clerk, ["clerk"], "approve", township_id=township)
        self.w.do(lifecycle.decide, cid, head, HEAD, "approved", township_id=township)
        self.w.do(lifecycle.deliver, cid, clerk, township_id=township)

    def deliver(self, name, clerk):
        self.w.do(lifecycle.deliver, self.ids[name], clerk)

    def rate(self, name, stars, township=T1):
        self.w.do(ratings.rate, stars, case_id=self.ids[name], township_id=township)

    def sweep(self):
        return timers.sweep(self.w.sweep_run())


@pytest.fixture(scope="module")
def march():
    m = Month()
    m.w.do(RULES.update, {"tacit_approval_enabled": True})  # C6 on in T1 (off by default)
    # F: accepted in February (due Wed 5 Mar), delivered Mon 3 Mar: completed in March, on time, 1 day
    m.accept("F", "w1", "clerk-a")
    # A, C: accepted Mon 3 Mar, 3 working days → due Thu 6 Mar
    m.at(2025, 3, 3, 10)
    m.accept("A", "w1", "clerk-a")
    m.accept("C", "w1", "clerk-a")
    m.at(2025, 3, 3, 11)
    m.decide_and_deliver("F", "clerk-a")
    # the other township, same days: on time, and a late one with a low rating
    m.accept("X", "w9", "t2-a", township=T2)
    m.accept("Y", "w9", "t2-a", township=T2)
    # B: an immediate case decided on the spot (due the same day, 0 working days), rated 4
    m.at(2025, 3, 4, 9)
    m.accept("B", "w1", "clerk-a", kind="immediate", days=0)
    m.at(2025, 3, 4, 9, 20)
    m.decide_and_deliver("B", "clerk-a")
    m.decide_and_deliver("X", "t2-a", head="t2-head", township=T2)
    m.at(2025, 3, 4, 9, 30)
    m.rate("B", 4)
    m.rate("X", 1, township=T2)
    # A: decided and delivered Wed 5 Mar (2 working days), rated 5 the next day; F rated 5
    m.at(2025, 3, 5, 15)
    m.decide_and_deliver("A", "clerk-a")
    m.rate("F", 5)
    m.at(2025, 3, 6, 10)
    m.rate("A", 5)
    # C: undecided after Thu 6 Mar → overdue on Fri 7 Mar (C5); delivered Mon 10 Mar (5 days), rated 2
    m.at(2025, 3, 7, 9)
    assert m.sweep()["overdue"] == 2  # C in T1, Y in T2
    m.at(2025, 3, 10, 10)
    m.decide_and_deliver("C", "clerk-a")
    m.rate("C", 2)
    m.decide_and_deliver("Y", "t2-a", head="t2-head", township=T2)
    # D: window 2, 2 days, tacit approval allowed → due Wed 12 Mar, tacitly approved Thu 13 Mar (C6,
    # still overdue), delivered Fri 14 Mar (4 days), rated 3
    m.accept("D", "w2", "clerk-d", days=2, tacit_approval=True)
    m.at(2025, 3, 13, 9)
    assert m.sweep()["tacit"] == 1
    m.at(2025, 3, 14, 10)
    m.deliver("D", "clerk-d")
    m.rate("D", 3)
    # I: window 2, accepted Mon 17 Mar, delivered Tue 18 Mar (1 day), rated in April (not March's)
    m.at(2025, 3, 17, 10)
    m.accept("I", "w2", "clerk-d")
    m.at(2025, 3, 18, 10)
    m.decide_and_deliver("I", "clerk-d")
    # E: window 2, accepted Tue 25 Mar, still open at the month's end
    m.at(2025, 3, 25, 10)
    m.accept("E", "w2", "clerk-d")
    # G: 23:30 on 31 Mar in Shanghai is March; H: 00:30 on 1 Apr in Shanghai (16:30 UTC on 31 Mar) is not
    m.at(2025, 3, 31, 23, 30)
    m.accept("G", "w1", "clerk-a")
    m.at(2025, 4, 1, 0, 30)
    m.accept("H", "w1", "clerk-a")
    m.at(2025, 4, 1, 9)
    m.rate("I", 5)
    return m


# Hand-computed from the story above.
#   w1: received A B C G (F in Feb, H in Apr) = 4; completed F A B C = 4, on time F A B, late C;
#       working days F 1, A 2, B 0, C 5 → 8/4 = 2.0; rated B4 F5 A5 C2 → 3 of 4 satisfied.
#   w2: received D I E = 3; completed D (late, tacit) I (on time); days D 4, I 1 → 2.5;
#       rated D3 only (I was rated in April) → 0 of 1 satisfied.
#   w3: nothing.  Township: the sum; 13 working days / 6 = 2.17; on time 4/6 = 0.6667.
EXPECTED = {
    "township": dict(received=7, completed=6, on_time=4, late=2, tacit_approved=1, rated=5, satisfied=3,
                     on_time_rate=0.6667, avg_working_days=2.17, satisfaction=0.6),
    "w1": dict(received=4, completed=4, on_time=3, late=1, tacit_approved=0, rated=4, satisfied=3,
               on_time_rate=0.75, avg_working_days=2.0, satisfaction=0.75),
    "w2": dict(received=3, completed=2, on_time=1, late=1, tacit_approved=1, rated=1, satisfied=0,
               on_time_rate=0.5, avg_working_days=2.5, satisfaction=0.0),
    "w3": dict(received=0, completed=0, on_time=0, late=0, tacit_approved=0, rated=0, satisfied=0,
               on_time_rate=None, avg_working_days=None, satisfaction=None),
    "clerk-a": "w1",
    "clerk-d": "w2",
}


def march_figures(m, township=T1, **kwargs):
    return m.w.do(statistics.statistics, "2025-03", township_id=township, **kwargs)


@pytest.mark.parametrize("group", ["township", "w1", "w2", "w3", "clerk-a", "clerk-d"])
def test_march_figures_equal_the_hand_computed_ones(march, group):
    result = march_figures(march, per_person=True)
    if group == "township":
        got, want = result["township"], EXPECTED["township"]
    elif group.startswith("w"):
        got = next(w for w in result["windows"] if w["window_id"] == group)
        want = EXPECTED[group]
    else:  # a person's figures: every case of this story is handled by its window's A clerk
        got = next(p for p in result["people"] if p["person_id"] == group)
        want = EXPECTED[EXPECTED[group]]
    assert {k: got[k] for k in want} == want


def test_windows_are_listed_by_number_with_names_and_no_people_unless_asked(march):
    result = march_figures(march)
    assert [(w["number"], w["name"]) for w in result["windows"]] == [(1, "民政"), (2, "社保"), (3, "国土")]
    assert "people" not in result
    assert (result["month"], result["from"], result["to"]) == ("2025-03", "2025-03-01", "2025-03-31")


def test_another_townships_cases_are_never_counted(march):
    t1 = march_figures(march, per_person=True)
    assert "w9" not in {w["window_id"] for w in t1["windows"]}
    assert "t2-a" not in {p["person_id"] for p in t1["people"]}
    # T2 counted on its own: X on time and rated 1, Y late
    t2 = march_figures(march, township=T2)
    assert {k: t2["township"][k] for k in ("received", "completed", "on_time", "late", "rated", "satisfied")} == \
        dict(received=2, completed=2, on_time=1, late=1, rated=1, satisfied=0)
    assert [w["window_id"] for w in t2["windows"]] == ["w9"]


@pytest.mark.parametrize("day, received, completed, on_time", [
    ("2025-03-03", 2, 1, 1),   # A and C accepted; F delivered
    ("2025-03-10", 1, 1, 0),   # D accepted; C delivered late
    ("2025-03-31", 1, 0, 0),   # G at 23:30 local
    ("2025-04-01", 1, 0, 0),   # H at 00:30 local
    ("2025-03-08", 0, 0, 0),   # a Saturday
])
def test_a_days_figures(march, day, received, completed, on_time):
    t = march.w.do(statistics.statistics, None, day)["township"]
    assert (t["received"], t["completed"], t["on_time"]) == (received, completed, on_time)


def test_today_and_this_month_follow_the_local_clock(march):
    march.at(2025, 3, 10, 12)
    try:
        assert march.w.do(statistics.statistics, None, "today")["day"] == "2025-03-10"
        assert march.w.do(statistics.statistics)["month"] == "2025-03"
    finally:
        march.at(2025, 4, 1, 9)


@pytest.mark.parametrize("month, day, field", [
    ("2025-13", None, "month"), ("March", None, "month"), ("1999-12", None, "month"),
    (None, "yesterday", "day"), (None, "2025-02-30", "day"), ("2025-03", "2025-03-01", "day"),
])
def test_a_bad_period_is_refused_naming_the_field(march, month, day, field):
    with pytest.raises(ValidationFailed) as err:
        march.w.do(statistics.statistics, month, day)
    assert field in err.value.details
