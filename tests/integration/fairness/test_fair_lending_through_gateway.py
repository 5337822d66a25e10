"""L1/L3 through the gateway (real HTTP, broker, PostgreSQL): a cart lent after closing is due
at the next working day's closing time (summer hours included), its conditions are shown,
acknowledged and printed on the register, and ordinary wear is not charged while damage the
borrower caused is. Lending runs on its own frozen clock; staff (which issues the tokens) on
real time."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.common.clock import FrozenClock
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration
SH = ZoneInfo("Asia/Shanghai")
BORROWER = {"borrower_name": "张三", "registered_resident": True, "id_type": "resident_id_card",
            "id_number": "110101199003071234", "phone": "13812345678", "address": "柳溪村3组",
            "purpose": "搬运化肥", "signature": "张三"}


@pytest.fixture(scope="module")
def system(broker, module_database):
    clock = FrozenClock(datetime(2025, 3, 3, 19, 0, tzinfo=SH))  # Monday 19:00, after closing (17:30)
    with running_services(broker.uri, module_database, ["staff", "gateway"]) as containers, \
            running_services(broker.uri, module_database, ["lending"], clock=clock):
        api = gateway_api(containers["gateway"])
        town = Township(api, api.as_(operator_token(broker.uri)), "fair-lend")
        _, guard = town.person("罗二虎", ["guard"])
        r = town.boss.post("/lending/items", {"kind": "cart", "label": "便民服务车1号", "replacement_value_cents": 30000})
        assert r.status_code == 201, r.text
        yield {"boss": town.boss, "guard": guard, "cart": r.json(), "clock": clock}


def lend(s, **over):
    return s["guard"].post(f"/lending/items/{s['cart']['id']}/loans", {**BORROWER, **over})


def test_a_cart_lent_after_closing_is_due_at_the_next_working_days_closing(system):
    s = system
    r = lend(s)  # conditions not acknowledged
    assert r.status_code == 422 and "conditions_acknowledged" in r.json()["details"]
    assert "25公斤" in r.json()["message"]
    r = lend(s, conditions_acknowledged=True)
    assert r.status_code == 201, r.text
    loan = r.json()
    assert loan["due_at"] == "2025-03-04T09:30:00+00:00"  # Tue 4 Mar 17:30 local, not Mon 17:30
    assert "载重不超过25公斤" in loan["conditions"] and loan["conditions_acknowledged_at"]
    r = s["guard"].post(f"/lending/loans/{loan['id']}/return", {"condition": "worn", "note": "轮胎正常磨损"})
    assert r.status_code == 200, r.text
    assert r.json()["loan"]["damage_cause"] == "wear" and r.json()["compensation"] is None  # wear: not charged
    # Friday 6 Jun 2025, 17:45: summer hours close at 18:00, so it is due that day
    s["clock"].set(datetime(2025, 6, 6, 17, 45, tzinfo=SH))
    loan = lend(s, conditions_acknowledged=True).json()
    assert loan["due_at"] == "2025-06-06T10:00:00+00:00"
    r = s["guard"].post(f"/lending/loans/{loan['id']}/return", {"condition": "damaged", "note": "车把折断"})
    assert r.status_code == 422 and "cause" in r.json()["details"]
    r = s["guard"].post(f"/lending/loans/{loan['id']}/return",
                        {"condition": "damaged", "cause": "borrower", "note": "超载致车把折断"})
    assert r.status_code == 200 and r.json()["compensation"]["amount_cents"] == 30000  # 人为损坏: 原价赔偿
    # Saturday 7 Jun: the hall is closed → due Monday 9 Jun 18:00 (summer)
    s["clock"].set(datetime(2025, 6, 7, 10, 0, tzinfo=SH))
    assert lend(s, conditions_acknowledged=True).json()["due_at"] == "2025-06-09T10:00:00+00:00"
    r = s["boss"].get("/lending/register.csv?from=2025-03-01&to=2025-06-30")
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][11] == "使用条件（借用人已确认）"
    assert all("载重不超过25公斤" in row[11] and "确认" in row[11] for row in rows[1:]) and len(rows) == 4
    assert "人为，按原价赔偿" in rows[2][13] and rows[1][13] == "正常磨损"
