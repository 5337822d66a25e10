"""The demo township's discipline history (services/staff/demo.py::seed_discipline) seeds
through the real staff service and leaves what it promises: a closed week, a leave, a patrol."""
from __future__ import annotations

import pytest

from scripts.seed_demo import demo_organisation
from services.staff import demo
from tests.support.system import running_services

pytestmark = pytest.mark.integration


def test_seed_discipline(broker, database):
    with running_services(broker.uri, database, ["staff"]):
        org, rpc = demo_organisation(broker.uri)

        done = demo.seed_discipline(rpc, org)
        assert done["days"] and done["leave"]["state"] == "approved"
        assert done["patrol"]["findings"][0]["rule_code"] == "phone"
        with rpc("staff", "director") as staff:
            from datetime import date, timedelta

            monday = date.fromisoformat(done["days"][0])
            monday -= timedelta(days=monday.weekday())
            sheet = staff.weekly_attendance(monday.isoformat())
        rows = {r["name"]: r for r in sheet["people"]}
        weekdays = {date.fromisoformat(d).weekday() for d in done["days"]}
        assert rows["李俊"]["late"] == (1 in weekdays)            # Tuesday 08:27
        assert rows["张丽华"]["early"] == (3 in weekdays)          # Thursday 17:00
        assert rows["吴刚"]["absent_halves"] == (4 in weekdays)    # Friday afternoon
        assert all(r["late"] == r["early"] == r["absent_halves"] == 0
                   for name, r in rows.items() if name not in ("李俊", "张丽华", "吴刚"))
