"""The demo township's discipline history (services/staff/demo.py::seed_discipline) seeds
through the real staff service and leaves what it promises: a closed week, a leave, a patrol."""
from __future__ import annotations

from contextlib import contextmanager

import pytest

from services.staff import demo
from tests.support.runtime import rpc_proxy
from tests.support.system import running_services

pytestmark = pytest.mark.integration


def test_seed_discipline(broker, database):
    with running_services(broker.uri, database, ["staff"]):
        with rpc_proxy(broker.uri, {"roles": ["operator"]}) as op:
            @contextmanager
            def director_staff(township_id, director_id):
                with rpc_proxy(broker.uri, {"township_id": township_id, "person_id": director_id,
                                            "roles": ["director"]}) as c:
                    yield c.staff

            org = demo.seed(op.staff, director_staff)

        @contextmanager
        def rpc(service, key):
            person = org["people"][key]
            with rpc_proxy(broker.uri, {"township_id": org["township"]["id"], "person_id": person["id"],
                                        "roles": person["roles"]}) as c:
                yield getattr(c, service)

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
