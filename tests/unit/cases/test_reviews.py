"""C10 复核: the applicant asks for review of a rejection or a return (online with number and
password, or at a window); someone other than the first decider answers within 5 working days
(C2 counting); reminders and overdue by the sweep (N1 delivers them); the answer is published
for the receipt query; tenancy."""
from __future__ import annotations

import pytest

from services.cases import lifecycle, recompute, reviews, timers
from services.common import events
from services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed

from .helpers import T1, T2, World, at

CLERK, HEAD, DEPUTY, BOSS = ["clerk"], ["section_head"], ["deputy_director"], ["director"]


@pytest.fixture
def w():
    world = World(at(2025, 1, 24, 10))  # Fri 24 Jan 2025 (Spring Festival ahead, C2)
    world.org(T1)
    world.org(T2, window="w9", a="t2-a", b="t2-b", reviewer2="t2-c", prefix="t2-")
    return world


def rejected(w, receipt, township_id=T1, deliver=False, prefix=""):
    case_id = w.accept(township_id=township_id, receipt_no=receipt, application_id="app-" + receipt,
                       handler=prefix + "clerk-a" if prefix else "clerk-a", window_id="w9" if prefix else "w1")
    a = "t2-a" if prefix else "clerk-a"
    w.do(lifecycle.review, case_id, a, CLERK, "reject", township_id=township_id)
    w.do(lifecycle.decide, case_id, prefix + "head", HEAD, "rejected", "收入超标", township_id=township_id)
    if deliver:
        w.do(lifecycle.deliver, case_id, a, township_id=township_id)
    return case_id


def returned(w, receipt, township_id=T1, returned_by="clerk-a", signed_off_by=None):
    body = events.build("intake.application_returned", township_id, w.clock.now(), application_id="app-" + receipt,
                        item_code="MZ-002", handler_person_id="clerk-a", reason="缺少主件：居民身份证",
                        signed_off_by=signed_off_by, receipt_no=receipt, returned_by=returned_by)
    with w(township_id) as uow:
        return reviews.record_return(uow, events.parse("intake.application_returned", body))


def ask(w, receipt=None, township_id=T1, reason="补充了说明", **kw):
    with w(township_id) as uow:
        return reviews.record(reviews.request(uow, reason, receipt_no=receipt, **kw))


# -- who may ask, for what ------------------------------------------------------------------------

@pytest.mark.parametrize("setup, receipt, error, field", [
    ("rejected", "R-1", None, None),                  # C10: a rejection
    ("rejected_delivered", "R-1", None, None),        # … also once its notice was handed over
    ("returned", "R-1", None, None),                  # C10: a return (不予受理)
    ("approved", "R-1", Conflict, "state"),           # only a rejection or a return
    ("open", "R-1", Conflict, "state"),               # undecided
    ("none", "R-404", NotFound, None),                # no such number
    ("other_township", "R-1", NotFound, None),        # another township's: 404 like a missing one
    ("twice", "R-1", Conflict, "receipt_no"),         # once per receipt
    ("rejected", None, ValidationFailed, "receipt_no"),
    ("rejected_no_reason", "R-1", ValidationFailed, "reason"),
])
def test_c10_who_may_ask_for_a_review(w, setup, receipt, error, field):
    reason = "补充了说明"
    if setup in ("rejected", "rejected_no_reason", "twice"):
        rejected(w, "R-1")
    elif setup == "rejected_delivered":
        rejected(w, "R-1", deliver=True)
    elif setup == "returned":
        returned(w, "R-1")
    elif setup == "approved":
        case_id = w.accept(receipt_no="R-1")
        w.do(lifecycle.review, case_id, "clerk-a", CLERK, "approve")
        w.do(lifecycle.decide, case_id, "head", HEAD, "approved")
    elif setup == "open":
        w.accept(receipt_no="R-1")
    elif setup == "other_township":
        rejected(w, "R-1", township_id=T2, prefix="t2-")
    if setup == "twice":
        ask(w, "R-1")
    if setup == "rejected_no_reason":
        reason = "  "
    before = len(w.emitted)
    if error is None:
        out = ask(w, receipt, reason=reason, channel="online")
        assert out["state"] == "pending" and out["subject"] == ("return" if setup == "returned" else "rejection")
        assert out["channel"] == "online" and out["filed_by"] is None
        changed = w.events("cases.review_changed", receipt_no="R-1")
        assert changed and changed[-1]["state"] == "pending" and changed[-1]["due_date"] == out["due_date"]
        return
    with pytest.raises(error) as err:
        ask(w, receipt, reason=reason)
    if field:
        assert field in err.value.details
    assert len(w.emitted) == before  # nothing half-written


