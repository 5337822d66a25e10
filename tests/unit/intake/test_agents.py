"""I6 village agents on a real unit of work (SQLite, frozen clock): the submission deadline
(3 working days, never more than a week — seed 001), the reminder and overdue events (once,
with two sweeps), the application carrying the agent and the village, the applicant's rating of
the agent (C9's scale), the agents' scoreboard and its CSV, and tenancy."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone

import pytest

from services.common.calendar import load_calendar
from services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.intake import agents, organisation, sweep
from services.intake import applications as apps

from .conftest import T1, T2, applicant, make_item

ALL = ["申请书", "居民身份证", "户口簿复印件", "收入证明"]
AGENT, CLERK, OTHER = "a" * 32, "c" * 32, "o" * 32


def calendar(env):
    with env.uow() as uow:
        return load_calendar(uow.session, uow.common, uow.township_id)


# -- the rule: the deadline (pure, on the loaded 2025 calendar) -------------------------------

@pytest.mark.parametrize("collected, days, max_days, due", [
    (date(2025, 3, 3), 3, 7, date(2025, 3, 6)),    # Mon → Thu: 3 working days (C2, Art. 201)
    (date(2025, 3, 7), 3, 7, date(2025, 3, 12)),   # Fri → Wed: the weekend does not count
    (date(2025, 3, 8), 3, 7, date(2025, 3, 12)),   # collected on a Saturday: Mon, Tue, Wed
    # Fri 24 Jan: make-up Sun 26 Jan, Mon 27, Spring Festival off, Wed 5 Feb (the week's cap,
    # Fri 31 Jan, is a holiday and rolls over to the same day, Art. 203)
    (date(2025, 1, 24), 3, 7, date(2025, 2, 5)),
    (date(2025, 9, 25), 3, 7, date(2025, 9, 29)),  # Fri 26, make-up Sun 28, Mon 29 (National Day after)
    (date(2025, 3, 3), 6, 7, date(2025, 3, 10)),   # 6 working days (Tue 11) capped by the week (Mon 10)
    (date(2025, 1, 24), 5, 7, date(2025, 2, 5)),   # 5 working days (Fri 7 Feb) capped (31 Jan → 5 Feb)
    (date(2025, 3, 3), 1, 7, date(2025, 3, 4)),    # a township that says 1 working day
])
def test_I6_submission_deadline(env, collected, days, max_days, due):
    assert agents.submission_due(calendar(env), collected, days, max_days).day == due


@pytest.mark.parametrize("collected, due, before, remind", [
    (date(2025, 3, 3), date(2025, 3, 6), 1, date(2025, 3, 5)),
    (date(2025, 3, 3), date(2025, 3, 6), 0, date(2025, 3, 6)),
    (date(2025, 3, 7), date(2025, 3, 12), 2, date(2025, 3, 10)),
    (date(2025, 1, 24), date(2025, 2, 5), 1, date(2025, 1, 27)),  # the last working day before the festival
    (date(2025, 3, 3), date(2025, 3, 6), 9, date(2025, 3, 3)),    # never before the collection
])
def test_I6_reminder_day(env, collected, due, before, remind):
    assert agents.remind_on(calendar(env), collected, due, before) == remind


@pytest.mark.parametrize("due, submitted, late", [
    (date(2025, 3, 6), date(2025, 3, 5), False),
    (date(2025, 3, 6), date(2025, 3, 6), False),  # the deadline day itself is on time
    (date(2025, 3, 6), date(2025, 3, 7), True),
])
def test_I6_lateness(due, submitted, late):
    assert agents.is_late(due, submitted) is late


# -- register, collect, submit ---------------------------------------------------------------

def person(env, township, person_id, name, roles, active=True):
    with env.uow(township) as uow:
        organisation.apply_change(uow, {"entity": "person", "entity_id": person_id, "action": "created",
                                        "data": {"name": name, "roles": roles, "active": active}})


@pytest.fixture
def agent(env):
    make_item(env)
    person(env, T1, AGENT, "谢春花", ["village_agent"])
    person(env, T1, CLERK, "王晓燕", ["clerk"])
    with env.uow() as uow:
        return agents.register(uow, "director1", {"person_id": AGENT, "village": "柳溪村"})


def collect(env, township=T1, who=AGENT, **over):
    data = {"item_code": "MZ-002", "applicant_name": "李秀兰", "mandate_no": "LX-DB-001", **over}
    with env.uow(township) as uow:
        return agents.record_collection(uow, who, data, env.settings(township))


def bring(env, collection_id, township=T1, clerk=CLERK, **over):
    data = {"item_code": "MZ-002", "applicant": applicant(), "materials_brought": ALL,
            "collection_id": collection_id, **over}
    with env.uow(township) as uow:
        return apps.submit(uow, clerk, data, env.settings(township))


@pytest.mark.parametrize("person_id, roles, active, field", [
    ("n" * 32, ["clerk"], True, "person_id"),            # not a village agent
    ("d" * 32, ["village_agent"], False, "person_id"),   # deactivated
    ("x" * 32, None, True, "person_id"),                 # unknown here (another township's person)
])
def test_only_an_active_village_agent_of_the_township_is_registered(env, person_id, roles, active, field):
    if roles is not None:
        person(env, T1, person_id, "某人", roles, active)
    else:
        person(env, T2, person_id, "外镇代办员", ["village_agent"])
    with env.uow() as uow, pytest.raises(ValidationFailed) as exc:
        agents.register(uow, "director1", {"person_id": person_id, "village": "柳溪村"})
    assert field in exc.value.details


def test_an_agents_application_carries_the_agent_the_village_and_the_mandate(env, agent):
    c = collect(env)  # Fri 24 Jan 2025
    assert (c["due_on"], c["status"], c["village"], c["overdue"]) == ("2025-02-05", "collected", "柳溪村", False)
    out = bring(env, c["id"], first_asked_person_id="someone-else")
    a = out["application"]
    assert (a["agent_id"], a["agent_person_id"], a["agent_name"], a["village"]) == \
        (agent["id"], AGENT, "谢春花", "柳溪村")
    assert (a["proxy"], a["mandate_no"], a["collected_on"], a["agent_due_on"], a["agent_late"]) == \
        (True, "LX-DB-001", "2025-01-24", "2025-02-05", False)
    assert a["first_asked_person_id"] == CLERK  # I6: the receiving clerk is the first-asked person
    [accepted] = env.outbox("intake.application_accepted")
    assert accepted["proxy"] is True and accepted["mandate_no"] == "LX-DB-001"
    with env.uow() as uow:
        [row] = agents.list_collections(uow, env.settings(), full=True, status="submitted")
    assert row["application_id"] == a["id"] and row["late"] is False
    with env.uow() as uow, pytest.raises(Conflict):  # received once
        apps.submit(uow, CLERK, {"item_code": "MZ-002", "applicant": applicant(), "materials_brought": ALL,
                                 "collection_id": c["id"]}, env.settings())


def test_brought_after_the_deadline_is_recorded_late(env, agent):
    c = collect(env)
    env.clock.set(datetime(2025, 2, 6, 2, 0, tzinfo=timezone.utc))  # Thu 6 Feb, due Wed 5 Feb
    a = bring(env, c["id"])["application"]
    assert a["agent_late"] is True


@pytest.mark.parametrize("township, who, over, error, field", [
    (T1, CLERK, {}, Forbidden, None),                                  # not a registered agent
    (T1, AGENT, {"collected_on": "2025-01-25"}, ValidationFailed, "collected_on"),  # the future
    (T1, AGENT, {"collected_on": "2025-01-10"}, ValidationFailed, "collected_on"),  # older than a week
    (T1, AGENT, {"mandate_no": None}, ValidationFailed, "mandate_no"),  # the written mandate
    (T1, AGENT, {"item_code": "XX-404"}, ValidationFailed, "item_code"),  # not in the catalogue
    (T2, AGENT, {}, Forbidden, None),                                  # registered in T1 only
])
def test_a_collection_is_refused_with_the_field_named(env, agent, township, who, over, error, field):
    with pytest.raises(error) as exc:
        collect(env, township, who, **over)
    if field:
        assert field in exc.value.details


def test_an_agent_removed_from_the_role_or_deactivated_records_nothing_more(env, agent):
    collect(env)
    person(env, T1, AGENT, "谢春花", ["clerk"])  # staff took the role away
    with pytest.raises(Forbidden):
        collect(env)
    person(env, T1, AGENT, "谢春花", ["village_agent"], active=False)
    with pytest.raises(Forbidden):
        collect(env)


def test_a_collection_is_taken_only_by_its_own_item_and_township(env, agent):
    c = collect(env)
    make_item(env, code="MZ-009")
    with pytest.raises(ValidationFailed) as exc:
        bring(env, c["id"], item_code="MZ-009")
    assert "collection_id" in exc.value.details
    make_item(env, T2)
    with pytest.raises(ValidationFailed) as exc:  # T2's clerk cannot take T1's collection
        bring(env, c["id"], township=T2)
    assert "collection_id" in exc.value.details
    with env.uow(T2) as uow:
        assert agents.list_collections(uow, env.settings(T2), full=True) == []
        assert agents.list_agents(uow) == []


# -- reminder and overdue (N1 consumes the events) -------------------------------------------

def test_reminder_then_overdue_each_once_with_two_sweeps_and_no_applicant_data(env, agent):
    c = collect(env, collected_on="2025-01-24")  # due Wed 5 Feb, reminded Mon 27 Jan
    done = bring(env, collect(env)["id"])  # brought at once: never reminded
    run = env.units.sweep_run()
    assert sweep.sweep(run)["agent_reminders"] == 0  # Fri 24 Jan: not yet
    env.clock.set(datetime(2025, 1, 27, 1, 0, tzinfo=timezone.utc))  # Mon 27 Jan 09:00
    assert sweep.sweep(run)["agent_reminders"] + sweep.sweep(run)["agent_reminders"] == 1
    [reminder] = env.outbox("intake.agent_submission_reminder")
    assert (reminder["collection_id"], reminder["agent_person_id"], reminder["due_on"]) == \
        (c["id"], AGENT, "2025-02-05")
    env.clock.set(datetime(2025, 2, 5, 15, 0, tzinfo=timezone.utc))  # Wed 5 Feb 23:00: still on time
    assert sweep.sweep(run)["agent_overdue"] == 0
    env.clock.set(datetime(2025, 2, 5, 16, 30, tzinfo=timezone.utc))  # Thu 6 Feb 00:30 local
    assert sweep.sweep(run)["agent_overdue"] + sweep.sweep(run)["agent_overdue"] == 1
    [overdue] = env.outbox("intake.agent_submission_overdue")
    assert overdue["collection_id"] == c["id"] and overdue["village"] == "柳溪村"
    raw = json.dumps(env.outbox(), ensure_ascii=False)
    assert "李秀兰" not in raw and "13812345678" not in raw
    with env.uow() as uow:
        listed = agents.list_collections(uow, env.settings(), full=False, overdue=True)
    assert [r["id"] for r in listed] == [c["id"]] and listed[0]["overdue"] is True
    assert listed[0]["applicant_name"] != "李秀兰"  # masked for a role that does not need it
    from services.intake.service import _agents_overdue
    with env.uow() as uow:
        assert _agents_overdue(uow) == [(T1, 1)]  # the gauge intake_agent_collections_overdue
    assert done["application"]["agent_late"] is False


# -- rating and the scoreboard ----------------------------------------------------------------

@pytest.mark.parametrize("rating, error", [(0, ValidationFailed), (6, ValidationFailed), ("5", ValidationFailed),
                                           (True, ValidationFailed)])
def test_a_rating_is_a_whole_number_from_1_to_5(env, agent, rating, error):
    app = bring(env, collect(env)["id"])["application"]
    with env.uow() as uow, pytest.raises(error) as exc:
        agents.rate(uow, rating, application_id=app["id"], channel="paper")
    assert "rating" in exc.value.details


def test_the_agent_is_rated_once_and_only_for_an_agents_application(env, agent):
    out = bring(env, collect(env)["id"])
    with env.uow() as uow:
        got = agents.rate(uow, 2, "跑了两趟", receipt_no=out["receipt"]["receipt_no"])
    assert got == {"application_id": out["application"]["id"], "agent_id": agent["id"], "rating": 2,
                   "label": "不满意"}
    with env.uow() as uow, pytest.raises(Conflict):
        agents.rate(uow, 5, receipt_no=out["receipt"]["receipt_no"])
    with env.uow() as uow:
        plain = apps.submit(uow, CLERK, {"item_code": "MZ-002", "applicant": applicant(),
                                         "materials_brought": ALL}, env.settings())
    with env.uow() as uow, pytest.raises(Conflict):
        agents.rate(uow, 5, receipt_no=plain["receipt"]["receipt_no"])
    with env.uow(T2) as uow, pytest.raises(NotFound):  # another township's receipt
        agents.rate(uow, 5, receipt_no=out["receipt"]["receipt_no"])


def test_the_scoreboard_ranks_on_time_then_satisfaction_and_exports_a_spreadsheet(env, agent):
    other = "b" * 32
    person(env, T1, other, "=HYPERLINK(\"x\")", ["village_agent"])
    with env.uow() as uow:
        second = agents.register(uow, "director1", {"person_id": other, "village": "石门村"})
    # 谢春花: two brought on time (rated 5 and 4); the other agent: one on time (rated 1), one late
    for rating in (5, 4):
        out = bring(env, collect(env)["id"])
        with env.uow() as uow:
            agents.rate(uow, rating, receipt_no=out["receipt"]["receipt_no"])
    on_time = bring(env, collect(env, who=other)["id"])
    with env.uow() as uow:
        agents.rate(uow, 1, application_id=on_time["application"]["id"], channel="paper")
    late = collect(env, who=other)
    unrelated = collect(env, who=other)  # still out
    env.clock.set(datetime(2025, 2, 6, 2, 0, tzinfo=timezone.utc))
    bring(env, late["id"])
    with env.uow() as uow:
        board = agents.scoreboard(uow, "2025-01", env.settings())
    first, last = board["agents"]
    assert (first["rank"], first["agent_id"], first["collected"], first["on_time"], first["late"]) == \
        (1, agent["id"], 2, 2, 0)
    assert (first["on_time_rate"], first["mean_rating"], first["satisfaction"], first["rating_points"]) == \
        (1.0, 4.5, 1.0, 92.5)
    assert (last["agent_id"], last["collected"], last["submitted"], last["late"], last["overdue_open"]) == \
        (second["id"], 3, 2, 1, 1)
    assert last["on_time_rate"] == pytest.approx(1 / 3, abs=1e-4) and last["rating_points"] == 50
    assert unrelated["status"] == "collected"
    with env.uow() as uow:
        assert agents.scoreboard(uow, "2025-02", env.settings())["agents"][0]["collected"] == 0
        with pytest.raises(ValidationFailed) as exc:
            agents.scoreboard(uow, "2025-13", env.settings())
    assert "month" in exc.value.details
    text = agents.scoreboard_csv(board)
    assert text.startswith("\ufeff")  # UTF-8 with BOM: a spreadsheet opens the Chinese text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["名次", "代办员", "村（代理点）"] and rows[1][1] == "谢春花"
    assert rows[2][1].startswith("'=")  # formula-safe (csvsafe)
    with env.uow(T2) as uow:  # another township's board shows none of these
        assert agents.scoreboard(uow, "2025-01", env.settings(T2))["agents"] == []


@pytest.mark.parametrize("rating, follow_up", [(1, True), (2, True), (3, False), (4, False), (5, False)])
def test_P6_I6_a_rating_is_published_and_1_to_2_asks_complaints_for_a_follow_up(env, agent, rating, follow_up):
    out = bring(env, collect(env)["id"])
    with env.uow() as uow:
        agents.rate(uow, rating, "代办员没来，打他电话13812345678也不接", receipt_no=out["receipt"]["receipt_no"])
    [event] = env.outbox("intake.agent_rated")
    assert (event["application_id"], event["agent_id"], event["agent_person_id"], event["rating"],
            event["follow_up"], event["receipt_no"], event["township_id"]) == \
        (out["application"]["id"], agent["id"], AGENT, rating, follow_up, out["receipt"]["receipt_no"], T1)
    # P2 as the window's follow-ups: no applicant in the event, long digit runs masked
    assert "13812345678" not in event["comment"] and "138****78" in event["comment"]
    raw = json.dumps(event, ensure_ascii=False)
    assert "李秀兰" not in raw and "110101199003071234" not in raw


# -- removal from the register and withdrawal (I6) ------------------------------------------

def remove(env, agent_id, township=T1, reason="本人辞去代办员职务"):
    with env.uow(township) as uow:
        return agents.remove(uow, "director1", agent_id, {"reason": reason})


def withdraw(env, collection_id, who=AGENT, own=True, township=T1, reason="申请人决定暂不申请"):
    with env.uow(township) as uow:
        return agents.withdraw(uow, collection_id, who, {"reason": reason}, env.settings(township), True, own)


def test_I6_a_removed_agent_records_nothing_more_and_their_open_collections_stay_tracked(env, agent):
    out = collect(env, collected_on="2025-01-24")  # due Wed 5 Feb
    brought = collect(env)
    bring(env, brought["id"])
    removed = remove(env, agent["id"])
    assert (removed["active"], removed["removal_reason"], removed["open_collections"]) == \
        (False, "本人辞去代办员职务", 1)
    assert removed["removed_at"] is not None
    with pytest.raises(Forbidden):  # no new collections
        collect(env)
    with env.uow() as uow:  # still on the register, shown removed; the collection still listed
        assert [(a["id"], a["active"]) for a in agents.list_agents(uow)] == [(agent["id"], False)]
        assert [c["id"] for c in agents.list_collections(uow, env.settings(), True, status="collected")] == [out["id"]]
    with env.uow() as uow, pytest.raises(Conflict):  # removed once
        agents.remove(uow, "director1", agent["id"], {"reason": "again"})
    env.clock.set(datetime(2025, 2, 5, 16, 30, tzinfo=timezone.utc))  # Thu 6 Feb: still tracked
    assert sweep.sweep(env.units.sweep_run())["agent_overdue"] == 1
    assert bring(env, out["id"])["application"]["agent_late"] is True  # and still received
    with env.uow() as uow:  # registering the person again restores them
        again = agents.register(uow, "director1", {"person_id": AGENT, "village": "柳溪村"})
    assert (again["active"], again["removal_reason"]) == (True, None)


@pytest.mark.parametrize("data, township, agent_id, error, field", [
    ({}, T1, None, ValidationFailed, "reason"),              # the reason is on record
    ({"reason": ""}, T1, None, ValidationFailed, "reason"),
    ({"reason": "x"}, T1, "nobody", NotFound, None),
    ({"reason": "x"}, T2, None, NotFound, None),             # tenancy: another township's agent
])
def test_I6_a_removal_is_refused_with_the_field_named(env, agent, data, township, agent_id, error, field):
    with env.uow(township) as uow, pytest.raises(error) as exc:
        agents.remove(uow, "director1", agent_id or agent["id"], data)
    if field:
        assert field in exc.value.details
    with env.uow() as uow:
        assert agents.list_agents(uow)[0]["active"] is True  # nothing half-written


def test_I6_a_collection_is_withdrawn_with_its_reason_and_is_no_longer_due(env, agent):
    c = collect(env, collected_on="2025-01-24")
    out = withdraw(env, c["id"])
    assert (out["status"], out["withdrawal_reason"], out["withdrawn_by"], out["overdue"]) == \
        ("withdrawn", "申请人决定暂不申请", AGENT, False)
    env.clock.set(datetime(2025, 2, 6, 2, 0, tzinfo=timezone.utc))  # past its deadline
    run = env.units.sweep_run()
    assert sweep.sweep(run)["agent_reminders"] == 0 and sweep.sweep(run)["agent_overdue"] == 0
    with env.uow() as uow:
        assert agents.list_collections(uow, env.settings(), True, overdue=True) == []
        assert [r["withdrawal_reason"] for r in agents.list_collections(uow, env.settings(), True,
                                                                        status="withdrawn")] == ["申请人决定暂不申请"]
    with pytest.raises(Conflict) as exc:  # nor received at the centre
        bring(env, c["id"])
    assert exc.value.details == {"collection_id": ["withdrawn"]}
    with pytest.raises(Conflict):
        withdraw(env, c["id"])


@pytest.mark.parametrize("who, own, township, state, error, field", [
    (AGENT, True, T1, "submitted", Conflict, None),           # already received at the centre
    (AGENT, True, T1, "collected", ValidationFailed, "reason"),  # no reason
    ("b" * 32, True, T1, "collected", NotFound, None),        # another agent's collection
    (CLERK, False, T2, "collected", NotFound, None),          # tenancy: another township's desk
])
def test_I6_a_withdrawal_is_refused(env, agent, who, own, township, state, error, field):
    c = collect(env)
    if state == "submitted":
        bring(env, c["id"])
    with pytest.raises(error) as exc:
        withdraw(env, c["id"], who, own, township, reason="" if field else "x")
    if field:
        assert field in exc.value.details
    with env.uow() as uow:
        [row] = agents.list_collections(uow, env.settings(), True)
    assert row["status"] == state and row["withdrawal_reason"] is None


def test_I6_the_desk_withdraws_any_collection(env, agent):
    c = collect(env)
    assert withdraw(env, c["id"], CLERK, own=False)["withdrawn_by"] == CLERK


# -- deadlines follow the calendar (I6 with C2: provisional days, recomputed) -----------------

def change_calendar(env, scope, days, loaded_year=None):
    """staff.calendar_changed as the service's handler applies it: the copy, then the mark."""
    from services.common.calendar import apply_calendar_change
    from services.intake import recompute

    with env.uow(None if scope == "*" else scope) as uow:
        apply_calendar_change(uow.session, uow.common, {"scope": scope, "days": days, "loaded_year": loaded_year},
                              uow.now())
        uow.session.flush()
        return recompute.mark(uow, None if scope == "*" else scope)


