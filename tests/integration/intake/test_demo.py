"""The demo seed (services/intake/demo.py) runs against real staff and intake services and
produces every kind the demo promises."""
from __future__ import annotations

from contextlib import contextmanager

import pytest

from services.intake import demo as intake_demo
from services.staff import demo as staff_demo
from tests.support.runtime import rpc_proxy
from tests.support.system import running_services

pytestmark = pytest.mark.integration


def test_demo_seed_builds_catalogue_applications_and_inquiries(broker, database):
    with running_services(broker.uri, database, ["staff", "intake"]):
        with rpc_proxy(broker.uri, {"roles": ["operator"]}) as op:
            @contextmanager
            def director_staff(township_id, director_id):
                with rpc_proxy(broker.uri, {"township_id": township_id, "person_id": director_id,
                                            "roles": ["director"]}) as c:
                    yield c.staff

            org = staff_demo.seed(op.staff, director_staff)

        @contextmanager
        def rpc(service, key):
            person = org["people"][key]
            with rpc_proxy(broker.uri, {"township_id": org["township"]["id"], "person_id": person["id"],
                                        "roles": list(person["roles"])}) as c:
                yield getattr(c, service)

        out = intake_demo.seed(rpc, org)
        assert len(out["items"]) == 11
        kinds = {k: v["application"]["kind"] for k, v in out["applications"].items()}
        assert kinds == {
            "marriage_immediate": "immediate", "dibao_supplement": "supplement",
            "dibao_proxy_promised": "promised", "subsidy_joint": "joint",
            "homestead_escalated": "escalated", "transfer_returned": "returned", "birth_immediate": "immediate",
        }
        with rpc("intake", "clerk_civil_a") as intake:
            tracking = intake.tracking()
            assert [q["topic"] for q in tracking["inquiries"]] == ["翻建老宅需要办理什么手续"]
            assert any(a["item_code"] == "ZR-001" for a in tracking["applications"])
            done = intake.get_application(out["applications"]["dibao_supplement"]["application"]["id"])
            assert done["status"] == "accepted" and done["kind"] == "promised"
        with rpc("intake", "inspector") as intake:
            masked = intake.get_application(out["applications"]["marriage_immediate"]["application"]["id"])
            assert masked["applicant"]["id_no"] == "430***********0013"
