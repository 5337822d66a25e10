"""The case lifecycle on a real unit of work (SQLite in memory): C1 transitions with an audit
trail and events, C3 extension, C4 two people, joint and escalated cases (I5), C8 fees,
C9 ratings, C10 review of a rejection, C11 pauses, C12 deemed acceptance, C13 codes, tenancy."""
from __future__ import annotations

import pytest

from services.cases import fees, lifecycle, ratings, recompute, reviews, timers
from services.common.calendar import apply_calendar_change
from services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed

from .helpers import T1, T2, World, at, day

CLERK, OTHER_CLERK, HEAD, BOSS = ["clerk"], ["clerk"], ["section_head"], ["director"]


@pytest.fixture
def w():
    world = World(at(2025, 1, 24, 10))
    world.org(T1)
    world.org(T2, window="w9", a="t2-a", b="t2-b", reviewer2="t2-c", prefix="t2-")
    return world


def codes(w, case_id):
    return [e["status_code"] for e in w.events("cases.case_transitioned", case_id=case_id)]


def approve(w, case_id, reviewer="clerk-a", approver="head", roles=HEAD):
    w.do(lifecycle.review, case_id, reviewer, CLERK, "approve")
    return w.do(lifecycle.decide, case_id, approver, roles, "approved")


# -- C1/C2/C13 opening ------------------------------------------------------------------------

def test_promised_case_is_received_then_accepted_with_c2_deadline_and_events(w):
    case_id = w.accept(kind="promised", days=3)
    case = w.case(case_id)
    assert case["state"] == "in_review" and case["due_date"] == "2025-02-05" and not case["provisional"]
    assert codes(w, case_id) == ["RECEIVED", "ACCEPTED"]
    accepted = w.events("cases.case_transitioned", case_id=case_id)[-1]
    assert accepted["status_label"] == "已受理" and accepted["due_date"] == "2025-02-05"
    trail = case["trail"]
    assert [(t["from_state"], t["to_state"]) for t in trail] == [(None, "received"), ("received", "in_review")]
    assert all(t["by_person_id"] == "clerk-a" and t["at"] and t["reason"] for t in trail)


def test_supplement_case_waits_and_its_clock_starts_late(w):
    case_id = w.accept(kind="supplement", days=3, application_id="app-sup")
    case = w.case(case_id)
    assert case["state"] == "supplement_pending" and case["due_date"] is None
    assert codes(w, case_id) == ["RECEIVED", "SUPPLEMENT"]
    # materials complete on Mon 10 Feb 2025 → 3 working days → Thu 13 Feb
    w.move_to(at(2025, 2, 10, 9))
    w.complete("app-sup", at(2025, 2, 10, 9), kind="promised")
    case = w.case(case_id)
    assert (case["state"], case["kind"], case["original_kind"]) == ("in_review", "promised", "supplement")
    assert case["clock_started_on"] == "2025-02-10" and case["due_date"] == "2025-02-13"
    assert codes(w, case_id)[-1] == "ACCEPTED"


def test_late_supplement_notice_counts_from_the_day_materials_arrived_c12(w):
    # materials arrived Mon 3 Mar; the acceptance is recorded Wed 12 Mar, deemed from 3 Mar
    w.move_to(at(2025, 3, 12, 9))
    case_id = w.accept(kind="promised", days=3, accepted_on=day("2025-03-03"), deemed_accepted=True)
    case = w.case(case_id)
    assert case["deemed_accepted"] and case["clock_started_on"] == "2025-03-03"
    assert case["due_date"] == "2025-03-06"
    # a deemed-accepted supplement case does not wait: it is accepted from that day
    other = w.accept(kind="supplement", days=3, accepted_on=day("2025-03-03"), deemed_accepted=True)
    assert w.case(other)["state"] == "in_review" and w.case(other)["due_date"] == "2025-03-06"


def test_immediate_case_is_due_the_same_day_with_a_30_minute_target(w):
    case_id = w.accept(kind="immediate", days=0)
    case = w.case(case_id)
    assert case["due_date"] == "2025-01-24" and case["target_at"].startswith("2025-01-24T02:30")


