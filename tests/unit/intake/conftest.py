"""Unit-of-work fixtures for intake's rules: SQLite in memory, a frozen clock, no broker."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.common.clock import FrozenClock
from services.intake import catalogue
from services.intake.models import Base
from services.intake.rules import RULES
from tests.support.units import UnitsOfWork

T1, T2 = "t" * 32, "u" * 32


class Env:
    def __init__(self):
        # Fri 24 Jan 2025, 10:00 in Shanghai
        self.units = UnitsOfWork(Base, "intake", FrozenClock(datetime(2025, 1, 24, 2, 0, tzinfo=timezone.utc)))
        self.engine, self.clock = self.units.engine, self.units.clock
        self.outbox = self.units.outbox

    def uow(self, township=T1):
        return self.units(township)

    def settings(self, township=T1, **changes):
        with self.uow(township) as uow:
            if changes:
                RULES.update(uow, changes)
            return RULES.load(uow)


@pytest.fixture
def env():
    return Env()


MATERIALS = [
    {"name": "申请书", "main": True},
    {"name": "居民身份证", "main": True},
    {"name": "户口簿复印件", "main": False},
    {"name": "收入证明", "main": False},
]


def item_data(code="MZ-002", **over):
    data = {"code": code, "name": "城乡低保申请", "legal_basis": "《社会救助暂行办法》第十一条",
            "window_id": "w" * 32, "department_id": "d" * 32, "materials": MATERIALS,
            "procedure": "申请—受理—入户调查—公示—审批", "default_kind": "promised", "promised_days": 5}
    data.update(over)
    return data


def make_item(env, township=T1, **over):
    with env.uow(township) as uow:
        return catalogue.create_item(uow, "director1", item_data(**over))


def applicant():
    return {"name": "李秀兰", "phone": "13812345678", "id_no": "110101199003071234"}
