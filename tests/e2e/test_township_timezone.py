"""A township's time zone, set once in staff, becomes the `timezone` rule of every service that
counts local days (DOMAIN "Time"), through staff.organisation_changed."""
from __future__ import annotations

import pytest

from tests.support.runtime import wait_for
from tests.support.system import Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.e2e


def test_services_take_the_townships_time_zone_from_staff(broker, database):
    names = ["staff", "intake", "complaints", "lending", "gateway"]
    with running_services(broker.uri, database, names) as c:
        api = gateway_api(c["gateway"])
        op = api.as_(operator_token(broker.uri))
        boss = Township(api, op, "xj-town", "天山镇", director="艾力", timezone="Asia/Urumqi").boss
        for service in ("intake", "complaints", "lending"):
            wait_for(lambda: boss.get(f"/settings/{service}").json()["settings"]["timezone"] == "Asia/Urumqi",
                     message=f"{service} to take the township's time zone")
        r = op.post("/townships", {"code": "bad-tz", "name": "x", "timezone": "Mars/Olympus", "director": {"name": "x"}})
        assert r.status_code == 422 and "timezone" in r.json()["details"]
        # another township keeps the default
        other = Township(api, op, "sh-town", "青浦镇", director="王").boss
        wait_for(lambda: other.get("/settings/lending").json()["settings"]["timezone"] == "Asia/Shanghai",
                 message="the default zone")
