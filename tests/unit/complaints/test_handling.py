"""Complaint handling on a real (in-memory) unit of work: P1 recording, P2 confidentiality,
P3 written replies and escalation, P4 outcome and closing roles, P5 petitions, P6 follow-ups
opened once, and the overdue sweep marking each item once."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.common import events
from services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.complaints import followups, handling, public, sweep
from services.complaints.models import Complaint, FollowUp
from services.complaints.rules import RULES

OFFICER = handling.Viewer("p-officer", ["complaint_officer"])
DIRECTOR = handling.Viewer("p-director", ["director"])
DEPUTY = handling.Viewer("p-deputy", ["deputy_director"])
TARGET = handling.Viewer("p-clerk", ["clerk"], "w-civil")
WINDOW_MATE = handling.Viewer("p-clerk-b", ["clerk"], "w-civil")
OTHER = handling.Viewer("p-other", ["clerk"], "w-land")

BASE = {
    "channel": "in_person", "category": "attitude",
    "complainant": {"name": "张三丰", "phone": "13812345678", "address": "青山镇柳溪村3组"},
    "target_person_id": "p-clerk", "target_window_id": "w-civil",
    "content": "张三丰反映：王晓燕态度生硬，让我来回跑了三趟。电话13812345678。",
}


def record(units, **changes):
    with units() as uow:
        return handling.record_complaint(uow, {**BASE, **changes}, "p-officer").id


def view(units, cid, viewer):
    with units() as uow:
        return handling.view(uow, cid, viewer)


# -- P1 -------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, field", [
    ({"channel": "fax"}, "channel"),
    ({"channel": "phone", "major": True}, "channel"),          # major matters must be written
    ({"complainant": {"phone": "13812345678"}}, "complainant.name"),
    ({"complainant": None}, "complainant"),
    ({"complainant": {"name": "x", "phone": "not a phone"}}, "complainant.phone"),
    ({"content": "  "}, "content"),
    ({"target_person_id": None, "target_window_id": None}, "target_person_id"),
    ({"target_person_id": "p-nobody"}, "target_person_id"),
    ({"target_window_id": "w-nowhere"}, "target_window_id"),
    ({"category": "gossip"}, "category"),
])
def test_bad_complaints_are_refused_with_the_field_named_and_nothing_written(units, changes, field):
    with pytest.raises(ValidationFailed) as err:
        record(units, **changes)
    assert field in err.value.details
    with units() as uow:
        assert uow.session.query(Complaint).count() == 0


def test_a_complaint_records_time_channel_target_and_deadline(units):
    cid = record(units)
    rec = view(units, cid, OFFICER)
    assert rec["channel"] == "in_person" and rec["received_at"].startswith("2025-03-03T02:00")
    assert rec["target_person_id"] == "p-clerk" and rec["due_on"] == "2025-03-04"
    assert rec["number"].startswith("TS20250303-") and rec["state"] == "open"


# -- P2 -------------------------------------------------------------------------------

def test_identity_only_for_complaint_officer_and_director(units):
    cid = record(units)
    for viewer in (OFFICER, DIRECTOR):
        rec = view(units, cid, viewer)
        assert rec["complainant"] == {"name": "张三丰", "phone": "13812345678", "address": "青山镇柳溪村3组"}
    for viewer in (TARGET, WINDOW_MATE, DEPUTY):
        rec = view(units, cid, viewer)
        assert rec["complainant"] is None
        text = repr(rec)
        assert "张三丰" not in text and "13812345678" not in text and "柳溪村3组" not in text
        assert "态度生硬" in rec["content"]  # the accused still learns what it is about


@pytest.mark.parametrize("content, hidden, shown", [
    ("身份证号330102198001011234，张三丰", ["330102198001011234", "张三丰"], ["330***********1234"]),
    ("他的证件33010219800101123X有误", ["33010219800101123X"], ["330***********123X"]),
    ("旧证330102800101123", ["330102800101123"], ["330********1123"]),
    ("回电138-1234-5678", ["138-1234-5678", "12345678"], ["[投诉人信息已隐去]"]),
])
def test_identifiers_written_in_the_text_are_hidden_from_the_accused(units, content, hidden, shown):
    """Personal data: content and finding read by the accused clerk or window have the
    complainant's name and phone hidden and any ID-number shape masked; officers see it all."""
    cid = record(units, content=content)
    with units() as uow:
        handling.conclude(uow, cid, "verified", "查实。" + content, "p-officer", OFFICER)
    for viewer in (TARGET, WINDOW_MATE):
        rec = view(units, cid, viewer)
        for secret in hidden:
            assert secret not in rec["content"] and secret not in rec["finding"]
        for mask in shown:
            assert mask in rec["content"] and mask in rec["finding"]
    assert view(units, cid, OFFICER)["content"] == content


