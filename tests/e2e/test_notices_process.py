"""`python -m services.run notices` as its own process (as `make run` and the image start it):
migrations applied, the organisation copied from staff's events, an N1 event in on the broker,
the notice out through the gateway, its /metrics with the N1 gauges."""
from __future__ import annotations

import pytest
from nameko.standalone.events import event_dispatcher

from services.common import events
from services.common.clock import utcnow
from tests.support.processes import processes
from tests.support.runtime import wait_for
from tests.support.system import Api, Township, operator_token

pytestmark = pytest.mark.e2e

SECRET = "e2e-secret-" + "n" * 40


def test_notices_runs_as_a_process(broker, database, tmp_path):
    dbs = {name: database(name) for name in ("staff", "notices")}  # migrated by the processes
    with processes(broker.uri, tmp_path, dbs, ["staff", "notices", "gateway"], GATEWAY_JWT_SECRET=SECRET,
                   NOTICES_SWEEP_INTERVAL="1") as procs:
        api = Api(procs["gateway"].url)
        op = api.as_(operator_token(broker.uri, key=SECRET))
        town = Township(api, op, "ntc-p")
        clerk, client = town.person("王晓燕", ["clerk"])
        body = events.build("cases.case_reminder", town.id, utcnow(), case_id="c1", receipt_no="QS-1",
                            holder_person_id=clerk["id"], due_date="2026-12-01")
        event_dispatcher({"AMQP_URI": broker.uri})("cases", "case_reminder", body)
        items = wait_for(lambda: client.get("/me/notices").json()["items"], timeout=30,
                         message="the reminder in the clerk's inbox")
        assert [(n["rule"], n["needs_ack"]) for n in items] == [("C5", True)]
        metrics = procs["notices"].metrics()
        assert f'notices_unacknowledged{{township_id="{town.id}"}} 1.0' in metrics
