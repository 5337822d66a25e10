"""Demo data of lending for 青山镇 (``seed(rpc, org)``, called by scripts/seed_demo.py): the
items of the centre's guard post (seed 000: numbered 便民服务车 carts for registered residents,
free, same day, in the community only, ≤ 25 kg), umbrellas, reading glasses of three
strengths, wheelchairs, a first-aid kit — and two loans, one of them already returned.
The borrowers are invented."""
from __future__ import annotations

ITEMS = (
    [{"kind": "cart", "label": f"便民服务车{n}号", "replacement_value_cents": 32000} for n in range(1, 5)]
    + [{"kind": "umbrella", "label": f"爱心雨伞{n:02d}", "replacement_value_cents": 3500} for n in range(1, 11)]
    + [{"kind": "reading_glasses", "label": f"老花镜{strength}", "spec": strength, "replacement_value_cents": 2500}
       for strength in ("+1.5D", "+2.0D", "+2.5D")]
    + [{"kind": "wheelchair", "label": f"轮椅{n}号", "loan_days": 3, "deposit_cents": 20000,
        "usage_notes": "押金200元，3日内归还", "replacement_value_cents": 68000} for n in (1, 2)]
    + [{"kind": "first_aid_kit", "label": "急救箱", "usage_notes": "限中心内使用，用后登记耗材",
        "replacement_value_cents": 15000}]
)

LOANS = [
    ("便民服务车1号", {"borrower_name": "陈桂兰", "registered_resident": True, "id_type": "resident_id_card",
                  "id_number": "430123195811020027", "phone": "13907310011", "address": "青山镇柳溪村4组12号",
                  "purpose": "从农资店运化肥回家", "signature": "陈桂兰", "conditions_acknowledged": True}),
    ("轮椅1号", {"borrower_name": "刘德福", "registered_resident": True, "id_type": "household_register",
              "id_number": "430123194903150031", "phone": "13807310022", "address": "青山镇青山社区2栋",
              "purpose": "老人去卫生院复诊", "signature": "刘德福（其子刘强代签）", "conditions_acknowledged": True}),
]


def seed(rpc, org) -> dict:
    created = {}
    with rpc("lending", "director") as lending:
        for item in ITEMS:
            created[item["label"]] = lending.create_item(**item)
    loans = {}
    with rpc("lending", "guard_1") as lending:
        for label, borrower in LOANS:
            loans[label] = lending.lend(created[label]["id"], **borrower)
    with rpc("lending", "guard_2") as lending:
        lending.take_back(loans["轮椅1号"]["id"], "good", None)
    return {"items": created, "loans": loans}