def collections(env, township=T1):
    with env.uow(township) as uow:
        return {c["id"]: c for c in agents.list_collections(uow, env.settings(township), True)}


def other_agent(env, township=T2):
    make_item(env, township)
    person(env, township, OTHER, "外镇代办员", ["village_agent"])
    with env.uow(township) as uow:
        agents.register(uow, "director1", {"person_id": OTHER, "village": "石门村"})


# C2: Wed 30 Dec 2026 + 3 working days → Thu 31 Dec, Fri 1 Jan 2027, Mon 4 Jan: 2027 has no data
# (provisional). 2027 loaded with 1 Jan a holiday → Tue 5 Jan, firm; the reminder a working day
# before follows (Mon 4 Jan).
@pytest.mark.parametrize("days, before, after, remind_after", [
    ([{"day": "2027-01-01", "working": False}], ("2027-01-04", True), ("2027-01-05", False), "2027-01-04"),
    ([], ("2027-01-04", True), ("2027-01-04", False), "2027-01-01"),  # loaded, no holiday in it: firm
    # loaded with 1–4 Jan off: 5 Jan is the 2nd working day, the week's cap Wed 6 Jan comes first
    ([{"day": f"2027-01-0{d}", "working": False} for d in (1, 4, 5)], ("2027-01-04", True),
     ("2027-01-06", False), "2026-12-31"),
])
def test_C2_I6_a_provisional_deadline_is_recomputed_when_the_year_is_loaded(env, agent, days, before, after,
                                                                           remind_after):
    from services.intake import recompute

    env.clock.set(datetime(2026, 12, 30, 2, 0, tzinfo=timezone.utc))  # Wed 30 Dec 2026, 10:00 local
    c = collect(env)
    other_agent(env)
    with env.uow(T2) as uow:
        o = agents.record_collection(uow, OTHER, {"item_code": "MZ-002", "applicant_name": "某人",
                                                  "mandate_no": "SM-1"}, env.settings(T2))
    assert (c["due_on"], c["due_provisional"]) == before
    assert change_calendar(env, "*", days, loaded_year=2027) == [T1, T2]  # a national change: both
    work = recompute.Recomputer().settle(env.units)
    assert (work["passes"], work["changed"]) == (2, 2)
    got = collections(env)[c["id"]]
    assert (got["due_on"], got["due_provisional"]) == after
    with env.uow() as uow:
        from services.intake.models import AgentCollection
        assert uow.session.get(AgentCollection, c["id"]).remind_on.isoformat() == remind_after
    t2 = collections(env, T2)[o["id"]]
    assert (t2["due_on"], t2["due_provisional"]) == after
    assert recompute.Recomputer().settle(env.units)["chunks"] == 0  # nothing more to do


