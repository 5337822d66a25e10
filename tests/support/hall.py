"""A service hall with a known day, made through the gateway (for the transparency tests: the
statistics routes and the public pages in a browser): two windows with clerks on duty, three
catalogue items, two cases delivered (one rated 5), one in review, one complaint verified."""
from __future__ import annotations

from tests.support.runtime import wait_for
from tests.support.system import Township

MARRIAGE = [{"name": "男女双方居民身份证", "main": True}, {"name": "男女双方户口簿", "main": True},
            {"name": "双方近期半身免冠合影照片", "main": False}]
PENSION = [{"name": "居民身份证", "main": True}, {"name": "户口簿", "main": True},
           {"name": "参保登记表", "main": False}]


def seed_hall(api, op, code: str, name: str) -> dict:
    # the gateway checks tokens once it has loaded staff's account versions (503 until then)
    wait_for(lambda: op.get("/townships").status_code != 503, timeout=30, message="the gateway to check tokens")
    town = Township(api, op, code, name, director="周建国")
    boss = town.boss
    w1 = boss.post("/windows", {"number": 1, "name": "民政窗口"}).json()
    w2 = boss.post("/windows", {"number": 2, "name": "社保窗口"}).json()
    clerk1, clerk1_api = town.person("王晓燕", ["clerk"], window_id=w1["id"], badge_no="QS-001")
    clerk2, clerk2_api = town.person("李俊", ["clerk"], window_id=w2["id"], badge_no="QS-002")
    _, officer_api = town.person("彭玉兰", ["complaint_officer"])
    items = [
        {"code": "MZ-001", "name": "结婚登记", "legal_basis": "《婚姻登记条例》第四条", "window_id": w1["id"],
         "materials": MARRIAGE, "default_kind": "immediate", "promised_days": 0,
         "procedure": "申请—审查—登记—发证"},
        {"code": "SB-001", "name": "城乡居民养老保险参保登记", "legal_basis": "《社会保险法》第二十条",
         "window_id": w2["id"], "materials": PENSION, "default_kind": "promised", "promised_days": 3,
         "procedure": "申请—受理—审核—登记"},
        {"code": "MZ-010", "name": "残疾人证补办", "legal_basis": "《残疾人证管理办法》", "window_id": w1["id"],
         "materials": [{"name": "居民身份证", "main": True}], "default_kind": "promised", "promised_days": 5,
         "fee_cents": 1000, "fee_basis": "省物价局工本费标准"},
    ]
    for item in items:
        r = boss.post("/intake/items", item)
        assert r.status_code == 201, r.text

    def apply(clerk_api, item):
        r = clerk_api.post("/intake/applications", {
            "item_code": item["code"], "materials_brought": [m["name"] for m in item["materials"]],
            "applicant": {"name": "张伟", "phone": "13912345678", "id_no": "330102199001011234"}})
        assert r.status_code == 201, r.text
        receipt = r.json()["receipt"]
        case = wait_for(lambda: (lambda r: r.status_code == 200 and r.json())(
            boss.get(f"/cases/by-receipt/{receipt['receipt_no']}")), timeout=20, message="the case to open")
        return receipt, case

    def deliver(clerk_api, case):
        assert clerk_api.post(f"/cases/{case['id']}/review", {"opinion": "approve"}).status_code == 200
        assert boss.post(f"/cases/{case['id']}/decision", {"outcome": "approved"}).status_code == 200
        assert clerk_api.post(f"/cases/{case['id']}/delivery", {}).status_code == 200

    rated, rated_case = apply(clerk1_api, items[0])
    deliver(clerk1_api, rated_case)
    r = api.as_(None).post(f"/public/townships/{code}/receipts/{rated['receipt_no']}/rating",
                           {"password": rated["query_password"], "rating": 5})
    assert r.status_code == 201, r.text
    delivered, delivered_case = apply(clerk1_api, items[0])
    deliver(clerk1_api, delivered_case)
    pending, pending_case = apply(clerk2_api, items[1])
    assert clerk2_api.post(f"/cases/{pending_case['id']}/review", {"opinion": "approve"}).status_code == 200

    complaint = officer_api.post("/complaints", {
        "channel": "phone", "complainant": {"name": "赵敏", "phone": "13700001111"},
        "target_window_id": w2["id"], "target_person_id": clerk2["id"], "category": "attitude",
        "content": "窗口人员态度生硬"})
    assert complaint.status_code == 201, complaint.text
    verdict = officer_api.post(f"/complaints/{complaint.json()['id']}/outcome",
                               {"outcome": "verified", "finding": "经查属实"})
    assert verdict.status_code == 200, verdict.text
    return {"town": town, "boss": boss, "windows": (w1, w2), "clerks": (clerk1, clerk2),
            "clerk_apis": (clerk1_api, clerk2_api), "officer": officer_api,
            "receipts": {"rated": rated, "delivered": delivered, "pending": pending},
            "cases": {"rated": rated_case, "delivered": delivered_case, "pending": pending_case},
            "month": rated_case["accepted_at"]}