def test_c10_a_clerk_files_it_at_the_window_and_the_case_shows_the_review(w):
    case_id = rejected(w, "R-W")
    out = ask(w, "R-W", channel="window", filed_by="clerk-b")
    assert (out["channel"], out["filed_by"], out["case_id"]) == ("window", "clerk-b", case_id)
    assert sorted(out["first_deciders"]) == ["clerk-a", "head"]  # reviewer and approver of the rejection
    case = w.case(case_id)
    assert case["state"] == "reconsideration" and case["reconsideration_reason"] == "补充了说明"
    assert [t["status_code"] for t in case["trail"] if t["status_code"]][-1] == "RECONSIDERATION"


# -- C2 counting of the period -----------------------------------------------------------------------

@pytest.mark.parametrize("asked, due", [
    (at(2025, 1, 24, 10), "2025-02-07"),  # Fri: Sun 26 (make-up) 1, Mon 27 2, festival, 5–7 Feb 3–5
    (at(2025, 4, 12, 10), "2025-04-18"),  # Sat (hall closed): counted from Mon 14 → Fri 18
    (at(2025, 3, 3, 16), "2025-03-10"),   # Mon → next Mon
])
def test_c10_review_is_due_in_5_working_days(w, asked, due):
    w.move_to(asked)
    returned(w, "R-D")
    assert ask(w, "R-D")["due_date"] == due


def test_c10_the_period_is_a_setting(w):
    from services.cases.rules import RULES
    with w(T1) as uow:
        RULES.update(uow, {"review_working_days": 3})
    returned(w, "R-S")
    assert ask(w, "R-S")["due_date"] == "2025-02-05"


# -- who decides ------------------------------------------------------------------------------

@pytest.mark.parametrize("subject, person, roles, error", [
    ("rejection", "boss", BOSS, None),                # C10: another person, a deciding role
    ("rejection", "deputy", DEPUTY, None),
    ("rejection", "head", ["section_head", "director"], ValidationFailed),  # decided the rejection
    ("rejection", "clerk-a", ["clerk", "director"], ValidationFailed),      # reviewed it
    ("rejection", "head2", HEAD, Forbidden),          # not a role of reconsideration_roles (default leaders)
    ("return", "boss", BOSS, None),
    ("return", "clerk-a", ["clerk", "director"], ValidationFailed),         # returned it
    ("return", "deputy", DEPUTY, ValidationFailed),   # signed the return off
])
def test_c10_the_review_is_decided_by_someone_other_than_the_first_decider(w, subject, person, roles, error):
    if subject == "rejection":
        rejected(w, "R-X")
    else:
        returned(w, "R-X", returned_by="clerk-a", signed_off_by="deputy")
    review = ask(w, "R-X")
    if error is None:
        w.do(reviews.decide, review["id"], person, roles, "upheld", "维持原决定：收入超过标准")
        assert w.do(reviews.get, review["id"])["decided_by"] == person
        return
    with pytest.raises(error) as err:
        w.do(reviews.decide, review["id"], person, roles, "upheld", "维持")
    if error is ValidationFailed:
        assert "person_id" in err.value.details
    assert w.do(reviews.get, review["id"])["state"] == "pending"


@pytest.mark.parametrize("outcome, case_outcome", [("upheld", "rejected"), ("overturned", "approved")])
def test_c10_the_answer_is_recorded_and_published_for_the_receipt_query(w, outcome, case_outcome):
    case_id = rejected(w, "R-A")
    review = ask(w, "R-A")
    w.move_to(at(2025, 1, 27, 15))
    out = w.do(reviews.decide, review["id"], "boss", BOSS, outcome, "经复核：联系电话13812345678")
    assert (out.state, out.outcome, out.decided_by) == ("decided", outcome, "boss")
    case = w.case(case_id)
    assert (case["state"], case["outcome"]) == ("decided", case_outcome)
    assert [t["status_code"] for t in case["trail"] if t["status_code"]][-2:] == ["RECONSIDERATION", "DECIDED"]
    published = w.events("cases.review_changed", receipt_no="R-A")[-1]
    assert (published["state"], published["outcome"]) == ("decided", outcome)
    assert "13812345678" not in published["answer"] and published["decided_at"]  # no personal data in events
    with pytest.raises(Conflict, match="already decided"):
        w.do(reviews.decide, review["id"], "deputy", DEPUTY, "overturned", "x")