@pytest.mark.parametrize("received, kind, days, clock_started, due, target", [
    # C2a: what arrives on a closed day is accepted on the next working day
    (at(2025, 4, 12, 10), "promised", 3, "2025-04-14", "2025-04-17", None),
    (at(2025, 4, 12, 10), "immediate", 0, "2025-04-14", "2025-04-14", "2025-04-14T00:30"),  # 08:30 local
    (at(2025, 4, 13, 23, 50), "immediate", 0, "2025-04-14", "2025-04-14", "2025-04-14T00:30"),
    (at(2025, 4, 14, 10), "immediate", 0, "2025-04-14", "2025-04-14", "2025-04-14T02:30"),  # open: now + 30 min
])
def test_a_case_received_on_a_closed_day_counts_from_the_next_working_day_c2a(
        w, received, kind, days, clock_started, due, target):
    w.move_to(received)
    case = w.case(w.accept(kind=kind, days=days))
    assert (case["clock_started_on"], case["due_date"]) == (clock_started, due)
    assert not case["deemed_accepted"]
    if target:
        assert case["target_at"].startswith(target)
    # nothing is overdue on the closed days before it is due
    w.move_to(at(2025, 4, 14, 23))
    assert timers.sweep_overdue(w.sweep_run()) == 0


def test_deadline_running_into_2027_is_provisional_and_firms_up_when_the_year_is_loaded(w):
    w.move_to(at(2026, 12, 28, 9))
    case_id = w.accept(kind="promised", days=4, tacit_approval=True)
    assert (w.case(case_id)["due_date"], w.case(case_id)["provisional"]) == ("2027-01-01", True)
    with w(None) as uow:  # staff.calendar_changed, national scope (the service's handler does this)
        apply_calendar_change(uow.session, uow.common, {"scope": "*", "days": [
            {"day": "2027-01-01", "working": False}], "loaded_year": 2027}, uow.now())
        uow.session.flush()
        assert recompute.mark(uow, None) == [T1]  # recorded with the change, done in chunks later
    assert w.case(case_id)["provisional"] is True
    assert recompute.Recomputer().settle(w)["changed"] == 1
    case = w.case(case_id)
    assert (case["due_date"], case["provisional"]) == ("2027-01-04", False)
    assert w.events("cases.deadline_changed", case_id=case_id)[-1]["reason"] == "calendar changed"


# -- C1 refusals ------------------------------------------------------------------------------

@pytest.mark.parametrize("action, call", [
    ("deliver", lambda w, c: w.do(lifecycle.deliver, c, "clerk-a")),
    ("rate", lambda w, c: w.do(ratings.rate, 5, case_id=c)),
    ("request_reconsideration", lambda w, c: w.do(reviews.request, "why", case_id=c, channel="window",
                                                  filed_by="clerk-a")),
    ("record_upper_answer", lambda w, c: w.do(lifecycle.record_upper_answer, c, "clerk-a", "ok")),
    ("record_opinion", lambda w, c: w.do(lifecycle.record_opinion, c, "clerk-a", "民政", "approve")),
    ("resume", lambda w, c: w.do(lifecycle.end_pause, c, "clerk-a")),
])
def test_invalid_transitions_are_conflicts_naming_state_and_action(w, action, call):
    case_id = w.accept(kind="promised")
    before = len(w.emitted)
    with pytest.raises(Conflict) as err:
        call(w, case_id)
    assert "in_review" in err.value.message and action.replace("_", " ") in err.value.message
    assert err.value.details["state"] == "in_review" and err.value.details["action"] == action
    assert len(w.emitted) == before and w.case(case_id)["state"] == "in_review"  # nothing half-written


def test_withdrawn_case_cannot_be_decided(w):
    case_id = w.accept()
    w.do(lifecycle.withdraw, case_id, "clerk-a", "applicant withdrew")
    with pytest.raises(Conflict, match="'withdrawn'"):
        w.do(lifecycle.decide, case_id, "head", HEAD, "approved")
    assert codes(w, case_id)[-1] == "WITHDRAWN"


# -- C4 ---------------------------------------------------------------------------------------

def test_review_and_approval_by_two_different_people(w):
    case_id = w.accept()
    with pytest.raises(Conflict, match="not been reviewed"):
        w.do(lifecycle.decide, case_id, "head", HEAD, "approved")
    w.do(lifecycle.review, case_id, "clerk-a", CLERK + ["section_head"], "approve")
    with pytest.raises(ValidationFailed) as err:  # the reviewer may not also approve
        w.do(lifecycle.decide, case_id, "clerk-a", CLERK + ["section_head"], "approved")
    assert "approver_person_id" in err.value.details
    with pytest.raises(Forbidden):  # a clerk is not an approver (setting approver_roles)
        w.do(lifecycle.decide, case_id, "clerk-b", CLERK, "approved")
    done = w.do(lifecycle.decide, case_id, "head", HEAD, "approved")
    assert (done["state"], done["outcome"], done["reviewer_person_id"], done["approver_person_id"]) == \
        ("decided", "approved", "clerk-a", "head")


