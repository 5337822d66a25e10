"""I6 village agents through the gateway over real HTTP: staff, intake, notices and the gateway
in-process on the real broker and PostgreSQL, on one movable clock.

* a director registers an agent; the agent records what they collected in the village; a clerk
  receives it as an application that carries the agent, the village and the mandate;
* the 3-working-day deadline: the overdue list, and the overdue event reaching the agent's and
  the director's inboxes through notices (N1);
* the applicant rates the agent with receipt number and password; the scoreboard and its CSV
  (UTF-8 with BOM);
* an agent rated 1–2 is followed up in complaints like a window (P6), without the applicant;
* a director removes an agent from the register (no new collections, the open ones still
  tracked); a collection not yet received is withdrawn with its reason;
* tenancy: another township sees none of it and cannot take, rate, withdraw or remove any of it.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from services.common.clock import FrozenClock
from tests.support.runtime import wait_for
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration

# Mon 2 Mar 2026, 10:00 in Shanghai: collected today → due Thu 5 Mar (3 working days)
CLOCK = FrozenClock(datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc))
MATERIALS = [{"name": "低保申请书", "main": True}, {"name": "居民身份证", "main": True}]
ALL = [m["name"] for m in MATERIALS]
APPLICANT = {"name": "李秀兰", "phone": "13812345678", "id_no": "110101199003071234"}


def township(api, op, code):
    town = Township(api, op, code)
    boss = town.boss
    window = boss.post("/windows", {"number": 1, "name": "民政窗口"}).json()
    _, clerk = town.person("王晓燕", ["clerk"], window_id=window["id"])
    agent, agent_api = town.person("谢春花", ["village_agent"], home_unit="柳溪村委会")
    r = boss.post("/intake/items", {
        "code": "MZ-002", "name": "城乡低保申请", "legal_basis": "《社会救助暂行办法》第十一条",
        "window_id": window["id"], "materials": MATERIALS, "default_kind": "promised", "promised_days": 5})
    assert r.status_code == 201, r.text

    def registered():  # intake learns the person from staff's event
        r = boss.post("/intake/agents", {"person_id": agent["id"], "village": "柳溪村"})
        return r.json() if r.status_code == 201 else None
    record = wait_for(registered, timeout=30, message="intake to know the agent")
    return {"town": town, "boss": boss, "clerk": clerk, "agent": agent_api, "agent_id": record["id"],
            "agent_person_id": agent["id"]}


@pytest.fixture(scope="module")
def system(broker, module_database):
    with running_services(broker.uri, module_database, ["staff", "intake", "notices", "complaints", "gateway"],
                          clock=CLOCK,
                          INTAKE_SWEEP_INTERVAL=0.3) as containers:
        api = gateway_api(containers["gateway"])
        op = api.as_(operator_token(broker.uri))
        yield {"api": api, "op": op, "a": township(api, op, "agents-a"), "b": township(api, op, "agents-b")}


def collect(town, name="李秀兰"):
    r = town["agent"].post("/intake/agent-collections",
                           {"item_code": "MZ-002", "applicant_name": name, "mandate_no": "LX-DB-001"})
    assert r.status_code == 201, r.text
    return r.json()


def test_an_agents_application_is_tracked_rated_and_scored_through_the_gateway(system):
    a, b, api = system["a"], system["b"], system["api"]
    c = collect(a)
    assert (c["due_on"], c["village"], c["status"], c["applicant_name"]) == ("2026-03-05", "柳溪村", "collected",
                                                                             "李秀兰")
    # a clerk is no agent: 403; bad input names its field
    assert a["clerk"].post("/intake/agent-collections", {"item_code": "MZ-002", "applicant_name": "x",
                                                         "mandate_no": "1"}).status_code == 403
    r = a["agent"].post("/intake/agent-collections", {"item_code": "MZ-002", "applicant_name": "x"})
    assert r.status_code == 422 and "mandate_no" in r.json()["details"], r.text
    # another township's clerk cannot take it
    r = b["clerk"].post("/intake/applications", {"item_code": "MZ-002", "applicant": APPLICANT,
                                                 "materials_brought": ALL, "collection_id": c["id"]})
    assert r.status_code == 422 and "collection_id" in r.json()["details"], r.text
    # the clerk receives it: the application carries the agent and the village
    r = a["clerk"].post("/intake/applications", {"item_code": "MZ-002", "applicant": APPLICANT,
                                                 "materials_brought": ALL, "collection_id": c["id"]})
    assert r.status_code == 201, r.text
    app, receipt = r.json()["application"], r.json()["receipt"]
    assert (app["agent_id"], app["village"], app["collected_on"], app["agent_due_on"], app["agent_late"],
            app["proxy"], app["mandate_no"]) == (a["agent_id"], "柳溪村", "2026-03-02", "2026-03-05", False,
                                                  True, "LX-DB-001")
    # the applicant rates the agent: receipt number and password, once; not under another code
    path = f"/public/townships/agents-a/receipts/{receipt['receipt_no']}/agent-rating"
    wrong = api.post(path, {"password": "wrong", "rating": 5})
    assert wrong.status_code == 404
    foreign = api.post(f"/public/townships/agents-b/receipts/{receipt['receipt_no']}/agent-rating",
                       {"password": receipt["query_password"], "rating": 5})
    assert foreign.status_code == 404
    r = api.post(path, {"password": receipt["query_password"], "rating": 4, "comment": "上门代办"})
    assert r.status_code == 201 and r.json() == {"application_id": app["id"], "agent_id": a["agent_id"],
                                                 "rating": 4, "label": "满意"}, r.text
    assert api.post(path, {"password": receipt["query_password"], "rating": 1}).status_code == 409
    bad = api.post(path, {"password": receipt["query_password"], "rating": 9})
    assert bad.status_code == 422 and "rating" in bad.json()["details"]

    # a second collection is not brought: overdue the day after its deadline
    late = collect(a, name="张三")
    assert a["boss"].get("/intake/agent-collections/overdue").json() == []
    CLOCK.move(days=4)  # Fri 6 Mar
    try:
        overdue = a["boss"].get("/intake/agent-collections/overdue")
        assert overdue.status_code == 200 and [x["id"] for x in overdue.json()] == [late["id"]]
        assert overdue.json()[0]["overdue"] is True
        assert a["agent"].get("/intake/agent-collections/overdue").json()[0]["id"] == late["id"]  # their own
        assert b["boss"].get("/intake/agent-collections/overdue").json() == []

        def told(client):
            items = client.get("/me/notices?per_page=50").json()["items"]
            return [n for n in items if n["rule"] == "I6" and "超期" in n["title"]]
        mine = wait_for(lambda: told(a["agent"]), timeout=30, message="the agent to be told (N1)")
        assert mine[0]["needs_ack"] is True and "张三" not in mine[0]["body"]
        boss = wait_for(lambda: told(a["boss"]), timeout=30, message="the director to be told (N1)")
        assert boss[0]["needs_ack"] is False
        assert told(b["agent"]) == [] and told(b["boss"]) == []

        # the scoreboard and its CSV
        board = a["boss"].get("/intake/agents/scoreboard?month=2026-03")
        assert board.status_code == 200, board.text
        [line] = board.json()["agents"]
        assert (line["collected"], line["on_time"], line["overdue_open"], line["ratings"], line["mean_rating"]) == \
            (2, 1, 1, 1, 4.0)
        assert line["on_time_rate"] == 0.5
        r = a["boss"].get("/intake/agents/scoreboard/csv?month=2026-03")
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
        assert r.content.startswith("\ufeff".encode("utf-8"))
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[1][1:3] == ["谢春花", "柳溪村"]
        assert a["boss"].get("/intake/agents/scoreboard?month=2026-3").status_code == 422
        assert b["boss"].get("/intake/agents/scoreboard?month=2026-03").json()["agents"][0]["collected"] == 0
        assert [x["id"] for x in b["boss"].get("/intake/agents").json()] == [b["agent_id"]]
    finally:
        CLOCK.move(days=-4)


def bring(town, collection_id):
    r = town["clerk"].post("/intake/applications", {"item_code": "MZ-002", "applicant": APPLICANT,
                                                    "materials_brought": ALL, "collection_id": collection_id})
    assert r.status_code == 201, r.text
    return r.json()["application"]


def test_P6_a_low_agent_rating_is_followed_up_in_complaints_without_the_applicant(system):
    a, b = system["a"], system["b"]
    app = bring(a, collect(a, name="王五")["id"])
    r = a["clerk"].post(f"/intake/applications/{app['id']}/agent-rating",
                        {"rating": 2, "comment": "代办员拖了几天，电话13812345678"})
    assert r.status_code == 201 and r.json()["label"] == "不满意", r.text

    def opened():
        rows = a["boss"].get("/follow-ups").json()
        return [f for f in rows if f["application_id"] == app["id"]]
    [f] = wait_for(opened, timeout=30, message="complaints to open the agent's follow-up (P6)")
    assert (f["subject"], f["case_id"], f["agent_id"], f["handler_person_id"], f["rating"], f["state"]) == \
        ("agent", None, a["agent_id"], a["agent_person_id"], 2, "open")
    assert "13812345678" not in f["comment"] and "王五" not in str(f) and "李秀兰" not in str(f)
    assert a["agent"].get("/follow-ups").status_code == 403  # the rated agent does not read it (P2)
    assert a["clerk"].get("/follow-ups").status_code == 403
    assert [x for x in b["boss"].get("/follow-ups").json() if x["application_id"] == app["id"]] == []
    assert b["boss"].get(f"/follow-ups/{f['id']}").status_code == 404
    # closed as any follow-up: call back, then rectify
    assert a["boss"].post(f"/follow-ups/{f['id']}/callback", {"note": "已回访申请人"}).status_code == 200


def test_I6_withdrawal_and_removal_through_the_gateway(system):
    a, b = system["a"], system["b"]
    c = collect(a, name="赵六")
    path = f"/intake/agent-collections/{c['id']}/withdrawal"
    r = a["agent"].post(path, {})
    assert r.status_code == 422 and "reason" in r.json()["details"], r.text
    assert b["agent"].post(path, {"reason": "x"}).status_code == 404  # another township's
    assert b["clerk"].post(path, {"reason": "x"}).status_code == 404
    r = a["agent"].post(path, {"reason": "申请人决定暂不申请"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["withdrawal_reason"], r.json()["overdue"]) == \
        ("withdrawn", "申请人决定暂不申请", False)
    assert a["agent"].post(path, {"reason": "again"}).status_code == 409
    listed = a["boss"].get("/intake/agent-collections?status=withdrawn").json()
    assert [x["id"] for x in listed] == [c["id"]] and listed[0]["withdrawal_reason"] == "申请人决定暂不申请"

    still_out = collect(a, name="钱七")
    removal = f"/intake/agents/{a['agent_id']}/removal"
    assert a["clerk"].post(removal, {"reason": "x"}).status_code == 403  # a director's route
    assert b["boss"].post(removal, {"reason": "x"}).status_code == 404  # another township's agent
    r = a["boss"].post(removal, {"reason": ""})
    assert r.status_code == 422 and "reason" in r.json()["details"], r.text
    try:
        r = a["boss"].post(removal, {"reason": "本人辞去代办员职务"})
        assert r.status_code == 200, r.text
        assert (r.json()["active"], r.json()["removal_reason"]) == (False, "本人辞去代办员职务")
        assert r.json()["open_collections"] >= 1
        assert a["boss"].post(removal, {"reason": "again"}).status_code == 409
        r = a["agent"].post("/intake/agent-collections",
                            {"item_code": "MZ-002", "applicant_name": "孙八", "mandate_no": "LX-DB-009"})
        assert r.status_code == 403, r.text  # no new collections
        agents = {x["id"]: x for x in a["boss"].get("/intake/agents").json()}
        assert agents[a["agent_id"]]["active"] is False
        open_ids = [x["id"] for x in a["boss"].get("/intake/agent-collections?status=collected").json()]
        assert still_out["id"] in open_ids  # still listed and tracked …
        assert [x["id"] for x in a["agent"].get("/intake/agent-collections?status=collected").json()] == open_ids
        assert bring(a, still_out["id"])["agent_id"] == a["agent_id"]  # … and still received
        assert [x["active"] for x in b["boss"].get("/intake/agents").json()] == [True]
    finally:  # registering the person again restores the agent
        r = a["boss"].post("/intake/agents", {"person_id": a["agent_person_id"], "village": "柳溪村"})
        assert r.status_code == 201 and r.json()["active"] is True, r.text


def test_C2_a_provisional_agent_deadline_firms_up_when_the_operator_loads_the_year(system):
    """Collected Wed 30 Dec 2026: 3 working days run into 2027, which has no holiday data →
    Mon 4 Jan, provisional. The operator loads 2027 (1 Jan a holiday): intake recomputes it
    (the calendar event marks the township, the recompute timer does it) → Tue 5 Jan, firm."""
    a, b = system["a"], system["b"]
    before = CLOCK.now()
    CLOCK.set(datetime(2026, 12, 30, 2, 0, tzinfo=timezone.utc))
    try:
        c, other = collect(a, name="周九"), collect(b, name="吴十")
        assert (c["due_on"], c["due_provisional"]) == ("2027-01-04", True)
    finally:
        CLOCK.set(before)  # the operator's token is signed for the module's time
    r = system["op"].put("/calendar/national", {"days": [{"day": "2027-01-01", "working": False}],
                                                "loaded_year": 2027})
    assert r.status_code == 200, r.text

    def due(town, cid):
        rows = town["boss"].get("/intake/agent-collections?status=collected").json()
        return next((x["due_on"], x["due_provisional"]) for x in rows if x["id"] == cid)
    wait_for(lambda: due(a, c["id"]) == ("2027-01-05", False), timeout=30,
             message="intake to recompute the agent's deadline when 2027 was loaded")
    wait_for(lambda: due(b, other["id"]) == ("2027-01-05", False), timeout=30,
             message="every township's (a national change)")


def test_openapi_documents_the_agent_routes(system):
    doc = system["api"].get("/openapi.json").json()
    for path in ("/intake/agents", "/intake/agent-collections", "/intake/agent-collections/overdue",
                 "/intake/agents/scoreboard", "/intake/agents/scoreboard/csv",
                 "/public/townships/{code}/receipts/{number}/agent-rating",
                 "/intake/agents/{agent_id}/removal", "/intake/agent-collections/{collection_id}/withdrawal"):
        assert path in doc["paths"], path
