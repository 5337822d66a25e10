"""N1 rules without a broker: who each event's notice reaches (and nobody else, another
township never), the acknowledgement period in working days, one escalation per notice,
no personal data, and the webhook sender's signature and backoff."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

import pytest

from services.common import events
from services.common.clock import FrozenClock
from services.notices import delivery, inbox, orgcopy
from services.notices.models import Base, Delivery, Notice
from services.notices.routing import ROUTES
from tests.support.units import UnitsOfWork

A, B = "town-a", "town-b"
# Wed 2026-03-04 10:00 in Shanghai
NOW = datetime(2026, 3, 4, 2, 0, tzinfo=timezone.utc)

PEOPLE = {  # id: (township, roles, window)
    "dir": (A, ["director"], None), "dep": (A, ["deputy_director"], None),
    "clerk_a": (A, ["clerk"], "w1"), "clerk_b": (A, ["clerk"], "w1"),
    "officer": (A, ["complaint_officer"], None), "guard1": (A, ["guard"], None),
    "guard2": (A, ["guard"], None), "secmgr": (A, ["security_manager"], None),
    "agent": (A, ["village_agent"], None), "b_agent": (B, ["village_agent"], None),
    "gone": (A, ["director", "guard", "clerk"], None),  # deactivated: told nothing
    "b_dir": (B, ["director"], None), "b_guard": (B, ["guard"], None), "b_clerk": (B, ["clerk"], None),
    "b_officer": (B, ["complaint_officer"], None), "b_secmgr": (B, ["security_manager"], None),
}
EVERYONE_A = {"dir", "dep", "clerk_a", "clerk_b", "officer", "guard1", "guard2", "secmgr", "agent"}


@pytest.fixture
def units():
    u = UnitsOfWork(Base, "notices", FrozenClock(NOW))
    for township in (A, B):
        with u(township) as uow:
            for pid, (t, roles, window) in PEOPLE.items():
                if t == township:
                    orgcopy.upsert_person(uow, pid, {"name": "姓名" + pid, "roles": roles, "window_id": window,
                                                     "home_unit": "县民政局", "active": pid != "gone"})
            orgcopy.upsert_window(uow, "w1" if township == A else "wb", {"number": 1, "name": "民政",
                                                                          "a_person_id": "clerk_a",
                                                                          "b_person_id": "clerk_b"})
    return u


def event(event_type, township=A, **fields):
    return events.parse(event_type, events.build(event_type, township, NOW, **fields))


CASE = dict(case_id="c1", receipt_no="QS20260304-0001")
AGENT_COLLECTION = dict(agent_id="ag1", agent_person_id="agent", village="柳溪村", item_code="MZ-002",
                        collected_on="2026-03-02", due_on="2026-03-05")
REPORT_LINE = dict(late=2, early=0, absent_halves=1, accumulated_days=0, leave_halves=2, sessions_attended=3,
                   sessions_late=1, sessions_absent_excused=0, sessions_absent_unexcused=1, deducted=8, credits=2,
                   quarter_score=94)
# (event, fields, {person: must acknowledge}) — one row per N1 rule
TABLE = [
    ("cases.case_reminder", dict(CASE, holder_person_id="clerk_b", window_id="w1", due_date="2026-03-05"),
     {"clerk_b": True}),
    ("cases.case_overdue", dict(CASE, handler_person_id="clerk_a", window_id="w1", due_date="2026-03-03"),
     {"clerk_a": True, "dir": False}),
    ("cases.handler_unavailable", dict(window_id="w1", person_ids=["clerk_a", "clerk_b"], open_cases=3,
                                       director_person_ids=["dir", "b_dir"]), {"dir": True}),
    ("intake.application_accepted", dict(application_id="ap1", receipt_no="QS1", item_code="MZ-01", item_version=1,
                                         item_name="低保申请", kind="promised", handler_person_id="clerk_a",
                                         accepted_at=NOW.isoformat(), accepted_on="2026-02-20",
                                         deemed_accepted=True, promised_days=5), {"clerk_a": True, "dir": False}),
    ("intake.application_accepted", dict(application_id="ap2", receipt_no="QS2", item_code="MZ-01", item_version=1,
                                         item_name="低保申请", kind="promised", handler_person_id="clerk_a",
                                         accepted_at=NOW.isoformat(), accepted_on="2026-03-04", promised_days=5), {}),
    ("cases.escalation_silent", dict(CASE, holder_person_id="clerk_a", escalated_on="2026-02-10",
                                     silent_since="2026-02-25"), {"clerk_a": True, "dir": False}),
    ("cases.immediate_target_missed", dict(CASE, holder_person_id="clerk_a", target_at=NOW.isoformat()),
     {"dir": True}),
    ("cases.review_reminder", dict(review_id="rv1", receipt_no="QS1", subject="rejection", due_date="2026-03-06",
                                   decider_person_ids=["dep", "b_clerk"]), {"dep": True}),  # C10, never another township's
    ("cases.review_reminder", dict(review_id="rv2", receipt_no="QS2", subject="return", due_date="2026-03-03",
                                   overdue=True, decider_person_ids=["dep"]), {"dep": True, "dir": False}),
    ("complaints.leadership_alerted", dict(complaint_id="k1", number="TS-1", kind="complaint",
                                           reason="major_complaint"), {"dir": True, "dep": True}),
    ("complaints.leadership_alerted", dict(complaint_id="k2", number="XF-1", kind="petition",
                                           reason="collective_petition", persons=12), {"dir": True, "dep": True}),
    ("complaints.overdue", dict(item_id="k1", item_kind="complaint", due_date="2026-03-03"),
     {"officer": True, "dir": False, "dep": False}),
    ("lending.item_lent", dict(loan_id="l1", item_id="i1", item_name="便民服务车1号", due_at=NOW.isoformat(),
                               lent_by="guard1"), {"guard2": False, "secmgr": False}),
    ("lending.loan_overdue", dict(loan_id="l1", item_id="i1", due_at=NOW.isoformat(), assigned_person_id="guard2"),
     {"guard2": True}),
    ("lending.loan_overdue", dict(loan_id="l2", item_id="i1", due_at=NOW.isoformat()),
     {"guard1": True, "guard2": True}),
    ("lending.reminder_escalated", dict(task_id="t1", loan_id="l1", item_id="i1", assigned_person_id="guard2"),
     {"secmgr": True}),
    ("staff.home_unit_notified", dict(person_id="clerk_a", home_unit="县民政局", kind="notice", cause="late:2026-03"),
     {"dir": True, "clerk_a": False}),
    ("staff.removed_from_window", dict(person_id="clerk_a", window_id="w1", partner_person_id="clerk_b",
                                       director_person_ids=["dir", "b_dir"], reason="通报批评"),
     {"dir": True, "clerk_b": False}),
    ("staff.week_published", dict(week_start="2026-02-23", objection_until="2026-03-06"),
     {p: False for p in EVERYONE_A}),
    ("intake.agent_submission_reminder", dict(AGENT_COLLECTION, collection_id="ac1"), {"agent": True}),
    ("intake.agent_submission_overdue", dict(AGENT_COLLECTION, collection_id="ac2"),
     {"agent": True, "dir": False}),
    # I6: an agent of another township named in the event is told nothing
    ("intake.agent_submission_overdue", dict(AGENT_COLLECTION, collection_id="ac3", agent_person_id="b_agent"),
     {"dir": False}),
    ("staff.home_unit_report_sent", dict(report_id="r1", month="2026-02", home_unit="县民政局",
                                         people=[dict(REPORT_LINE, person_id="clerk_a")]), {"dir": True}),
]


@pytest.mark.parametrize("event_type,fields,expected", TABLE,
                         ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(TABLE)])
def test_each_rule_reaches_its_people_and_nobody_else(units, event_type, fields, expected):
    assert event_type in ROUTES
    with units(A) as uow:
        made = inbox.notify(uow, event_type, event(event_type, **fields))
    assert {n.person_id: n.needs_ack for n in made} == expected
    with units(B) as uow:  # another township's inboxes stay empty
        assert uow.session.query(Notice).count() == 0


def test_a_person_named_from_another_township_is_never_told(units):
    with units(A) as uow:
        made = inbox.notify(uow, "cases.case_reminder", event(
            "cases.case_reminder", **CASE, holder_person_id="b_clerk", due_date="2026-03-05"))
    assert made == []


@pytest.mark.parametrize("created,due_local", [
    (datetime(2026, 3, 4, 2, 0, tzinfo=timezone.utc), "2026-03-06T00:00:00+08:00"),   # Wed → close of Thu
    (datetime(2026, 3, 6, 9, 0, tzinfo=timezone.utc), "2026-03-10T00:00:00+08:00"),   # Fri 17:00 → close of Mon
    (datetime(2026, 3, 6, 17, 0, tzinfo=timezone.utc), "2026-03-10T00:00:00+08:00"),  # Sat 01:00 → close of Mon
])
def test_the_acknowledgement_period_is_one_working_day(units, created, due_local):
    with units(A) as uow:
        due, provisional = inbox.ack_due(uow, created, {"timezone": "Asia/Shanghai", "ack_working_days": 1})
    assert due == datetime.fromisoformat(due_local)


def test_unacknowledged_past_the_period_is_escalated_to_the_director_once(units):
    with units(A) as uow:
        inbox.notify(uow, "cases.case_reminder", event(
            "cases.case_reminder", **CASE, holder_person_id="clerk_b", due_date="2026-03-05"))
    run = units.sweep_run()
    assert run.each("e", inbox.due_for_escalation(run), inbox.escalate) == 0  # not due yet
    units.clock.move(days=2)
    items = inbox.due_for_escalation(run)
    # two sweeps (two instances) that both found the notice: one escalation
    assert run.each("e", items, inbox.escalate) + run.each("e", items, inbox.escalate) == 1
    assert inbox.due_for_escalation(run) == []
    with units(A) as uow:
        esc = uow.session.query(Notice).filter(Notice.escalation_of != "").all()
    assert [(n.person_id, n.rule, n.needs_ack) for n in esc] == [("dir", "N1", True)]


def test_an_acknowledged_notice_is_never_escalated(units):
    with units(A) as uow:
        n = inbox.notify(uow, "cases.case_reminder", event(
            "cases.case_reminder", **CASE, holder_person_id="clerk_b", due_date="2026-03-05"))[0]
    with units(A) as uow:
        inbox.acknowledge(uow, n.id, "clerk_b", "在办")
    units.clock.move(days=5)
    assert inbox.due_for_escalation(units.sweep_run()) == []


def test_no_personal_data_reaches_a_notice(units):
    """Free text from an event is cleaned (privacy.hide_identifiers): phones and ID numbers masked."""
    with units(A) as uow:
        made = inbox.notify(uow, "lending.item_lent", event(
            "lending.item_lent", loan_id="l1", item_id="i1", lent_by="guard1", due_at=NOW.isoformat(),
            item_name="轮椅 13907310011 430123195811020027"))
    text = made[0].title + made[0].body
    assert "13907310011" not in text and "430123195811020027" not in text
    assert "139****0011" in text


class FakeSender:
    def __init__(self, fail_times):
        self.fail_times, self.sent = fail_times, []

    def send(self, payload, settings):
        if self.fail_times:
            self.fail_times -= 1
            raise delivery.DeliveryFailed("HTTP 503")
        self.sent.append(payload["notice_id"])


def test_deliveries_retry_with_backoff_and_never_lose_the_inbox_copy(units):
    with units(A) as uow:
        from services.notices.rules import RULES

        RULES.update(uow, {"webhook_url": "http://sms.example/hook", "webhook_secret": "k", "webhook_retry_seconds": 10})
        n = inbox.notify(uow, "cases.case_reminder", event(
            "cases.case_reminder", **CASE, holder_person_id="clerk_b", due_date="2026-03-05"))[0]
    sender = FakeSender(fail_times=2)
    run = units.sweep_run()
    assert delivery.sweep_deliveries(run, {"webhook": sender})["retrying"] == 1
    assert delivery.sweep_deliveries(run, {"webhook": sender}) == {"delivered": 0, "retrying": 0, "failed": 0}
    units.clock.move(seconds=10)  # first retry after 10 s
    assert delivery.sweep_deliveries(run, {"webhook": sender})["retrying"] == 1
    units.clock.move(seconds=10)  # second after 20 s: not yet
    assert delivery.sweep_deliveries(run, {"webhook": sender})["delivered"] == 0
    units.clock.move(seconds=10)
    assert delivery.sweep_deliveries(run, {"webhook": sender})["delivered"] == 1
    units.clock.move(hours=1)
    delivery.sweep_deliveries(run, {"webhook": sender})
    assert sender.sent == [n.id]  # once
    with units(A) as uow:
        d = uow.session.query(Delivery).one()
        assert (d.state, d.attempts) == ("delivered", 3)
        assert uow.session.get(Notice, n.id) is not None


def test_the_webhook_body_is_signed_with_the_townships_secret():
    body = json.dumps({"notice_id": "n1"}).encode()
    assert delivery.signature("s3cret", body) == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("attempts,seconds", [(1, 30), (2, 60), (3, 120), (8, 3600), (20, 3600)])
def test_backoff_doubles_up_to_an_hour(attempts, seconds):
    assert delivery.backoff({"webhook_retry_seconds": 30}, attempts).total_seconds() == seconds


def test_two_instances_that_read_the_same_due_delivery_send_it_once(units):
    with units(A) as uow:
        from services.notices.rules import RULES

        RULES.update(uow, {"webhook_url": "http://sms.example/hook"})
        inbox.notify(uow, "cases.case_reminder", event(
            "cases.case_reminder", **CASE, holder_person_id="clerk_b", due_date="2026-03-05"))
    run = units.sweep_run()
    [(township, delivery_id)] = delivery.due(run)  # both instances read this list
    with units(township) as uow:
        assert delivery.start(uow, delivery_id)[0] == 1
    with units(township) as uow:
        assert delivery.start(uow, delivery_id) is None  # in flight: the second does not send
    units.clock.move(seconds=61)  # the first instance died mid-send: its lease passes
    with units(township) as uow:
        assert delivery.start(uow, delivery_id)[0] == 2


def test_the_home_unit_report_lists_each_persons_month_and_names_no_other_townships_person(units):
    """S2 (issue 12): the directors get the home unit's month, one line per person, by name; a
    person id of another township is shown as an id prefix, never by name."""
    with units(A) as uow:
        made = inbox.notify(uow, "staff.home_unit_report_sent", event(
            "staff.home_unit_report_sent", report_id="r2", month="2026-02", home_unit="县民政局",
            people=[dict(REPORT_LINE, person_id="clerk_a"), dict(REPORT_LINE, person_id="b_clerk")]))
    [notice] = made
    assert (notice.person_id, notice.rule, notice.needs_ack) == ("dir", "S2", True)
    assert "县民政局" in notice.title and "2026-02" in notice.title
    assert "姓名clerk_a：迟到 2" in notice.body and "本月扣 8 分" in notice.body and "无故缺席 1" in notice.body
    assert "姓名b_clerk" not in notice.body


def test_a_delivery_whose_channel_was_removed_is_cancelled_not_retried_into_a_failure(units):
    """The township turns its webhook off with deliveries still due: they are cancelled (no
    POST to an empty address, no failure counted, no alert); the inbox copies stay."""
    from services.notices.rules import RULES

    with units(A) as uow:
        RULES.update(uow, {"webhook_url": "http://sms.example/hook"})
        inbox.notify(uow, "cases.case_reminder", event(
            "cases.case_reminder", **CASE, holder_person_id="clerk_b", due_date="2026-03-05"))
        RULES.update(uow, {"webhook_url": ""})
    sender = FakeSender(fail_times=0)
    run = units.sweep_run()
    assert delivery.sweep_deliveries(run, {"webhook": sender}) == {"delivered": 0, "retrying": 0, "failed": 0}
    assert sender.sent == [] and delivery.due(run) == []
    with units(A) as uow:
        d = uow.session.query(Delivery).one()
        assert (d.state, d.attempts) == ("cancelled", 0)
        assert delivery.failed_counts(uow) == [] and uow.session.query(Notice).count() == 1


@pytest.mark.parametrize("body,named", [
    ({"people": [{"person_id": "p1"}, {"person_id": "p2"}, "x"]}, ["p1", "p2"]),
    ({"people": 7}, []),
])
def test_the_people_of_a_home_unit_report_are_known_before_it_is_worded(body, named):
    """S2: the copy is filled for every person the report names (staffdir), a malformed list is ignored."""
    from services.notices.routing import named_people

    assert named_people(body) == named