def test_a_clerk_cannot_read_complaints_about_others(units):
    cid = record(units)
    with pytest.raises(NotFound):
        view(units, cid, OTHER)
    with units() as uow:
        assert handling.list_for(uow, OTHER) == []
        assert [c["id"] for c in handling.list_for(uow, TARGET)] == [cid]


def test_another_townships_complaint_is_not_found(units):
    cid = record(units)
    with pytest.raises(NotFound):
        with units("township-b") as uow:
            handling.view(uow, cid, OFFICER)


# -- P3 / P4 -----------------------------------------------------------------------------

def test_verified_complaint_emits_event_without_identity(units):
    cid = record(units)
    with units() as uow:
        handling.conclude(uow, cid, "verified", "查实：态度生硬", "p-officer", OFFICER)
    [event] = units.outbox("complaints.complaint_verified")
    assert event["complaint_id"] == cid and event["target_person_id"] == "p-clerk"
    assert event["category"] == "attitude"
    assert "张三丰" not in repr(event) and "13812345678" not in repr(event)
    events.parse("complaints.complaint_verified", event)


def test_not_verified_emits_nothing_and_outcome_flow_to_closing(units):
    cid = record(units)
    with units() as uow:
        with pytest.raises(Conflict):
            handling.reply(uow, cid, "phone", "已答复", "p-officer", OFFICER)  # no outcome yet
    with units() as uow:
        handling.conclude(uow, cid, "not_verified", "经调查不属实", "p-officer", OFFICER)
    with units() as uow:
        with pytest.raises(Conflict):
            handling.close(uow, cid, "p-officer", ["complaint_officer"], OFFICER)  # not told yet
    with units() as uow:
        handling.reply(uow, cid, "phone", "电话告知调查结果", "p-officer", OFFICER)
    with units() as uow:
        rec = handling.close(uow, cid, "p-officer", ["complaint_officer"], OFFICER)
    assert rec["state"] == "closed" and rec["outcome"] == "not_verified"
    assert units.outbox("complaints.complaint_verified") == []


def test_written_complaint_needs_a_written_reply(units):
    cid = record(units, channel="written")
    with units() as uow:
        handling.conclude(uow, cid, "verified", "属实", "p-officer", OFFICER)
    with pytest.raises(ValidationFailed) as err:
        with units() as uow:
            handling.reply(uow, cid, "phone", "电话答复", "p-officer", OFFICER)
    assert "form" in err.value.details
    with units() as uow:
        assert handling.reply(uow, cid, "written", "书面答复函", "p-officer", OFFICER)["reply_form"] == "written"


@pytest.mark.parametrize("close_roles, roles, allowed", [
    (None, ["complaint_officer"], True),
    (None, ["director"], True),
    (None, ["deputy_director"], False),
    (None, ["inspector"], False),
    (["director"], ["complaint_officer"], False),
    (["director", "deputy_director"], ["deputy_director"], True),
])
def test_who_may_close_is_a_setting(units, close_roles, roles, allowed):
    if close_roles:
        with units() as uow:
            RULES.update(uow, {"close_roles": close_roles})
    cid = record(units)
    with units() as uow:
        handling.conclude(uow, cid, "not_verified", "不属实", "p-officer", OFFICER)
        handling.reply(uow, cid, "on_the_spot", "当场答复", "p-officer", OFFICER)
    viewer = handling.Viewer("p-x", roles)
    if allowed:
        with units() as uow:
            assert handling.close(uow, cid, "p-x", roles, viewer)["state"] == "closed"
    else:
        with pytest.raises(Forbidden):
            with units() as uow:
                handling.close(uow, cid, "p-x", roles, viewer)


def test_major_complaint_is_written_complex_and_escalated(units):
    cid = record(units, channel="written", major=True)
    rec = view(units, cid, DIRECTOR)
    assert rec["escalated"] and rec["complex"] and rec["due_on"] == "2025-03-10"
    [alert] = units.outbox("complaints.leadership_alerted")
    assert alert["reason"] == "major_complaint" and "张三丰" not in repr(alert)


def test_delay_is_explained_and_tracked(units):
    cid = record(units, complex=True)
    with units() as uow:
        rec = handling.explain_delay(uow, cid, "涉及县医保局，需协调", "phone", "p-officer", OFFICER)
    assert rec["tracking"] and rec["delay_notices"][0]["told_via"] == "phone"


# -- P5 ---------------------------------------------------------------------------------

