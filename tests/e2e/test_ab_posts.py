"""End to end (issue 4): an approved leave of an A clerk moves their open cases to the B clerk,
and they come back when A returns (DOMAIN S3 → C7), with staff, intake, cases and the gateway
running and talking only through the broker."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from nameko.testing.services import entrypoint_hook

from services.common.clock import FrozenClock
from tests.support.runtime import wait_for
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.e2e

TZ = ZoneInfo("Asia/Shanghai")
MATERIALS = [{"name": "低保申请书", "main": True}, {"name": "居民身份证", "main": True}]


def test_approved_leave_of_a_moves_open_cases_to_b_and_back(broker, database):
    clock = FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=TZ))  # a Monday, a working day
    names = ["staff", "intake", "cases", "gateway"]
    with running_services(broker.uri, database, names, clock=clock) as c:
        api = gateway_api(c["gateway"])
        op = api.as_(operator_token(broker.uri))
        town = Township(api, op, "ab-posts", "AB镇", director="周建国")
        boss, person = town.boss, town.person
        dept = boss.post("/departments", {"name": "民政办"}).json()
        window = boss.post("/windows", {"number": 1, "name": "民政窗口", "department_id": dept["id"]}).json()

        a, a_api = person("王晓燕", ["clerk"], window_id=window["id"], home_unit="青山镇民政办")
        b, _ = person("李俊", ["clerk"], window_id=window["id"])
        sub, _ = person("顶岗 张华", ["clerk"], home_unit="青山镇民政办")
        _, deputy_api = person("刘芳", ["deputy_director"])
        assert boss.put(f"/windows/{window['id']}/ab-pair",
                        {"a_person_id": a["id"], "b_person_id": b["id"]}).status_code == 200
        assert boss.post("/intake/items", {
            "code": "MZ-002", "name": "城乡低保申请", "legal_basis": "《社会救助暂行办法》",
            "window_id": window["id"], "department_id": dept["id"], "materials": MATERIALS,
            "default_kind": "promised", "promised_days": 5}).status_code == 201

        # A accepts an application: the case is A's
        r = a_api.post("/intake/applications", {"item_code": "MZ-002",
                                                "applicant": {"name": "李秀兰", "phone": "13812345678",
                                                              "id_no": "110101199003071234"},
                                                "materials_brought": ["低保申请书", "居民身份证"]})
        assert r.status_code == 201, r.text
        receipt_no = r.json()["receipt"]["receipt_no"]
        case = wait_for(lambda: (lambda r: r.status_code == 200 and r.json())(boss.get(f"/cases/by-receipt/{receipt_no}")),
                        message="the case to open")
        assert case["holder_person_id"] == a["id"]

        # A asks for a day and a half from 10:00, with a substitute from the home unit (S3)
        r = a_api.post("/leaves", {"starts_at": "2026-03-02T10:00:00+08:00", "ends_at": "2026-03-03T17:30:00+08:00",
                                   "reason": "就医", "substitute_person_id": sub["id"], "home_unit_endorsed": True})
        assert r.status_code == 201, r.text
        leave = r.json()
        r = deputy_api.post(f"/leaves/{leave['id']}/decision", {"approve": True})
        assert r.status_code == 200, r.text

        def holder():
            return boss.get(f"/cases/{case['id']}").json()["holder_person_id"]

        clock.set(datetime(2026, 3, 2, 10, 1, tzinfo=TZ))  # the leave has begun
        def moved():
            with entrypoint_hook(c["cases"], "sweep") as sweep:
                sweep()
            return holder() == b["id"]
        wait_for(moved, timeout=20, message="A's case to move to B")
        trail = boss.get(f"/cases/{case['id']}").json()["trail"]
        moves = [e for e in trail if e["action"] == "reassigned"]
        assert len(moves) == 1 and moves[0]["data"]["to_person_id"] == b["id"]

        # A comes back (销假): the case goes back to A
        clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=TZ))
        r = a_api.post(f"/leaves/{leave['id']}/return")
        assert r.status_code == 200, r.text
        wait_for(lambda: holder() == a["id"], timeout=20, message="the case to return to A")
        trail = boss.get(f"/cases/{case['id']}").json()["trail"]
        assert [e["data"]["to_person_id"] for e in trail if e["action"] == "reassigned"] == [b["id"], a["id"]]
