"""Timer sweeps of the running cases service with a moved clock (FrozenClock), on the real
broker and PostgreSQL: reminder, overdue exactly once with two instances sweeping the same
database at once, and tacit approval when the township's switch is on (C5, C6)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from nameko.testing.services import entrypoint_hook

from services.cases.service import CasesService
from services.common.clock import FrozenClock
from tests.integration.cases.support import accepted, outbox
from tests.support.runtime import running, service_config, wait_for
from tests.support.system import migrated

pytestmark = pytest.mark.integration

SH = ZoneInfo("Asia/Shanghai")
TOWN = "timer-town"
DIRECTOR = {"township_id": TOWN, "person_id": "boss", "roles": ["director"]}


def test_reminder_overdue_once_in_two_instances_and_tacit_approval(broker, database):
    clock = FrozenClock(datetime(2025, 1, 24, 10, tzinfo=SH))
    url = migrated(database, "cases")
    conf = lambda i: service_config("cases", broker.uri, url, SWEEP_INTERVAL=0.05, INSTANCE=i)  # noqa: E731
    with running(CasesService, conf("one"), clock=clock) as one, running(CasesService, conf("two"), clock=clock):
        with entrypoint_hook(one, "update_settings", context_data=DIRECTOR) as update:
            update({"tacit_approval_enabled": True})
        n = 12
        for i in range(n):
            accepted(broker.uri, TOWN, clock.now(), f"TM-{i}", "clerk-a", days=3, tacit_approval=i % 2 == 0)
        wait_for(lambda: len(outbox(one, "cases.case_transitioned")) == 2 * n, timeout=20, message="cases opened")
        assert outbox(one, "cases.case_reminder") == []
        clock.set(datetime(2025, 1, 27, 9, tzinfo=SH))  # Mon: only 5 Feb is left (Spring Festival)
        wait_for(lambda: len(outbox(one, "cases.case_reminder")) == n, timeout=20, message="reminders")
        clock.set(datetime(2025, 2, 6, 0, 5, tzinfo=SH))  # the day after the due date
        wait_for(lambda: len(outbox(one, "cases.case_tacitly_approved")) == n // 2, timeout=20,
                 message="tacit approvals")
        import eventlet

        eventlet.sleep(0.5)  # both instances keep sweeping: nothing may happen twice
        overdue = outbox(one, "cases.case_overdue")
        assert len(overdue) == n and len({e["case_id"] for e in overdue}) == n
        assert {e["due_date"] for e in overdue} == {"2025-02-05"}
        assert len(outbox(one, "cases.case_reminder")) == n
        tacit = outbox(one, "cases.case_tacitly_approved")
        assert len({e["case_id"] for e in tacit}) == n // 2
        with entrypoint_hook(one, "list_cases", context_data=DIRECTOR) as list_cases:
            cases = list_cases(limit=500)
        outcomes = sorted(c["outcome"] or "open" for c in cases)
        assert outcomes == ["open"] * (n // 2) + ["tacitly_approved"] * (n // 2)
        assert all(c["overdue"] for c in cases)
