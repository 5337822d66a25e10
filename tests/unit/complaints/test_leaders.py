"""P5 leader on duty and P7 forwarding on a real (in-memory) unit of work, without a broker.

P5: the month's duty roster (one leader a day, every working day covered to publish — C2's
calendar), only a published roster counts, the public answer names the leader only, receptions
booked to the leader on duty, the reminder/alert when next month's roster is unpublished (once,
with two sweeping instances). P7: forwarding to a department with a deadline in working days,
the department reading without the complainant's identity (P2), answer → check (accepted /
returned for a new round), outcome and reply held until the answer is checked, the reply passes
it on, overdue once, major complaints reported upward on record. Another township sees nothing.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from services.common import events
from services.common.clock import FrozenClock
from services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.complaints import duty, forwarding, handling, sweep
from services.complaints.models import (
    Base,
    Complaint,
    DepartmentCopy,
    DutyDay,
    Forwarding,
    PersonCopy,
    RosterAlert,
    UpwardReport,
    WindowCopy,
)
from tests.support.units import UnitsOfWork

T, OTHER_T = "township-a", "township-b"
# Mon 3 Mar 2025, 10:00 in Shanghai
NOW = datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc)

OFFICER = handling.Viewer("p-officer", ["complaint_officer"])
DIRECTOR = handling.Viewer("p-director", ["director"])
DEPT_HEAD = handling.Viewer("p-head", ["section_head"], None, "d-civil")
DEPT_CLERK = handling.Viewer("p-clerk", ["clerk"], "w-civil", "d-civil")
OTHER_DEPT = handling.Viewer("p-land", ["clerk"], "w-land", "d-land")

PERSONAL = ("张三丰", "13812345678", "青山镇柳溪村3组")
BASE = {
    "channel": "written", "category": "delay",
    "complainant": {"name": PERSONAL[0], "phone": PERSONAL[1], "address": PERSONAL[2]},
    "target_window_id": "w-civil",
    "content": f"{PERSONAL[0]}反映：民政办低保拖了两个月没有答复，电话{PERSONAL[1]}，身份证430123195811020027。",
}


@pytest.fixture
def clock():
    return FrozenClock(NOW)


@pytest.fixture
def units(clock):
    u = UnitsOfWork(Base, "complaints", clock, township_id=T)
    with u(T) as uow:
        uow.session.add_all([
            DepartmentCopy(id="d-civil", name="民政办"), DepartmentCopy(id="d-land", name="国土所"),
            WindowCopy(id="w-civil", number=1, name="民政窗口", department_id="d-civil"),
            WindowCopy(id="w-land", number=4, name="国土窗口", department_id="d-land"),
            PersonCopy(id="p-director", name="李书记", roles=["director"]),
            PersonCopy(id="p-deputy", name="周镇长", roles=["deputy_director"]),
            PersonCopy(id="p-retired", name="退休", roles=["deputy_director"], active=False),
            PersonCopy(id="p-officer", name="彭玉兰", roles=["complaint_officer"]),
            PersonCopy(id="p-head", name="民政股长", roles=["section_head"], department_id="d-civil"),
            PersonCopy(id="p-clerk", name="王晓燕", roles=["clerk"], window_id="w-civil", department_id="d-civil"),
            PersonCopy(id="p-land", name="吴刚", roles=["clerk"], window_id="w-land", department_id="d-land"),
            PersonCopy(id="p-land-b", name="郑林", roles=["clerk"], window_id="w-land", department_id="d-land"),
        ])
    with u(OTHER_T) as uow:
        uow.session.add_all([
            DepartmentCopy(id="b-dept", name="民政办"),
            PersonCopy(id="b-director", name="外镇主任", roles=["director"]),
            PersonCopy(id="b-head", name="外镇股长", roles=["section_head"], department_id="b-dept"),
        ])
    return u


def all_working_days(units, month, who="p-director"):
    with units(T) as uow:
        missing = duty.missing_days(uow, month, [])
    return [{"day": d.isoformat(), "person_id": who} for d in missing]


def publish_month(units, month, who="p-director"):
    with units(T) as uow:
        duty.set_roster(uow, month, all_working_days(units, month, who), "p-officer")
    with units(T) as uow:
        return duty.publish(uow, month, "p-officer")


# == P5 ========================================================================================

@pytest.mark.parametrize("days, field", [
    ([{"day": "2025-05-01", "person_id": "p-director"}], "days[0].day"),             # not in the month
    ([{"day": "2025-04-31", "person_id": "p-director"}], "days[0].day"),             # no such date
    ([{"day": "2025-04-01", "person_id": "p-director"},
      {"day": "2025-04-01", "person_id": "p-deputy"}], "days[1].day"),               # two leaders one day
    ([{"day": "2025-04-01", "person_id": "p-clerk"}], "days[0].person_id"),          # not a leader role
    ([{"day": "2025-04-01", "person_id": "p-retired"}], "days[0].person_id"),        # deactivated
    ([{"day": "2025-04-01", "person_id": "b-director"}], "days[0].person_id"),       # another township's
    ([{"day": "2025-04-01"}], "days[0].person_id"),
    (["2025-04-01"], "days[0]"),
    ("2025-04-01", "days"),
])
def test_p5_a_bad_roster_is_refused_with_the_field_named_and_nothing_written(units, days, field):
    with units(T) as uow, pytest.raises(ValidationFailed) as err:
        duty.set_roster(uow, "2025-04", days, "p-officer")
    assert field in err.value.details
    with units(T) as uow:
        assert uow.session.query(DutyDay).count() == 0


@pytest.mark.parametrize("month", ["2025-13", "25-04", "", "2025-4"])
def test_p5_a_bad_month_names_the_month(units, month):
    with units(T) as uow, pytest.raises(ValidationFailed) as err:
        duty.set_roster(uow, month, [], "p-officer")
    assert "month" in err.value.details


def test_p5_publishing_needs_every_working_day_of_the_month_covered(units):
    """C2: April 2025 — Qingming (Fri 4 Apr) needs nobody, the make-up Sunday 27 Apr does."""
    days = all_working_days(units, "2025-04")
    assert {"day": "2025-04-27", "person_id": "p-director"} in days
    assert not any(d["day"] in ("2025-04-04", "2025-04-05", "2025-04-06") for d in days)
    with units(T) as uow:
        r = duty.set_roster(uow, "2025-04", [d for d in days if d["day"] != "2025-04-27"], "p-officer")
    assert r["state"] == "draft" and r["missing_days"] == ["2025-04-27"]
    with units(T) as uow, pytest.raises(ValidationFailed) as err:
        duty.publish(uow, "2025-04", "p-officer")
    assert err.value.details == {"days": ["no leader on 2025-04-27"]}
    r = publish_month(units, "2025-04")
    assert r["state"] == "published" and r["missing_days"] == [] and r["published_at"]


@pytest.mark.parametrize("published, day, expected", [
    (False, date(2025, 3, 3), None),        # a draft roster names nobody
    (True, date(2025, 3, 3), "李书记"),
    (True, date(2025, 3, 4), "周镇长"),
    (True, date(2025, 3, 8), None),         # Saturday: nobody rostered
])
def test_p5_only_a_published_roster_names_the_leader_on_duty(units, published, day, expected):
    with units(T) as uow:
        duty.set_roster(uow, "2025-03", [{"day": "2025-03-03", "person_id": "p-director"},
                                         {"day": "2025-03-04", "person_id": "p-deputy"}], "p-officer")
        if published:
            uow.session.query(duty.DutyRoster).update({"state": "published"})
    with units(T) as uow:
        leader = duty.leader_on(uow, day)
        assert (leader.name if leader else None) == expected
    with units(OTHER_T) as uow:  # another township never sees it
        assert duty.leader_on(uow, day) is None


def test_p5_the_public_answer_names_todays_leader_only_and_another_townships_nothing(units):
    publish_month(units, "2025-03", "p-deputy")
    with units(T) as uow:
        answer = duty.public_today(uow)
    assert answer["date"] == "2025-03-03" and answer["leader"] == {"name": "周镇长"}
    assert answer["roster_published"] is True and answer["next_month_published"] is False
    assert {"day": "2025-03-03", "name": "周镇长"} in answer["month"]
    assert set(answer) == {"date", "leader", "roster_published", "next_month_published", "month"}
    with units(OTHER_T) as uow:
        other = duty.public_today(uow)
    assert other["leader"] is None and other["roster_published"] is False and other["month"] == []


def petition(units, **changes):
    data = {"channel": "in_person", "complainant": {"name": PERSONAL[0], "phone": PERSONAL[1]},
            "content": "反映村道维修问题", "reception_requested": True, **changes}
    with units(T) as uow:
        return handling.record_petition(uow, data, "p-officer").id


def test_p5_a_reception_is_booked_to_the_leader_on_duty(units, clock):
    with units(T) as uow:  # Mon 3 Mar nobody, Tue 4 Mar the deputy
        duty.set_roster(uow, "2025-03", [{"day": "2025-03-04", "person_id": "p-deputy"}], "p-officer")
        uow.session.query(duty.DutyRoster).update({"state": "published"})
    pid = petition(units)
    with units(T) as uow:
        c = uow.session.get(Complaint, pid)
        assert (c.reception_booked_on, c.reception_leader_id) == (date(2025, 3, 4), "p-deputy")
        rec = handling.view(uow, pid, OFFICER)
    assert rec["reception_booked_on"] == "2025-03-04" and rec["reception_leader_id"] == "p-deputy"
    booked = units.outbox("complaints.reception_booked")
    assert [(e["leader_person_id"], e["day"]) for e in booked] == [("p-deputy", "2025-03-04")]
    assert not any(p in str(booked) for p in PERSONAL)  # ids only (P2)


def test_p5_a_reception_waiting_for_a_roster_is_booked_when_it_is_published(units):
    pid = petition(units)
    with units(T) as uow:
        assert uow.session.get(Complaint, pid).reception_leader_id is None
    assert petition(units, reception_requested=False)
    publish_month(units, "2025-03", "p-director")
    with units(T) as uow:
        c = uow.session.get(Complaint, pid)
        assert (c.reception_booked_on, c.reception_leader_id) == (date(2025, 3, 3), "p-director")
    assert len(units.outbox("complaints.reception_booked")) == 1  # the one that asked for a reception


def test_p5_a_swap_in_a_published_roster_books_the_reception_to_the_new_leader(units):
    publish_month(units, "2025-03", "p-director")
    pid = petition(units)
    days = all_working_days(units, "2025-03", "p-director")
    days[0]["person_id"] = "p-deputy"  # Mon 3 Mar: the deputy instead
    with units(T) as uow:
        duty.set_roster(uow, "2025-03", days, "p-officer")
    with units(T) as uow:
        c = uow.session.get(Complaint, pid)
        assert (c.reception_booked_on, c.reception_leader_id) == (date(2025, 3, 3), "p-deputy")
    assert [e["leader_person_id"] for e in units.outbox("complaints.reception_booked")] == ["p-director", "p-deputy"]
    with units(T) as uow:  # the same roster again: nobody is booked twice
        duty.set_roster(uow, "2025-03", days, "p-officer")
    assert len(units.outbox("complaints.reception_booked")) == 2


@pytest.mark.parametrize("day, published, expected", [
    # (local day, months published, alerts due): reminders in the last 3 days, alert once the month ended
    (date(2025, 3, 27), {"2025-03"}, []),
    (date(2025, 3, 29), {"2025-03"}, [("2025-04", "reminder", date(2025, 3, 31))]),
    (date(2025, 3, 31), {"2025-03"}, [("2025-04", "reminder", date(2025, 3, 31))]),
    (date(2025, 3, 31), {"2025-03", "2025-04"}, []),
    (date(2025, 4, 1), {"2025-03"}, [("2025-04", "overdue", date(2025, 3, 31))]),
    (date(2025, 4, 29), {"2025-03"}, [("2025-05", "reminder", date(2025, 4, 30)),
                                      ("2025-04", "overdue", date(2025, 3, 31))]),
    (date(2025, 12, 30), {"2025-12"}, [("2026-01", "reminder", date(2025, 12, 31))]),  # across the year
    (date(2026, 1, 1), {"2025-12"}, [("2026-01", "overdue", date(2025, 12, 31))]),
    (date(2025, 2, 26), {"2025-02"}, [("2025-03", "reminder", date(2025, 2, 28))]),    # 28-day month
])
def test_p5_reminder_before_the_months_end_and_alert_after_it(day, published, expected):
    assert duty.due_alerts(day, lambda m: m in published, 3) == expected


def test_p5_no_reminder_when_the_setting_is_zero():
    assert duty.due_alerts(date(2025, 3, 31), lambda m: m == "2025-03", 0) == []


def test_p5_the_sweep_alerts_each_township_once_however_many_instances_sweep(units, clock):
    publish_month(units, "2025-03")
    clock.set(datetime(2025, 3, 30, 2, 0, tzinfo=timezone.utc))  # Sun 30 Mar: reminders due
    run = units.sweep_run()
    items = duty.find_alerts(run)
    assert sorted((t, m, s) for t, (m, s, _) in items) == sorted([
        (OTHER_T, "2025-03", "overdue"), (OTHER_T, "2025-04", "reminder"), (T, "2025-04", "reminder")])
    # two instances found the same items: each alert is given once
    assert run.each("r", items, duty.alert) + run.each("r", items, duty.alert) == 3
    assert duty.find_alerts(run) == []
    sent = units.outbox("complaints.duty_roster_missing")
    assert sorted((e["township_id"], e["month"], e["stage"]) for e in sent) == sorted(
        [(OTHER_T, "2025-03", "overdue"), (OTHER_T, "2025-04", "reminder"), (T, "2025-04", "reminder")])
    publish_month(units, "2025-04")
    clock.set(datetime(2025, 4, 1, 2, 0, tzinfo=timezone.utc))  # T published April in time: no alert
    assert sorted((t, m, s) for t, (m, s, _) in duty.find_alerts(run)) == [(OTHER_T, "2025-04", "overdue")]
    assert sweep.sweep(run)["duty_roster"] == 1
    with units(T) as uow:
        assert uow.session.query(RosterAlert).count() == 1


def test_p5_the_sweep_reads_as_many_statements_for_many_townships_as_for_two(units, clock):
    """A deployment serves thousands of townships and the sweep runs every minute: finding the
    alerts is one unit of work of a few statements, not a transaction per township (issue 9)."""
    from sqlalchemy import event

    publish_month(units, "2025-03")
    clock.set(datetime(2025, 3, 30, 2, 0, tzinfo=timezone.utc))
    run = units.sweep_run()

    def statements():
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731 (before_cursor_execute's statement)
        event.listen(units.engine, "before_cursor_execute", listener)
        try:
            found = duty.find_alerts(run)
        finally:
            event.remove(units.engine, "before_cursor_execute", listener)
        return len(seen), found

    two, found = statements()
    assert len(found) == 3
    for n in range(20):
        with units(f"township-{n:02d}") as uow:
            uow.session.add(PersonCopy(id=f"x-director-{n}", name="镇长", roles=["director"]))
    many, found = statements()
    assert many == two <= 5
    assert len(found) == 3 + 2 * 20  # each new township: this month overdue, next month's reminder


def test_p5_each_townships_own_rules_decide_its_alerts(units, clock):
    """RuleBook.load_many: one statement, each township its own stored rules, defaults else."""
    from services.complaints.rules import RULES

    with units(OTHER_T) as uow:
        RULES.update(uow, {"roster_reminder_days": 0, "timezone": "Asia/Urumqi"})
    with units() as uow:
        rules = RULES.load_many(uow, [T, OTHER_T, "township-new"])
    assert rules[OTHER_T]["roster_reminder_days"] == 0 and rules[OTHER_T]["timezone"] == "Asia/Urumqi"
    assert rules[T] == rules["township-new"] == RULES.defaults()
    publish_month(units, "2025-03")
    clock.set(datetime(2025, 3, 30, 2, 0, tzinfo=timezone.utc))
    # OTHER_T wants no reminder: only its overdue March; T its April reminder
    assert sorted((t, m, s) for t, (m, s, _) in duty.find_alerts(units.sweep_run())) == [
        (T, "2025-04", "reminder"), (OTHER_T, "2025-03", "overdue")]


# == P7 ========================================================================================

def complaint(units, **changes):
    with units(T) as uow:
        return handling.record_complaint(uow, {**BASE, **changes}, "p-officer").id


def forward(units, cid, department_id=None, viewer=OFFICER):
    with units(T) as uow:
        return forwarding.forward(uow, cid, department_id, "请五个工作日内答复", "p-officer", viewer)


@pytest.mark.parametrize("changes, department_id, expected", [
    ({}, None, "d-civil"),                                                 # the window's department
    ({"target_department_id": "d-land", "target_window_id": None}, None, "d-land"),  # named department
    ({}, "d-land", "d-land"),                                              # chosen by the officer
])
def test_p7_a_complaint_goes_to_the_department_whose_work_it_is_about(units, changes, department_id, expected):
    cid = complaint(units, **changes)
    f = forward(units, cid, department_id)
    # Mon 3 Mar 2025 + 5 working days (C2, Art. 201) → Mon 10 Mar
    assert (f["department_id"], f["due_on"], f["state"], f["round"]) == (expected, "2025-03-10", "forwarded", 1)
    sent = units.outbox("complaints.complaint_forwarded")
    heads = {"d-civil": ["p-head"], "d-land": ["p-land", "p-land-b"]}[expected]  # heads, else all its people
    assert [(e["department_id"], sorted(e["department_person_ids"])) for e in sent] == [(expected, heads)]
    assert not any(p in str(sent) for p in PERSONAL)


@pytest.mark.parametrize("changes, department_id, error, field", [
    ({"target_window_id": None, "target_person_id": "p-land"}, None, ValidationFailed, "department_id"),
    ({}, "b-dept", ValidationFailed, "department_id"),          # another township's department
    ({}, "d-nowhere", ValidationFailed, "department_id"),
])
def test_p7_forwarding_needs_a_department_of_the_township(units, changes, department_id, error, field):
    cid = complaint(units, **changes)
    with pytest.raises(error) as err:
        forward(units, cid, department_id)
    assert field in err.value.details
    with units(T) as uow:
        assert uow.session.query(Forwarding).count() == 0


def test_p7_one_forwarding_open_at_a_time_and_only_while_the_complaint_is_open(units):
    cid = complaint(units)
    forward(units, cid)
    with pytest.raises(Conflict):
        forward(units, cid)
    with units(OTHER_T) as uow, pytest.raises(NotFound):  # another township: like a missing one
        forwarding.forward(uow, cid, None, None, "b-director", handling.Viewer("b-director", ["director"]))


def test_p7_the_department_reads_the_complaint_without_the_complainants_identity(units):
    cid = complaint(units)
    fid = forward(units, cid)["id"]
    for reader in (DEPT_HEAD, DEPT_CLERK):
        with units(T) as uow:
            rec = handling.view(uow, cid, reader)
            listed = handling.list_for(uow, reader)
            fw = forwarding.list_for(uow, reader)
        assert rec["complainant"] is None and "拖了两个月" in rec["content"]
        assert not any(p in str([rec, listed, fw]) for p in PERSONAL + ("430123195811020027",))
        assert [x["id"] for x in fw] == [fid] and cid in [x["id"] for x in listed]
    with units(T) as uow:
        assert handling.view(uow, cid, OFFICER)["complainant"]["name"] == PERSONAL[0]
        with pytest.raises(NotFound):
            handling.view(uow, cid, OTHER_DEPT)
        with pytest.raises(NotFound):
            forwarding.get(uow, fid, OTHER_DEPT)
        assert forwarding.list_for(uow, OTHER_DEPT) == []


@pytest.mark.parametrize("viewer, error", [
    (OTHER_DEPT, NotFound),                              # another department cannot even see it
    (handling.Viewer("p-inspector", ["inspector"]), Forbidden),  # reads all, but answers for nobody
])
def test_p7_only_the_department_or_the_complaint_office_answers(units, viewer, error):
    fid = forward(units, complaint(units))["id"]
    with units(T) as uow, pytest.raises(error):
        forwarding.answer(uow, fid, "已处理", viewer.person_id, viewer)


def answer(units, fid, viewer=DEPT_HEAD, text="经核实已补办，并对经办人批评教育"):
    with units(T) as uow:
        return forwarding.answer(uow, fid, text, viewer.person_id, viewer)


def check(units, fid, decision, note=None, viewer=OFFICER):
    with units(T) as uow:
        return forwarding.check(uow, fid, decision, note, viewer.person_id, viewer)


@pytest.mark.parametrize("decision, note, state, rounds", [
    ("accepted", None, "accepted", 1),
    ("returned", "未说明整改措施，请补充", "returned", 2),  # back to the department: a new round
])
def test_p7_the_centre_checks_the_departments_answer(units, clock, decision, note, state, rounds):
    cid = complaint(units)
    fid = forward(units, cid)["id"]
    with pytest.raises(Conflict):  # nothing to check before the answer
        check(units, fid, decision, note)
    a = answer(units, fid)
    assert a["state"] == "answered" and a["answered_at"]
    assert [e["forwarding_id"] for e in units.outbox("complaints.forwarding_answered")] == [fid]
    clock.move(days=1)  # Tue 4 Mar
    with pytest.raises(Forbidden):  # the department does not check its own answer
        check(units, fid, decision, note, DEPT_HEAD)
    assert check(units, fid, decision, note)["state"] == state
    with units(T) as uow:
        listed = forwarding.list_for_complaint(uow, cid, OFFICER)
    assert [f["round"] for f in listed] == list(range(1, rounds + 1))
    if rounds == 2:  # the new round: a new deadline from today, the department told again
        assert (listed[1]["state"], listed[1]["due_on"]) == ("forwarded", "2025-03-11")
        assert [e["round"] for e in units.outbox("complaints.complaint_forwarded")] == [1, 2]


@pytest.mark.parametrize("decision, note, field", [("maybe", None, "decision"), ("returned", None, "note")])
def test_p7_a_bad_check_names_the_field(units, decision, note, field):
    fid = forward(units, complaint(units))["id"]
    answer(units, fid)
    with pytest.raises(ValidationFailed) as err:
        check(units, fid, decision, note)
    assert field in err.value.details


def test_p7_no_outcome_or_reply_until_the_answer_is_checked_then_the_reply_passes_it_on(units):
    cid = complaint(units)
    fid = forward(units, cid)["id"]
    with units(T) as uow, pytest.raises(Conflict):
        handling.conclude(uow, cid, "verified", "属实", "p-officer", OFFICER)
    answer(units, fid)
    with units(T) as uow, pytest.raises(Conflict):
        handling.conclude(uow, cid, "verified", "属实", "p-officer", OFFICER)
    check(units, fid, "accepted")
    with units(T) as uow:
        handling.conclude(uow, cid, "verified", "部门答复属实", "p-officer", OFFICER)
    with units(T) as uow:
        handling.reply(uow, cid, "written", "民政办已补办并整改", "p-officer", OFFICER)
    with units(T) as uow:
        assert uow.session.get(Forwarding, fid).passed_on_at is not None


def test_p7_a_department_not_answering_in_time_is_marked_overdue_once(units, clock):
    cid = complaint(units)
    fid = forward(units, cid)["id"]  # due Mon 10 Mar
    clock.set(datetime(2025, 3, 10, 15, 59, tzinfo=timezone.utc))  # 23:59 on the due day
    run = units.sweep_run()
    sweep.sweep(run)
    assert units.outbox("complaints.forwarding_overdue") == []
    clock.set(datetime(2025, 3, 10, 16, 1, tzinfo=timezone.utc))  # the next local day
    items = [i for i in sweep.find_due(run) if i[1][0] is Forwarding]
    assert run.each("o", items, sweep.mark) + run.each("o", items, sweep.mark) == 1
    sent = units.outbox("complaints.forwarding_overdue")
    assert [(e["forwarding_id"], e["department_person_ids"], e["due_date"]) for e in sent] == [
        (fid, ["p-head"], "2025-03-10")]
    with units(T) as uow:
        assert forwarding.get(uow, fid, OFFICER)["overdue"] is True


@pytest.mark.parametrize("major, error", [(True, None), (False, Conflict)])
def test_p7_a_major_complaint_is_reported_upward_on_record(units, major, error):
    cid = complaint(units, major=major)
    data = {"summary": "民政办拖延低保审批，已转办并督促整改", "reference": "青纪报〔2025〕3号"}
    with units(T) as uow:
        if error:
            with pytest.raises(error):
                forwarding.report_upward(uow, cid, data, "p-officer", OFFICER)
            return
        r = forwarding.report_upward(uow, cid, data, "p-officer", OFFICER)
    assert r["reported_to"] == "上级纪检监察部门" and r["reference"] == "青纪报〔2025〕3号"
    with units(T) as uow:
        assert handling.view(uow, cid, OFFICER)["reported_upward_at"] is not None
        assert uow.session.query(UpwardReport).count() == 1
    with units(OTHER_T) as uow, pytest.raises(NotFound):
        forwarding.upward_reports(uow, cid, handling.Viewer("b-director", ["director"]))


def test_p7_events_parse_and_carry_no_identity(units):
    cid = complaint(units)
    fid = forward(units, cid)["id"]
    answer(units, fid, text=f"已联系{PERSONAL[0]}（{PERSONAL[1]}）说明情况")
    for kind in ("complaints.complaint_forwarded", "complaints.forwarding_answered"):
        for body in units.outbox(kind):
            events.parse(kind, body)
            assert not any(p in str(body) for p in PERSONAL)
    with units(T) as uow:  # the answer's text as the department and the officer read it
        assert PERSONAL[1] not in str(forwarding.get(uow, fid, DEPT_HEAD))
        assert PERSONAL[1] in forwarding.get(uow, fid, OFFICER)["answer"]


def test_the_organisation_copy_follows_staffs_events_with_the_shared_upsert(units):
    """services/common/staffdir.upsert_copy: a person's window, roles and department (P2, P7); a
    deactivation leaves them inactive; a window and a department by id; twice changes nothing."""
    from services.complaints import orgcopy
    from services.complaints.models import DepartmentCopy

    person = {"name": "赵敏", "roles": ["clerk"], "window_id": "w-land", "department_id": "d-land", "active": True}
    for action in ("created", "created", "deactivated"):
        with units() as uow:
            orgcopy.apply_organisation_change(uow, {"entity": "person", "entity_id": "p-new", "action": action,
                                                    "data": person})
            orgcopy.apply_organisation_change(uow, {"entity": "department", "entity_id": "d-land",
                                                    "action": "created", "data": {"name": "自然资源所"}})
            orgcopy.apply_organisation_change(uow, {"entity": "window", "entity_id": "w-land", "action": "updated",
                                                    "data": {"number": 4, "name": "土地流转",
                                                             "department_id": "d-land"}})
    with units() as uow:
        p = orgcopy.person(uow, "p-new")
        assert (p.name, p.roles, p.window_id, p.department_id, p.active) == (
            "赵敏", ["clerk"], "w-land", "d-land", False)
        assert orgcopy.window(uow, "w-land").department_id == "d-land"
        assert [d.name for d in uow.session.query(DepartmentCopy).filter(DepartmentCopy.id == "d-land")] == ["自然资源所"]