def test_only_a_clerk_of_the_cases_window_reviews(w):
    case_id = w.accept()
    with pytest.raises(Forbidden, match="window"):
        w.do(lifecycle.review, case_id, "clerk-c", CLERK, "approve")
    w.do(lifecycle.review, case_id, "clerk-b", CLERK, "approve")  # B post of the same window


def test_rejection_needs_a_reason_and_a_major_one_a_directors_sign_off(w):
    case_id = w.accept(major=True)
    w.do(lifecycle.review, case_id, "clerk-a", CLERK, "reject")
    with pytest.raises(ValidationFailed) as err:
        w.do(lifecycle.decide, case_id, "head", HEAD, "rejected")
    assert "reason" in err.value.details
    with pytest.raises(Forbidden, match="major"):
        w.do(lifecycle.decide, case_id, "head", HEAD, "rejected", "材料不实")
    assert w.do(lifecycle.decide, case_id, "boss", BOSS, "rejected", "材料不实")["outcome"] == "rejected"


# -- joint and escalated (I5) ---------------------------------------------------------------------

def test_joint_case_decides_only_when_every_department_answered(w):
    case_id = w.accept(kind="joint", days=5, departments=["民政办", "自然资源所", "农业农村办"])
    assert w.case(case_id)["state"] == "awaiting_departments"
    w.do(lifecycle.record_opinion, case_id, "p1", "民政办", "approve")
    w.do(lifecycle.review, case_id, "clerk-a", CLERK, "approve")
    with pytest.raises(Conflict) as err:
        w.do(lifecycle.decide, case_id, "head", HEAD, "approved")
    assert err.value.details["missing_departments"] == ["自然资源所", "农业农村办"]
    assert "自然资源所" in err.value.message and "农业农村办" in err.value.message
    with pytest.raises(ValidationFailed):
        w.do(lifecycle.record_opinion, case_id, "p2", "卫健办", "approve")
    with pytest.raises(Conflict):
        w.do(lifecycle.record_opinion, case_id, "p1", "民政办", "reject")
    w.do(lifecycle.record_opinion, case_id, "p2", "自然资源所", "approve")
    left = w.do(lifecycle.record_opinion, case_id, "p3", "农业农村办", "approve")
    assert left["missing_departments"] == []
    assert w.do(lifecycle.decide, case_id, "head", HEAD, "approved")["state"] == "decided"
    assert len(w.case(case_id)["opinions"]) == 3


def test_escalated_case_waits_for_the_upper_level(w):
    case_id = w.accept(kind="escalated", days=3)
    case = w.case(case_id)
    assert case["state"] == "escalated" and case["escalated_on"] is None and case["forwarded"] is False
    w.do(lifecycle.forward, case_id, "clerk-a")
    assert w.case(case_id)["escalated_on"] == "2025-01-24"
    w.do(lifecycle.review, case_id, "clerk-a", CLERK, "approve")
    with pytest.raises(Conflict, match="upper level"):
        w.do(lifecycle.decide, case_id, "head", HEAD, "approved")
    with pytest.raises(Conflict, match="no explanation is due"):
        w.do(lifecycle.explain_silence, case_id, "clerk-a", "县局未答复")
    w.do(lifecycle.record_upper_answer, case_id, "clerk-a", "县局同意")
    assert w.do(lifecycle.decide, case_id, "head", HEAD, "approved")["outcome"] == "approved"


# -- C3 / C11 ---------------------------------------------------------------------------------------

def test_one_extension_approved_by_the_director_within_the_promised_days(w):
    case_id = w.accept(days=3)
    with pytest.raises(Forbidden):
        w.do(lifecycle.extend, case_id, "head", HEAD, 2, "需现场核查")
    with pytest.raises(ValidationFailed) as err:
        w.do(lifecycle.extend, case_id, "boss", BOSS, 4, "需现场核查")
    assert "days" in err.value.details
    with pytest.raises(ValidationFailed) as err:
        w.do(lifecycle.extend, case_id, "boss", BOSS, 2, "  ")
    assert "reason" in err.value.details
    rec = w.do(lifecycle.extend, case_id, "boss", BOSS, 3, "需现场核查")
    assert rec["due_date"] == "2025-02-08" and rec["extension_days"] == 3  # Sat 8 Feb: make-up day
    with pytest.raises(Conflict, match="once"):
        w.do(lifecycle.extend, case_id, "boss", BOSS, 1, "again")
    assert w.events("cases.deadline_changed", case_id=case_id)[-1]["due_date"] == "2025-02-08"
    assert any(t["action"] == "extended" and t["by_person_id"] == "boss" for t in w.case(case_id)["trail"])