@pytest.mark.parametrize("outcome, answer, field", [("maybe", "x", "outcome"), ("upheld", "", "answer"),
                                                     ("upheld", None, "answer"), ("upheld", "x" * 2001, "answer")])
def test_c10_bad_decision_input_is_422_naming_the_field(w, outcome, answer, field):
    returned(w, "R-B")
    review = ask(w, "R-B")
    with pytest.raises(ValidationFailed) as err:
        w.do(reviews.decide, review["id"], "boss", BOSS, outcome, answer)
    assert field in err.value.details


# -- the period: reminder and overdue by the sweep (once each, N1 delivers) -------------------------

def test_c10_deciders_reminded_before_the_due_day_then_overdue_once(w):
    returned(w, "R-T", returned_by="clerk-a", signed_off_by="deputy")
    review = ask(w, "R-T")  # due Fri 7 Feb 2025
    assert timers.sweep_reviews(w.sweep_run()) == 0
    w.move_to(at(2025, 2, 6, 9))  # the last working day before the due day
    assert timers.sweep_reviews(w.sweep_run()) == 1
    assert timers.sweep_reviews(w.sweep_run()) == 0  # a second instance: nothing twice
    reminder = w.events("cases.review_reminder", review_id=review["id"])
    assert len(reminder) == 1 and reminder[0]["overdue"] is False
    assert reminder[0]["decider_person_ids"] == ["boss"]  # leaders, the signer-off of the return excepted
    w.move_to(at(2025, 2, 7, 17))
    assert timers.sweep_reviews(w.sweep_run()) == 0  # still due today
    w.move_to(at(2025, 2, 8, 9))
    assert timers.sweep_reviews(w.sweep_run()) == 1
    assert timers.sweep_reviews(w.sweep_run()) == 0
    late = w.events("cases.review_reminder", review_id=review["id"])
    assert len(late) == 2 and late[-1]["overdue"] is True
    assert w.do(reviews.listing, "pending", True)[0]["overdue"] is True
    w.do(reviews.decide, review["id"], "boss", BOSS, "overturned", "予以受理，请携材料再次办理")  # late, still answered
    assert w.do(reviews.listing, "pending") == []


def test_c10_a_decided_review_is_neither_reminded_nor_overdue(w):
    returned(w, "R-Q")
    review = ask(w, "R-Q")
    w.do(reviews.decide, review["id"], "boss", BOSS, "upheld", "维持")
    w.move_to(at(2025, 3, 3, 9))
    assert timers.sweep_reviews(w.sweep_run()) == 0
    assert timers.sweep(w.sweep_run())["reviews"] == 0


def test_c10_a_due_day_in_a_year_without_calendar_data_is_provisional_until_the_year_is_loaded(w):
    from services.common.calendar import apply_calendar_change
    w.move_to(at(2026, 12, 28, 9))  # Mon: 5 working days reach into 2027 (not loaded: weekends only)
    returned(w, "R-P")
    review = ask(w, "R-P")
    assert (review["due_date"], review["provisional"]) == ("2027-01-04", True)
    w.move_to(at(2027, 1, 4, 9))
    assert timers.sweep_reviews(w.sweep_run()) == 1  # the reminder may go out …
    w.move_to(at(2027, 1, 6, 9))
    assert timers.sweep_reviews(w.sweep_run()) == 0  # … nothing irreversible on a provisional day
    assert w.do(reviews.get, review["id"])["overdue"] is False
    with w(None) as uow:
        apply_calendar_change(uow.session, uow.common, {"scope": "*", "days": [
            {"day": "2027-01-01", "working": False}], "loaded_year": 2027}, uow.now())
        uow.session.flush()
        assert recompute.mark(uow, None) == [T1]  # a township with a pending review is marked
    assert timers.sweep_reviews(w.sweep_run()) == 0  # the sweep does not recount …
    work = recompute.Recomputer().settle(w)  # … the calendar recompute does (C2), with the cases
    assert work["changed"] == 1
    assert timers.sweep_reviews(w.sweep_run()) == 1  # overdue (due Tue 5 Jan, firm)
    out = w.do(reviews.get, review["id"])
    assert (out["due_date"], out["provisional"], out["overdue"]) == ("2027-01-05", False, True)
    assert w.events("cases.review_changed", receipt_no="R-P")[-1]["due_date"] == "2027-01-05"