def test_C2_I6_a_local_holiday_moves_open_deadlines_in_chunks_and_nobody_elses(env, agent):
    """Collected Mon 3 Mar 2025 → due Thu 6 Mar. T1 declares Wed 5 Mar a local holiday, toggled 4
    times (one pass, coalesced): the 7 collections still out move to Fri 7 Mar in chunks of 3;
    the one brought in, the withdrawn one, the one announced overdue and T2's keep theirs."""
    from services.intake import recompute
    from services.intake.models import AgentCollection, CalendarRecompute

    env.clock.set(datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc))
    out = [collect(env)["id"] for _ in range(7)]
    brought, gone, told = collect(env), collect(env), collect(env)
    bring(env, brought["id"])
    withdraw(env, gone["id"])
    with env.uow() as uow:
        uow.session.get(AgentCollection, told["id"]).overdue_at = uow.now()
    other_agent(env)
    with env.uow(T2) as uow:
        o = agents.record_collection(uow, OTHER, {"item_code": "MZ-002", "applicant_name": "某人",
                                                  "mandate_no": "SM-1"}, env.settings(T2))
    for i in range(4):
        change_calendar(env, T1, [{"day": "2025-03-05", "working": i % 2 == 0}])
    work = recompute.Recomputer(chunk=3).settle(env.units)
    assert (work["passes"], work["chunks"], work["collections"], work["changed"]) == (1, 3, 7, 7)  # 3+3+1
    got = collections(env)
    assert {got[i]["due_on"] for i in out} == {"2025-03-07"}
    assert [got[x["id"]]["due_on"] for x in (brought, gone, told)] == ["2025-03-06"] * 3
    assert collections(env, T2)[o["id"]]["due_on"] == "2025-03-06"
    with env.uow() as uow:
        row = uow.session.get(CalendarRecompute, T1)
        assert (row.version, row.done_version, row.cursor, row.passes) == (4, 4, None, 1)
        assert uow.session.get(CalendarRecompute, T2) is None
    # the sweep follows the new deadline: not overdue on Fri 7 Mar, overdue on Sat 8 Mar
    env.clock.set(datetime(2025, 3, 7, 2, 0, tzinfo=timezone.utc))
    assert sweep.sweep(env.units.sweep_run())["agent_overdue"] == 1  # T2's alone (due Thu 6 Mar)
    env.clock.set(datetime(2025, 3, 8, 2, 0, tzinfo=timezone.utc))
    assert sweep.sweep(env.units.sweep_run())["agent_overdue"] == 7


