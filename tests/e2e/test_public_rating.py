"""End to end: an applicant rates a delivered case with receipt number and password, no login
(C9/I4); a low rating opens a follow-up in complaints (P6) — intake, cases and complaints
joined only by RPC from the gateway and events between them."""
from __future__ import annotations

import pytest

from tests.support.runtime import wait_for
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.e2e

MATERIALS = [{"name": "男女双方居民身份证", "main": True}, {"name": "男女双方户口簿", "main": True}]


def test_public_rating_of_a_delivered_case_and_a_low_rating_follow_up(broker, database):
    names = ["staff", "intake", "cases", "complaints", "gateway"]
    with running_services(broker.uri, database, names) as c:
        api = gateway_api(c["gateway"])
        op = api.as_(operator_token(broker.uri))
        town = Township(api, op, "rate-town", "评价镇", director="周建国")
        boss, person = town.boss, town.person
        window = boss.post("/windows", {"number": 1, "name": "民政窗口"}).json()

        clerk, clerk_api = person("王晓燕", ["clerk"], window_id=window["id"])
        _, officer_api = person("彭玉兰", ["complaint_officer"])
        assert boss.post("/intake/items", {"code": "MZ-001", "name": "结婚登记", "legal_basis": "《婚姻登记条例》",
                                           "window_id": window["id"], "materials": MATERIALS,
                                           "default_kind": "immediate", "promised_days": 0}).status_code == 201

        def delivered_case():
            r = clerk_api.post("/intake/applications", {
                "item_code": "MZ-001", "materials_brought": [m["name"] for m in MATERIALS],
                "applicant": {"name": "张伟", "phone": "13912345678", "id_no": "330102199001011234"}})
            assert r.status_code == 201, r.text
            receipt = r.json()["receipt"]
            case = wait_for(lambda: (lambda r: r.status_code == 200 and r.json())(
                boss.get(f"/cases/by-receipt/{receipt['receipt_no']}")), message="the case")
            assert clerk_api.post(f"/cases/{case['id']}/review", {"opinion": "approve"}).status_code == 200
            assert boss.post(f"/cases/{case['id']}/decision", {"outcome": "approved"}).status_code == 200
            assert clerk_api.post(f"/cases/{case['id']}/delivery", {}).status_code == 200
            return receipt, case

        public = api.as_(None)
        receipt, case = delivered_case()
        path = f"/public/townships/rate-town/receipts/{receipt['receipt_no']}/rating"
        r = public.post(path, {"password": "WRONGPASS", "rating": 5})
        assert r.status_code == 404 and r.json()["details"] is None
        r = public.post(path, {"password": receipt["query_password"], "rating": 6})
        assert r.status_code == 422 and "rating" in r.json()["details"]
        r = public.post(path, {"password": receipt["query_password"], "rating": 5, "comment": "很快"})
        assert r.status_code == 201, r.text
        assert r.json()["rating"] == 5 and r.json()["follow_up"] is False
        assert boss.get(f"/cases/{case['id']}").json()["rating"] == 5

        # a rating of 2 opens a follow-up in complaints (P6), for the complaint officer
        receipt, case = delivered_case()
        r = public.post(f"/public/townships/rate-town/receipts/{receipt['receipt_no']}/rating",
                        {"password": receipt["query_password"], "rating": 2, "comment": "等太久"})
        assert r.status_code == 201 and r.json()["follow_up"] is True

        def follow_up():
            items = officer_api.get("/follow-ups").json()
            items = items.get("items", items) if isinstance(items, dict) else items
            return [f for f in items if f.get("case_id") == case["id"]]
        found = wait_for(follow_up, timeout=20, message="the follow-up to open in complaints")
        assert len(found) == 1
        # the applicant of another township's code gets nothing
        assert public.post(f"/public/townships/no-such-town/receipts/{receipt['receipt_no']}/rating",
                           {"password": receipt["query_password"], "rating": 1}).status_code == 404
