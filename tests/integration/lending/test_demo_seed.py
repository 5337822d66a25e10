"""The demo seeds of lending and complaints run against the real services (as ``make run``
does through scripts/seed_demo.py) and leave the records the demo shows."""
from __future__ import annotations

import pytest

from scripts.seed_demo import demo_organisation
from services.complaints import demo as complaints_demo
from services.lending import demo as lending_demo
from tests.support.system import running_services

pytestmark = pytest.mark.integration


def test_demo_seeds(broker, database):
    with running_services(broker.uri, database, ["staff", "complaints", "lending"]):
        org, rpc = demo_organisation(broker.uri)

        lent = lending_demo.seed(rpc, org)
        filed = complaints_demo.seed(rpc, org)
        with rpc("lending", "security") as lending:
            items = lending.list_items()
            assert len(items) == 20
            assert sorted(i["label"] for i in items if i["state"] == "lent") == ["便民服务车1号"]
            assert len(lending.list_loans()) == 2
        assert lent["loans"]["便民服务车1号"]["id_number"].endswith("0027")
        with rpc("complaints", "complaints") as complaints:
            listed = complaints.list_complaints()
            assert len(listed) == 3
            petition = complaints.get_complaint(filed["petition"]["id"])
            assert petition["collective"] and petition["escalated"]
            # P5: this month's and next month's rosters published; the reception booked to a leader
            duty = complaints.leader_on_duty()
            assert duty["roster_published"] and duty["next_month_published"]
            leaders = {org["people"]["director"]["id"], org["people"]["deputy"]["id"]}
            assert petition["reception_leader_id"] in leaders or not any(
                d["day"] <= petition["reception_due_on"] for d in duty["month"] if d["day"] >= duty["date"])
            assert complaints.get_complaint(filed["verified"]["id"])["state"] == "replied"
        with rpc("complaints", "clerk_civil_a") as complaints:
            [mine] = complaints.list_complaints()
            assert mine["complainant"] is None and "杨秀珍" not in repr(mine)
