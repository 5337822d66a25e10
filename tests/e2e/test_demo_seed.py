"""The seeding path of `make run` (scripts/seed_demo.seed_if_empty) against all six services
and the gateway: the demo township 青山镇 appears once, with what the README walk-through uses,
and the printed user names and passwords sign in."""
from __future__ import annotations

import pytest

from tests.support.system import gateway_api, running_services

pytestmark = pytest.mark.e2e


def test_make_run_seeds_the_demo_township_once(broker, database, monkeypatch, tmp_path):
    monkeypatch.setenv("VAR_DIR", str(tmp_path))  # var/demo-accounts.json of this test only
    monkeypatch.delenv("RUN_SERVICES", raising=False)
    from scripts.seed_demo import seed_if_empty

    names = ["staff", "intake", "cases", "complaints", "lending", "notices", "gateway"]
    with running_services(broker.uri, database, names) as c:
        info = seed_if_empty(broker.uri)
        assert info["code"] == "qingshan" and info["name"] == "青山镇"
        api = gateway_api(c["gateway"])
        accounts = {a["key"]: a for a in info["accounts"]}
        boss, clerk, op = (api.signed_in(accounts[k]["username"], accounts[k]["password"])
                           for k in ("director", "clerk_civil_a", "operator"))

        windows = boss.get("/windows").json()
        assert len(windows) == 7 and all(w["a_person_id"] and w["b_person_id"] for w in windows)
        assert [w["number"] for w in windows if w["fee_window"]] == [7]  # C8
        catalogue = api.get("/public/townships/qingshan/catalogue").json()
        assert {"MZ-001", "MZ-002", "NJ-001", "ZR-001"} <= {i["code"] for i in catalogue}
        assert clerk.get("/me").json()["roles"] == ["clerk"]
        assert len(boss.get("/lending/items").json()) >= 10
        assert boss.get("/cases?limit=500").json()  # the demo applications opened cases
        assert [t["code"] for t in op.get("/townships").json()] == ["qingshan"]
        # N1: the demo's collective petition reached the leaders (P5), its loans the other posts (L2)
        from tests.support.runtime import wait_for

        wait_for(lambda: any(n["rule"] == "P5" for n in boss.get("/me/notices?per_page=100").json()["items"]),
                 timeout=20, message="the director to be told of the collective petition")

        again = seed_if_empty(broker.uri)  # a second `make run`: no second township, the same passwords
        assert [t["code"] for t in op.get("/townships").json()] == ["qingshan"]
        assert again["accounts"] == info["accounts"]
        assert boss.get("/windows").status_code == 200  # the saved passwords were checked, not reset