def test_c10_a_provisional_due_day_is_recounted_with_the_period_the_review_was_given(w):
    """C2/C10: asked Mon 28 Dec 2026 with 5 working days (2027 not loaded → provisional Mon 4
    Jan); the setting then becomes 3. 2027 loaded (1 Jan a holiday): recounted with the 5 days
    given → Tue 5 Jan (with 3 it would be Mon 4 Jan). A decided review and another township's
    are left alone; a local holiday moves a firm one too."""
    from services.cases.rules import RULES
    from services.common.calendar import apply_calendar_change

    w.move_to(at(2026, 12, 28, 9))
    returned(w, "R-W"), returned(w, "R-DONE"), returned(w, "R-T2", township_id=T2, returned_by="t2-clerk-a")
    review, done = ask(w, "R-W"), ask(w, "R-DONE")
    other = ask(w, "R-T2", township_id=T2)
    assert (review["due_date"], review["provisional"]) == ("2027-01-04", True)
    w.do(reviews.decide, done["id"], "boss", BOSS, "upheld", "维持")
    with w(T1) as uow:
        RULES.update(uow, {"review_working_days": 3})
    with w(None) as uow:
        apply_calendar_change(uow.session, uow.common, {"scope": "*", "days": [
            {"day": "2027-01-01", "working": False}], "loaded_year": 2027}, uow.now())
        uow.session.flush()
        recompute.mark(uow, None)
    assert recompute.Recomputer(chunk=1).settle(w)["changed"] == 2  # R-W and T2's, chunk by chunk
    out = w.do(reviews.get, review["id"])
    assert (out["due_date"], out["provisional"]) == ("2027-01-05", False)
    assert w.do(reviews.get, done["id"])["due_date"] == "2027-01-04"  # decided: left alone
    assert w.do(reviews.get, other["id"], township_id=T2)["due_date"] == "2027-01-05"
    [published] = [e for e in w.events("cases.review_changed", receipt_no="R-W") if e["due_date"] == "2027-01-05"]
    assert published["provisional"] is False and published["state"] == "pending"
    with w(T1) as uow:  # a local holiday on Tue 5 Jan moves it once more, to Wed 6 Jan
        apply_calendar_change(uow.session, uow.common, {"scope": T1, "days": [
            {"day": "2027-01-05", "working": False}]}, uow.now())
        uow.session.flush()
        recompute.mark(uow, T1)
    assert recompute.Recomputer().settle(w)["changed"] == 1
    assert w.do(reviews.get, review["id"])["due_date"] == "2027-01-06"
    assert w.do(reviews.get, other["id"], township_id=T2)["due_date"] == "2027-01-05"


def test_c10_gauges_count_pending_and_overdue_reviews_per_township(w):
    from services.cases.service import _reviews_overdue, _reviews_pending
    returned(w, "R-G1")
    returned(w, "R-G2", township_id=T2, returned_by="t2-clerk-a")
    ask(w, "R-G1"), ask(w, "R-G2", township_id=T2)
    w.move_to(at(2025, 2, 10, 9))
    timers.sweep_reviews(w.sweep_run())
    with w(None) as uow:
        assert sorted(map(tuple, _reviews_pending(uow))) == [(T1, 1), (T2, 1)]
        assert sorted(map(tuple, _reviews_overdue(uow))) == [(T1, 1), (T2, 1)]


# -- tenancy ----------------------------------------------------------------------------------------

def test_c10_another_townships_review_is_404_and_never_listed(w):
    returned(w, "R-T2", township_id=T2, returned_by="t2-clerk-a")
    review = ask(w, "R-T2", township_id=T2)
    with pytest.raises(NotFound):
        w.do(reviews.get, review["id"])
    with pytest.raises(NotFound):
        w.do(reviews.decide, review["id"], "boss", BOSS, "overturned", "x")
    assert w.do(reviews.listing) == []
    with pytest.raises(NotFound):  # T1 cannot ask about T2's number either
        ask(w, "R-T2")
    assert [r["id"] for r in w.do(reviews.listing, township_id=T2)] == [review["id"]]