def test_no_extension_after_the_deadline(w):
    case_id = w.accept(days=3)
    w.move_to(at(2025, 2, 6, 9))
    with pytest.raises(Conflict, match="passed"):
        w.do(lifecycle.extend, case_id, "boss", BOSS, 1, "late")


def test_expert_review_pauses_the_clock_and_adds_its_working_days(w):
    w.move_to(at(2025, 3, 3, 9))  # Mon
    case_id = w.accept(days=3)  # due Thu 6 Mar
    assert w.case(case_id)["due_date"] == "2025-03-06"
    with pytest.raises(ValidationFailed) as err:  # only C11's procedures (a setting) pause the clock
        w.do(lifecycle.start_pause, case_id, "clerk-a", "lunch")
    assert "procedure" in err.value.details
    started = w.do(lifecycle.start_pause, case_id, "clerk-a", "expert_review", "专家评审")
    assert started["state"] == "suspended" and "特别程序" in started["notice"]
    with pytest.raises(Conflict, match="suspended"):
        w.do(lifecycle.decide, case_id, "head", HEAD, "approved")
    w.move_to(at(2025, 3, 11, 16))  # Tue next week: 4, 5, 6, 7, 10, 11 Mar = 6 working days
    ended = w.do(lifecycle.end_pause, case_id, "clerk-a", "评审完成")
    assert ended["days_added"] == 6 and ended["state"] == "in_review"
    assert ended["due_date"] == "2025-03-14"
    assert codes(w, case_id)[-2:] == ["SPECIAL_START", "SPECIAL_END"]
    assert w.case(case_id)["pauses"][0]["ended_on"] == "2025-03-11"


# -- C8 -------------------------------------------------------------------------------------------

def test_fee_at_the_standard_gets_a_receipt_and_any_other_amount_is_a_violation(w):
    case_id = w.accept(fee_cents=1500, fee_basis="工本费")
    refused = w.do(fees.collect_fee, case_id, "cashier", 2000)
    assert refused.record is None and refused.refusal.status == 422
    assert "amount_cents" in refused.refusal.details
    violation = w.events("cases.fee_violation", case_id=case_id)
    assert violation and violation[0]["attempted_cents"] == 2000 and violation[0]["person_id"] == "cashier"
    approve(w, case_id)
    with pytest.raises(Conflict, match="fee"):
        w.do(lifecycle.deliver, case_id, "clerk-a")
    paid = w.do(fees.collect_fee, case_id, "cashier", 1500).record
    assert paid["fee_receipt_no"].startswith("SF20250124")
    with pytest.raises(Conflict, match="already"):
        w.do(fees.collect_fee, case_id, "cashier", 1500)
    assert w.do(lifecycle.deliver, case_id, "clerk-a")["state"] == "delivered"
    assert codes(w, case_id)[-1] == "COMPLETED"


def test_charging_for_a_free_item_is_a_violation(w):
    case_id = w.accept(fee_cents=0)
    assert w.do(fees.collect_fee, case_id, "cashier", 500).refusal is not None
    with pytest.raises(Conflict):
        w.do(fees.collect_fee, case_id, "cashier", 0)
    with pytest.raises(ValidationFailed):
        w.do(fees.collect_fee, case_id, "cashier", -1)


@pytest.mark.parametrize("person, amount, taken", [
    ("cashier", 1500, True),     # C8: at the fee window, at the standard
    ("clerk-a", 1500, False),    # the case's own window is not the fee window
    ("clerk-c", 1500, False),    # another window
    ("boss", 1500, False),       # no window at all (a director)
    ("nobody", 1500, False),     # not in the organisation
    ("t2-cashier", 1500, False), # another township's fee window is not this one's
    ("clerk-a", 2000, False),    # wrong window and wrong amount: refused for the window first
])
def test_c8_fees_are_taken_only_at_the_fee_window(w, person, amount, taken):
    case_id = w.accept(fee_cents=1500, fee_basis="工本费")
    result = w.do(fees.collect_fee, case_id, person, amount)
    assert (result.record is not None) is taken
    if not taken:
        assert result.refusal.status == 422 and "window_id" in result.refusal.details
        assert result.refusal.details["fee_window_id"] == "wfee" and "9 收费" in result.refusal.message
        assert not w.events("cases.fee_violation", case_id=case_id)  # not an amount violation
        trail = w.case(case_id)["trail"]
        assert trail[-1]["action"] == "fee_refused" and trail[-1]["by_person_id"] == person
        assert w.case(case_id)["fee_paid_cents"] is None