def test_collective_petition_alerts_leadership_and_reception_is_tracked(units):
    data = {"channel": "in_person", "complainant": {"name": "李四", "phone": "13900001111"},
            "content": "柳溪村12户反映宅基地审批", "persons": 12, "reception_requested": True}
    with units() as uow:
        pid = handling.record_petition(uow, data, "p-officer").id
    rec = view(units, pid, DIRECTOR)
    assert rec["collective"] and rec["escalated"]
    assert rec["due_on"] == "2025-03-06" and rec["reception_due_on"] == "2025-03-10"
    assert units.outbox("complaints.leadership_alerted")[0]["reason"] == "collective_petition"
    with units() as uow:
        handling.conclude(uow, pid, "verified", "已协调", "p-director", DIRECTOR)
        handling.reply(uow, pid, "on_the_spot", "当面答复", "p-director", DIRECTOR)
    with pytest.raises(Conflict):
        with units() as uow:
            handling.close(uow, pid, "p-director", ["director"], DIRECTOR)  # reception missing
    with units() as uow:
        handling.record_reception(uow, pid, "p-director", None, DIRECTOR)
        assert handling.close(uow, pid, "p-director", ["director"], DIRECTOR)["state"] == "closed"


# -- P6 ---------------------------------------------------------------------------------

def rating_event(rating, case_id="case-1"):
    return events.parse("cases.rating_submitted", events.build(
        "cases.rating_submitted", "township-a", datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc),
        case_id=case_id, receipt_no="QS-0001", rating=rating, handler_person_id="p-clerk",
        window_id="w-civil"))


@pytest.mark.parametrize("rating, opened", [(1, True), (2, True), (3, False), (5, False)])
def test_rating_opens_follow_up_only_when_low(units, rating, opened):
    with units() as uow:
        followups.on_rating(uow, rating_event(rating))
    with units() as uow:
        rows = uow.session.query(FollowUp).all()
    assert len(rows) == (1 if opened else 0)
    if opened:
        assert rows[0].due_on.isoformat() == "2025-03-24"


def test_follow_up_needs_callback_then_rectification(units):
    with units() as uow:
        fid = followups.on_rating(uow, rating_event(1)).id
    with pytest.raises(Conflict):
        with units() as uow:
            followups.record_rectification(uow, fid, "已整改", "p-officer")
    with units() as uow:
        followups.record_callback(uow, fid, "已电话回访")
        rec = followups.record_rectification(uow, fid, "窗口已整改并致歉", "p-officer")
    assert rec["state"] == "closed"


# -- sweep ---------------------------------------------------------------------------------

def test_sweep_marks_each_overdue_item_once(units, clock):
    cid = record(units)                         # due Tue 4 Mar
    with units() as uow:
        followups.on_rating(uow, rating_event(2))  # due 24 Mar
    clock.set(datetime(2025, 3, 4, 15, 59, tzinfo=timezone.utc))  # 23:59 on 4 Mar in Shanghai
    assert sweep.sweep(units.sweep_run())["overdue"] == 0
    clock.set(datetime(2025, 3, 4, 16, 0, tzinfo=timezone.utc))   # 00:00 on 5 Mar in Shanghai
    assert sweep.sweep(units.sweep_run())["overdue"] == 1
    assert sweep.sweep(units.sweep_run())["overdue"] == 0
    [event] = units.outbox("complaints.overdue")
    assert event["item_id"] == cid and event["item_kind"] == "complaint"
    with units() as uow:
        assert handling.view(uow, cid, OFFICER)["overdue"]
        assert dict(sweep.open_counts(uow)) == {"township-a": 1}
    clock.set(datetime(2025, 3, 25, 2, 0, tzinfo=timezone.utc))
    assert sweep.sweep(units.sweep_run())["overdue"] == 1
    assert [e["item_kind"] for e in units.outbox("complaints.overdue")] == ["complaint", "follow_up"]


def test_public_outcomes_are_anonymous(units):
    cid = record(units)
    record(units, target_person_id=None, target_window_id="w-land", category="delay")
    with units() as uow:
        handling.conclude(uow, cid, "verified", "张三丰所述属实", "p-officer", OFFICER)
    with units() as uow:
        out = public.outcomes(uow)
    assert out["months"] == [{"month": "2025-03", "received": 2, "closed": 0, "verified": 1,
                              "not_verified": 0, "answered_on_time": 0}]
    assert out["outcomes"] == [{"month": "2025-03", "category": "attitude", "outcome": "verified",
                                "window": {"number": 1, "name": "民政窗口"}, "state": "concluded",
                                "concluded_on": "2025-03-03"}]
    assert "张三丰" not in repr(out) and "1381234" not in repr(out)
