"""Health asked by RPC opens no test connection to the broker (the broker carried the question
and carries the answer); asked over HTTP it still tries one (issue 9: the gateway probes every
service every 2 s, and a connection per probe kept the broker busy)."""
from __future__ import annotations

import pytest

from services.common.service import check_health

UNREACHABLE = "amqp://guest:guest@127.0.0.1:1/"


@pytest.mark.parametrize("via_broker, broker, ok", [
    (True, "ok", True),
    (False, "unreachable", False),
])
def test_the_broker_is_tested_only_when_the_question_did_not_come_through_it(via_broker, broker, ok):
    report = check_health("intake", {"AMQP_URI": UNREACHABLE}, consumers="ok", via_broker=via_broker)
    assert report["checks"]["broker"].startswith(broker) and report["ok"] is ok