def test_c8_no_fee_window_marked_refuses_every_fee_and_marking_another_moves_it(w):
    from services.cases import posts
    case_id = w.accept(fee_cents=1500)
    def window(ident, fee):
        with w(T1) as uow:
            posts.apply_org_change(uow, {"entity": "window", "entity_id": ident, "action": "updated",
                                         "township_id": T1, "data": {"id": ident, "number": 9 if ident == "wfee"
                                                                     else 1, "fee_window": fee}})
    window("wfee", False)
    with pytest.raises(Conflict, match="fee window") as err:
        w.do(fees.collect_fee, case_id, "cashier", 1500)
    assert "fee_window" in err.value.details
    window("w1", True)  # staff marked window 1 instead
    assert w.do(fees.collect_fee, case_id, "cashier", 1500).refusal is not None
    assert w.do(fees.collect_fee, case_id, "clerk-a", 1500).record["amount_cents"] == 1500


def test_c8_knows_fee_window_asks_staff_when_the_copy_lacks_it(w):
    with w(T1) as uow:
        assert fees.knows_fee_window(uow, "cashier")
        assert not fees.knows_fee_window(uow, "someone-new")  # an event not yet arrived
    empty = World(at(2025, 1, 24, 10))
    with empty(T1) as uow:
        assert not fees.knows_fee_window(uow, None)


def test_c1_a_new_case_knows_its_window_and_handler_only_from_its_own_townships_copy(w):
    """posts.knows reads the township, window and person copies in one statement: a row only
    when each exists in this township (else staff is asked, services/common/staffdir)."""
    from services.cases import posts

    with w(T1) as uow:
        assert posts.knows(uow, "w1", "clerk-a")
        assert posts.knows(uow, None, "clerk-a") and posts.knows(uow, "w1", None)
        assert not posts.knows(uow, "w1", "someone-new")  # an event not yet arrived
        assert not posts.knows(uow, "w-new", "clerk-a")
        assert not posts.knows(uow, "w9", "clerk-a")  # T2's window
        assert not posts.knows(uow, "w1", "t2-a")  # T2's person
    with w(T2) as uow:
        assert posts.knows(uow, "w9", "t2-a") and not posts.knows(uow, "w1", "t2-a")


# -- C9 / C10 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("rating, follow_up", [(1, True), (2, True), (3, False), (5, False)])
def test_rating_after_delivery_low_ones_ask_for_a_follow_up(w, rating, follow_up):
    case_id = w.accept(receipt_no="QS-RATE")
    approve(w, case_id)
    w.do(lifecycle.deliver, case_id, "clerk-a")
    out = w.do(ratings.rate, rating, receipt_no="QS-RATE", comment="电话13812345678联系我")
    assert out["follow_up"] is follow_up
    event = w.events("cases.rating_submitted", case_id=case_id)[0]
    assert event["rating"] == rating and event["follow_up"] is follow_up
    assert "13812345678" not in event["comment"]  # personal data never in events
    with pytest.raises(Conflict, match="already"):
        w.do(ratings.rate, 4, case_id=case_id)


@pytest.mark.parametrize("bad", [0, 6, "5", 2.5, None, True])
def test_rating_outside_1_to_5_is_refused(w, bad):
    case_id = w.accept()
    approve(w, case_id)
    w.do(lifecycle.deliver, case_id, "clerk-a")
    with pytest.raises(ValidationFailed) as err:
        w.do(ratings.rate, bad, case_id=case_id)
    assert "rating" in err.value.details


# -- tenancy --------------------------------------------------------------------------------------

def test_another_townships_case_is_not_found(w):
    case_id = w.accept(T1)
    with pytest.raises(NotFound):
        w.do(lifecycle.get_case, case_id, township_id=T2)
    with pytest.raises(NotFound):
        w.do(lifecycle.decide, case_id, "head", HEAD, "approved", township_id=T2)
    with pytest.raises(NotFound):
        w.do(ratings.rate, 5, receipt_no=w.case(case_id)["receipt_no"], township_id=T2)
    assert w.do(lifecycle.list_cases, township_id=T2) == []


def test_a_second_acceptance_of_the_same_application_opens_no_second_case(w):
    first = w.accept(application_id="app-dup")
    again = w.accept(application_id="app-dup")
    assert first == again and len(w.events("cases.case_transitioned", case_id=first)) == 2
