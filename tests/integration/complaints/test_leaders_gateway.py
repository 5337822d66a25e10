"""P5 leader on duty and P7 forwarding through the gateway, on the real broker and PostgreSQL:
staff, complaints, notices and the gateway in-process on one movable clock; each N1 notice is
read from the people's own inboxes (``GET /me/notices``), another township's never.

- P5: the roster arranged and published (422 naming the field for a clerk or a missing working
  day; 403 for a clerk); the public route (no token) and the hall display page show today's
  leader; a petition asking for a reception is booked to the leader on duty, who is told; the
  township that did not publish its roster is alerted by the sweep, the one that did is not.
- P7: a complaint forwarded to the department of its window with a deadline in working days;
  the department's head is told and reads it without the complainant's identity (another
  department, another township: 404); the answer reaches the complaint officer; a returned
  answer starts a new round; reply waits for the accepted answer and passes it on; a late
  department is marked overdue once; a major complaint is reported upward on record.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from nameko.testing.services import entrypoint_hook

from services.common.clock import FrozenClock
from tests.support.runtime import wait_for
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration

# Wed 4 Mar 2026, 10:00 in Shanghai
START = datetime(2026, 3, 4, 2, 0, tzinfo=timezone.utc)
CLOCK = FrozenClock(START)
PERSONAL = ("赵大妈", "13912345678", "柳溪村5组")


@pytest.fixture(scope="module")
def system(broker, module_database):
    with running_services(broker.uri, module_database, ["staff", "complaints", "notices", "gateway"],
                          clock=CLOCK) as containers:
        api = gateway_api(containers["gateway"])
        op = api.as_(operator_token(broker.uri))
        towns = {}
        for code in ("ldr-a", "ldr-b"):
            town = Township(api, op, code, director=f"{code}主任")
            dept = town.boss.post("/departments", {"name": "民政办"}).json()
            other_dept = town.boss.post("/departments", {"name": "国土所"}).json()
            window = town.boss.post("/windows", {"number": 1, "name": "民政窗口", "department_id": dept["id"]}).json()
            people = {"dir": ({"id": town.record["director"]["id"]}, town.boss)}
            people["dep"] = town.person(f"{code}副主任", ["deputy_director"])
            people["officer"] = town.person(f"{code}投诉专员", ["complaint_officer"])
            people["head"] = town.person(f"{code}民政股长", ["section_head"], department_id=dept["id"])
            people["clerk"] = town.person(f"{code}民政窗口", ["clerk"], window_id=window["id"])
            people["land"] = town.person(f"{code}国土所", ["section_head"], department_id=other_dept["id"])
            towns[code] = {"town": town, "people": people, "dept": dept, "window": window}
        yield {"api": api, "towns": towns, "complaints": containers["complaints"]}


def client(system, code, key):
    return system["towns"][code]["people"][key][1]


def pid(system, code, key):
    return system["towns"][code]["people"][key][0]["id"]


def inbox(c, rule=None) -> list[dict]:
    r = c.get("/me/notices?per_page=100")
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if rule is None or n["rule"] == rule]


def sweep(system):
    with entrypoint_hook(system["complaints"], "sweep_overdue") as run:
        return run()


# == P5 ========================================================================================

def test_p5_roster_public_leader_bookings_and_the_unpublished_alert(system):
    officer = client(system, "ldr-a", "officer")
    # bad input answers 4xx naming the field, and writes nothing
    assert client(system, "ldr-a", "clerk").put("/duty-rosters/2026-03", {"days": []}).status_code == 403
    r = officer.put("/duty-rosters/2026-03", {"days": [{"day": "2026-03-04", "person_id": pid(system, "ldr-a", "clerk")}]})
    assert r.status_code == 422 and "days[0].person_id" in r.json()["details"], r.text
    r = officer.put("/duty-rosters/2026-13", {"days": []})
    assert r.status_code == 422 and "month" in r.json()["details"], r.text
    draft = officer.put("/duty-rosters/2026-03", {"days": []})
    assert draft.status_code == 200 and draft.json()["state"] == "draft", draft.text
    working = draft.json()["missing_days"]
    assert "2026-03-04" in working and "2026-03-07" not in working  # Saturday: the hall is closed (C2a)
    r = officer.post("/duty-rosters/2026-03/publish")
    assert r.status_code == 422 and "days" in r.json()["details"], r.text

    dep = pid(system, "ldr-a", "dep")
    days = [{"day": d, "person_id": dep} for d in working]
    assert officer.put("/duty-rosters/2026-03", {"days": days}).status_code == 200
    r = officer.post("/duty-rosters/2026-03/publish")
    assert r.status_code == 200 and r.json()["state"] == "published" and r.json()["missing_days"] == [], r.text
    assert client(system, "ldr-a", "clerk").get("/duty-rosters/2026-03").json()["state"] == "published"
    assert client(system, "ldr-b", "officer").get("/duty-rosters/2026-03").status_code == 404  # not B's

    # the public route, no token: A's leader today by name; B has none
    public = system["api"].as_(None)
    a = public.get("/public/townships/ldr-a/leader-on-duty")
    assert a.status_code == 200, a.text
    assert a.json()["date"] == "2026-03-04" and a.json()["leader"] == {"name": "ldr-a副主任"}
    assert a.json()["roster_published"] is True and {"day": "2026-03-04", "name": "ldr-a副主任"} in a.json()["month"]
    b = public.get("/public/townships/ldr-b/leader-on-duty").json()
    assert b["leader"] is None and b["month"] == []
    assert public.get("/public/townships/nowhere/leader-on-duty").status_code == 404
    # the hall's display screen asks that route and has a place for the name
    page = public.get("/public/townships/ldr-a/pages/display")
    assert page.status_code == 200 and 'id="leader-on-duty"' in page.text
    assert '"/leader-on-duty"' in public.get("/public/assets/display.js").text

    # a petition asking for a reception is booked to the leader on duty, who is told
    r = officer.post("/petitions", {"channel": "in_person", "persons": 2, "reception_requested": True,
                                    "complainant": {"name": PERSONAL[0], "phone": PERSONAL[1]},
                                    "content": "反映村道维修问题，请领导接待"})
    assert r.status_code == 201, r.text
    assert (r.json()["reception_booked_on"], r.json()["reception_leader_id"]) == ("2026-03-04", dep)
    leader = client(system, "ldr-a", "dep")
    assert leader.post("/complaints/0/reception", {}).status_code == 404
    booked = wait_for(lambda: [n for n in inbox(leader, "P5") if r.json()["number"] in n["title"]], timeout=20,
                      message="the leader on duty to be told of the reception")
    assert booked[0]["needs_ack"] is True and not any(p in str(booked) for p in PERSONAL)

    # the sweep: B published nothing for this month → B's director, deputy and officer alerted; A not
    assert sweep(system)["duty_roster"] >= 1
    for key in ("dir", "dep", "officer"):
        got = wait_for(lambda: [n for n in inbox(client(system, "ldr-b", key), "P5") if "2026-03" in n["title"]],
                       timeout=20, message=f"ldr-b {key} to be alerted")
        assert len(got) == 1 and got[0]["needs_ack"] is True and got[0]["subject_type"] == "duty_roster"
    assert sweep(system)["duty_roster"] == 0  # once
    for key in ("dir", "dep", "officer", "clerk", "head"):
        assert not [n for n in inbox(client(system, "ldr-a", key)) if n["subject_type"] == "duty_roster"], key
    assert not [n for n in inbox(client(system, "ldr-b", "clerk"), "P5")]


# == P7 ========================================================================================

def complaint(system, code="ldr-a", **changes):
    body = {"channel": "written", "category": "delay", "target_window_id": system["towns"][code]["window"]["id"],
            "complainant": {"name": PERSONAL[0], "phone": PERSONAL[1], "address": PERSONAL[2]},
            "content": f"{PERSONAL[0]}反映民政办低保拖了两个月，回电{PERSONAL[1]}", **changes}
    r = client(system, code, "officer").post("/complaints", body)
    assert r.status_code == 201, r.text
    return r.json()


def test_p7_forwarded_answered_checked_passed_on_and_reported_upward(system):
    officer, head = client(system, "ldr-a", "officer"), client(system, "ldr-a", "head")
    c = complaint(system)
    assert client(system, "ldr-a", "clerk").post(f"/complaints/{c['id']}/forwardings", {}).status_code == 403
    r = officer.post(f"/complaints/{c['id']}/forwardings", {"instructions": "请核实后答复"})
    assert r.status_code == 201, r.text
    f = r.json()
    # Wed 4 Mar + 5 working days → Wed 11 Mar (C2)
    assert (f["department_id"], f["due_on"], f["state"]) == (system["towns"]["ldr-a"]["dept"]["id"], "2026-03-11",
                                                            "forwarded")
    assert officer.post(f"/complaints/{c['id']}/forwardings", {}).status_code == 409  # one at a time
    told = wait_for(lambda: [n for n in inbox(head, "P7") if c["number"] in n["title"]], timeout=20,
                    message="the department's head to be told")
    assert told[0]["needs_ack"] is True and not any(p in str(told) for p in PERSONAL)
    # P2: the department reads it without the complainant; another department and township: 404
    r = head.get(f"/complaints/{c['id']}")
    assert r.status_code == 200 and r.json()["complainant"] is None and "低保" in r.json()["content"], r.text
    assert not any(p in r.text for p in PERSONAL)
    assert [x["id"] for x in head.get("/forwardings").json()] == [f["id"]]
    for other in (client(system, "ldr-a", "land"), client(system, "ldr-b", "head"), client(system, "ldr-b", "officer")):
        assert other.get(f"/complaints/{c['id']}").status_code == 404
        assert other.get(f"/forwardings/{f['id']}").status_code == 404
        assert other.post(f"/forwardings/{f['id']}/answer", {"answer": "x"}).status_code == 404

    # the answer reaches the complaint officer; reply waits for the check
    r = head.post(f"/forwardings/{f['id']}/answer", {"answer": "经核实已补办"})
    assert r.status_code == 200 and r.json()["state"] == "answered", r.text
    wait_for(lambda: [n for n in inbox(officer, "P7") if "已答复" in n["title"]], timeout=20,
             message="the complaint officer to be told of the answer")
    assert not inbox(client(system, "ldr-b", "officer"), "P7")
    r = officer.post(f"/forwardings/{f['id']}/check", {"decision": "returned"})
    assert r.status_code == 422 and "note" in r.json()["details"], r.text
    assert head.post(f"/forwardings/{f['id']}/check", {"decision": "accepted"}).status_code == 403
    # returned: a new round, the department told again
    r = officer.post(f"/forwardings/{f['id']}/check", {"decision": "returned", "note": "请说明整改措施"})
    assert r.status_code == 200 and r.json()["state"] == "returned", r.text
    rounds = officer.get(f"/complaints/{c['id']}/forwardings").json()
    assert [(x["round"], x["state"]) for x in rounds] == [(1, "returned"), (2, "forwarded")]
    wait_for(lambda: len([n for n in inbox(head, "P7") if c["number"] in n["title"]]) == 2, timeout=20,
             message="the department to be told of the second round")
    assert officer.post(f"/complaints/{c['id']}/outcome", {"outcome": "verified", "finding": "属实"}).status_code == 409
    assert head.post(f"/forwardings/{rounds[1]['id']}/answer", {"answer": "已补办并批评教育经办人"}).status_code == 200
    assert officer.post(f"/forwardings/{rounds[1]['id']}/check", {"decision": "accepted"}).status_code == 200
    assert officer.post(f"/complaints/{c['id']}/outcome", {"outcome": "verified", "finding": "属实"}).status_code == 200
    r = officer.post(f"/complaints/{c['id']}/reply", {"form": "written", "summary": "民政办已补办并整改"})
    assert r.status_code == 200, r.text
    assert officer.get(f"/complaints/{c['id']}/forwardings").json()[1]["passed_on_at"] is not None

    # a major complaint is reported upward on record; an ordinary one cannot be
    major = complaint(system, major=True)
    r = officer.post(f"/complaints/{major['id']}/upward-reports", {"summary": "重大投诉，已报送", "reference": "青纪〔2026〕1号"})
    assert r.status_code == 201 and r.json()["reported_to"] == "上级纪检监察部门", r.text
    assert officer.get(f"/complaints/{major['id']}").json()["reported_upward_at"] is not None
    assert officer.post(f"/complaints/{c['id']}/upward-reports", {"summary": "x"}).status_code == 409
    assert client(system, "ldr-b", "officer").get(f"/complaints/{major['id']}/upward-reports").status_code == 404


def test_p7_a_department_that_does_not_answer_in_time_is_told_once(system):
    head = client(system, "ldr-a", "head")
    c = complaint(system)
    f = client(system, "ldr-a", "officer").post(f"/complaints/{c['id']}/forwardings", {}).json()
    due = datetime.fromisoformat(f["due_on"]).date()
    # the first moment of the next local day (Shanghai)
    CLOCK.set(datetime(due.year, due.month, due.day, 16, 1, tzinfo=timezone.utc))
    try:
        sweep(system)
        sweep(system)
        late = wait_for(lambda: [n for n in inbox(head, "P7") if "逾期" in n["title"] and c["number"] in n["title"]],
                        timeout=20, message="the department to be told it is late")
        assert len(late) == 1
        assert client(system, "ldr-a", "officer").get(f"/forwardings/{f['id']}").json()["overdue"] is True
        assert not [n for n in inbox(client(system, "ldr-b", "head"), "P7")]
    finally:
        CLOCK.set(START + timedelta(hours=1))
