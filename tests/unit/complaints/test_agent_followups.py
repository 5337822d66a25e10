"""P6 for village agents (I6 with C9's scale): an applicant's rating of 1–2 of the agent who
brought the application (``intake.agent_rated``) opens a follow-up exactly as a low window rating
does — once per application, due in the same N working days, the agent where the handler
stands, no applicant data, seen by the complaint desk only, and never in another township."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from services.common import events
from services.complaints import followups, sweep
from services.complaints.models import FollowUp

from .conftest import T

OTHER_T = "township-b"


def agent_rating(rating, application_id="app-1", township=T, comment=None):
    return events.parse("intake.agent_rated", events.build(
        "intake.agent_rated", township, datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc),
        application_id=application_id, receipt_no="QS-0007", agent_id="agent-1", agent_person_id="p-agent",
        village="柳溪村", rating=rating, comment=comment, channel="online", follow_up=rating <= 2))


@pytest.mark.parametrize("rating, opened", [(1, True), (2, True), (3, False), (4, False), (5, False)])
def test_P6_I6_a_low_agent_rating_opens_a_follow_up(units, rating, opened):
    with units() as uow:
        followups.on_agent_rating(uow, agent_rating(rating))
    with units() as uow:
        rows = uow.session.query(FollowUp).all()
        assert len(rows) == (1 if opened else 0)
        if opened:
            f = rows[0]
            # P6 / C9: rated Mon 3 Mar 2025, 15 working days → Mon 24 Mar (the window's period)
            assert (f.subject, f.case_id, f.application_id, f.agent_id, f.handler_person_id, f.window_id,
                    f.due_on.isoformat(), f.state) == \
                ("agent", None, "app-1", "agent-1", "p-agent", None, "2025-03-24", "open")
    opened_events = units.outbox("complaints.follow_up_opened")
    assert len(opened_events) == (1 if opened else 0)
    if opened:
        assert (opened_events[0]["subject"], opened_events[0]["application_id"], opened_events[0]["case_id"]) == \
            ("agent", "app-1", None)


def test_P6_an_application_is_followed_up_once_and_beside_a_case_follow_up(units):
    with units() as uow:
        first = followups.on_agent_rating(uow, agent_rating(1)).id
        assert followups.on_agent_rating(uow, agent_rating(2)).id == first  # redelivered / rated again
        followups.on_rating(uow, events.parse("cases.rating_submitted", events.build(
            "cases.rating_submitted", T, datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc), case_id="case-1",
            receipt_no="QS-0007", rating=1, handler_person_id="p-clerk", window_id="w-civil")))
        followups.on_agent_rating(uow, agent_rating(2, application_id="app-2"))
    with units() as uow:
        listed = followups.list_follow_ups(uow)
    assert sorted((f["subject"], f["case_id"], f["application_id"]) for f in listed) == \
        [("agent", None, "app-1"), ("agent", None, "app-2"), ("case", "case-1", None)]


def test_P2_P6_an_agent_follow_up_carries_no_applicant_and_is_closed_like_any(units):
    with units() as uow:
        fid = followups.on_agent_rating(uow, agent_rating(1, comment="代办员没来，电话138****78")).id
    with units() as uow:
        out = followups.get_follow_up(uow, fid)
        followups.record_callback(uow, fid, "已电话回访申请人")
        assert followups.record_rectification(uow, fid, "代办员已约谈整改", "p-officer")["state"] == "closed"
    raw = json.dumps([out, units.outbox()], ensure_ascii=False, default=str)
    assert "李秀兰" not in raw and "13812345678" not in raw
    assert out["receipt_no"] == "QS-0007" and out["comment"] == "代办员没来，电话138****78"


def test_P6_an_agent_follow_up_past_its_day_is_overdue_once_for_the_agent(units, clock):
    with units() as uow:
        followups.on_agent_rating(uow, agent_rating(2))  # due Mon 24 Mar
    clock.set(datetime(2025, 3, 24, 15, 0, tzinfo=timezone.utc))
    assert sweep.sweep(units.sweep_run())["overdue"] == 0
    clock.set(datetime(2025, 3, 24, 16, 0, tzinfo=timezone.utc))  # 00:00 on 25 Mar in Shanghai
    assert sweep.sweep(units.sweep_run())["overdue"] == 1
    assert sweep.sweep(units.sweep_run())["overdue"] == 0
    [overdue] = units.outbox("complaints.overdue")
    assert (overdue["item_kind"], overdue["target_person_id"]) == ("follow_up", "p-agent")


def test_tenancy_another_townships_agent_rating_is_not_seen_here(units):
    with units(OTHER_T) as uow:
        followups.on_agent_rating(uow, agent_rating(1, township=OTHER_T))
    with units() as uow:
        assert followups.list_follow_ups(uow) == []
    with units(OTHER_T) as uow:
        [f] = followups.list_follow_ups(uow)
    assert f["application_id"] == "app-1"
    with units() as uow:  # the same application id in this township is its own follow-up
        followups.on_agent_rating(uow, agent_rating(1))
        assert len(followups.list_follow_ups(uow)) == 1