def test_C2_I6_one_brought_in_on_a_provisional_deadline_is_settled_with_its_application(env, agent):
    """Collected Wed 30 Dec 2026 → provisional Mon 4 Jan; brought Tue 5 Jan: late on the
    provisional count. 2027 loaded with 1 Jan a holiday → due Tue 5 Jan: on time after all."""
    from services.intake import recompute

    env.clock.set(datetime(2026, 12, 30, 2, 0, tzinfo=timezone.utc))
    c = collect(env)
    env.clock.set(datetime(2027, 1, 5, 2, 0, tzinfo=timezone.utc))
    app = bring(env, c["id"])["application"]
    assert (app["agent_due_on"], app["agent_late"]) == ("2027-01-04", True)
    change_calendar(env, "*", [{"day": "2027-01-01", "working": False}], loaded_year=2027)
    assert recompute.Recomputer().settle(env.units)["changed"] == 1
    got = collections(env)[c["id"]]
    assert (got["due_on"], got["due_provisional"], got["late"]) == ("2027-01-05", False, False)
    with env.uow() as uow:
        a = apps.get_application(uow, app["id"], True)
    assert (a["agent_due_on"], a["agent_late"]) == ("2027-01-05", False)


def test_C2_I6_no_overdue_on_a_provisional_deadline_until_the_year_is_loaded(env, agent):
    """Collected Wed 30 Dec 2026 → provisional Mon 4 Jan 2027 (no 2027 data). The reminder goes
    out; on Wed 6 Jan the overdue announcement is held (C2: nothing irreversible on a provisional
    deadline). 2027 loaded (1 Jan a holiday) → due Tue 5 Jan, firm: overdue once, announced."""
    from services.intake import recompute

    env.clock.set(datetime(2026, 12, 30, 2, 0, tzinfo=timezone.utc))
    c = collect(env)
    assert (c["due_on"], c["due_provisional"]) == ("2027-01-04", True)
    run = env.units.sweep_run()
    env.clock.set(datetime(2027, 1, 4, 2, 0, tzinfo=timezone.utc))
    assert sweep.sweep(run)["agent_reminders"] == 1  # reminders may go out on a provisional day
    env.clock.set(datetime(2027, 1, 6, 2, 0, tzinfo=timezone.utc))
    assert sweep.sweep(run)["agent_overdue"] == 0
    with env.uow() as uow:
        assert agents.mark_overdue(uow, c["id"], env.settings()) is False  # held, even when asked directly
    assert env.outbox("intake.agent_submission_overdue") == []
    change_calendar(env, "*", [{"day": "2027-01-01", "working": False}], loaded_year=2027)
    recompute.Recomputer().settle(env.units)
    assert (collections(env)[c["id"]]["due_on"], collections(env)[c["id"]]["due_provisional"]) == \
        ("2027-01-05", False)
    assert sweep.sweep(run)["agent_overdue"] + sweep.sweep(run)["agent_overdue"] == 1
    [overdue] = env.outbox("intake.agent_submission_overdue")
    assert (overdue["collection_id"], overdue["due_on"], overdue["provisional"]) == (c["id"], "2027-01-05", False)


def test_I6_a_withdrawn_collection_is_not_counted_as_collected_on_the_scoreboard(env, agent):
    kept, gone = collect(env), collect(env)
    bring(env, kept["id"])
    withdraw(env, gone["id"])
    env.clock.set(datetime(2025, 2, 20, 2, 0, tzinfo=timezone.utc))  # long past the withdrawn one's deadline
    with env.uow() as uow:
        [line] = agents.scoreboard(uow, "2025-01", env.settings())["agents"]
    assert (line["collected"], line["submitted"], line["on_time"], line["overdue_open"]) == (1, 1, 1, 0)
    assert line["on_time_rate"] == 1.0
