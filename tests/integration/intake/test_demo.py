"""The demo seed (services/intake/demo.py) runs against real staff and intake services and
produces every kind the demo promises."""
from __future__ import annotations

import pytest

from scripts.seed_demo import demo_organisation
from services.intake import demo as intake_demo
from tests.support.system import running_services

pytestmark = pytest.mark.integration


def test_demo_seed_builds_catalogue_applications_and_inquiries(broker, database):
    with running_services(broker.uri, database, ["staff", "intake"]):
        org, rpc = demo_organisation(broker.uri)

        out = intake_demo.seed(rpc, org)
        assert len(out["items"]) == 11
        kinds = {k: v["application"]["kind"] for k, v in out["applications"].items()}
        assert kinds == {
            "marriage_immediate": "immediate", "dibao_supplement": "supplement",
            "dibao_proxy_promised": "promised", "subsidy_joint": "joint",
            "homestead_escalated": "escalated", "transfer_returned": "returned", "birth_immediate": "immediate",
        }
        agent_app = out["applications"]["dibao_proxy_promised"]["application"]
        assert (agent_app["village"], agent_app["agent_name"], agent_app["proxy"]) == ("柳溪村", "谢春花", True)
        with rpc("intake", "agent_1") as intake:  # I6: the agent's list: one brought, one still out
            assert sorted(c["status"] for c in intake.list_collections()) == ["collected", "submitted"]
        with rpc("intake", "clerk_civil_a") as intake:
            tracking = intake.tracking()
            assert [q["topic"] for q in tracking["inquiries"]] == ["翻建老宅需要办理什么手续"]
            assert any(a["item_code"] == "ZR-001" for a in tracking["applications"])
            done = intake.get_application(out["applications"]["dibao_supplement"]["application"]["id"])
            assert done["status"] == "accepted" and done["kind"] == "promised"
        with rpc("intake", "inspector") as intake:
            masked = intake.get_application(out["applications"]["marriage_immediate"]["application"]["id"])
            assert masked["applicant"]["id_no"] == "430***********0013"
