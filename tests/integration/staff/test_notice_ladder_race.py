"""S6/I3 on PostgreSQL: two violations of one person handled at the same moment (two workers,
two transactions) take two steps of the ladder, never two first steps — the person's row is
locked while the step is counted. Deterministic: the first transaction holds its step
uncommitted while the second starts."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import eventlet
import pytest

from services.common.clock import FrozenClock
from services.staff import noticeladder
from services.staff import organisation as org
from services.staff.models import Base, Person
from tests.support.units import UnitsOfWork

pytestmark = pytest.mark.integration


def test_s6_concurrent_violations_of_one_person_take_consecutive_steps(database):
    units = UnitsOfWork(Base, "staff", FrozenClock(datetime(2025, 3, 6, 9, tzinfo=ZoneInfo("Asia/Shanghai"))),
                        database("ladder"))
    with units(None) as uow:
        township = org.create_township(uow, "race", "赛镇", {"name": "主任"})["township"]["id"]
    with units(township) as uow:
        pid = org.create_person(uow, "A", ["clerk"], badge_no="A1")["id"]
    first_in = eventlet.event.Event()
    got = {}

    def violation(name, hold):
        with units(township) as uow:
            step = noticeladder.climb(uow, uow.session.get(Person, pid), date(2025, 3, 5), "test", name)
            got[name] = (step.ordinal, step.measure)
            if hold:
                first_in.send()
                eventlet.sleep(0.5)          # the first step stays uncommitted a while

    first = eventlet.spawn(violation, "v1", True)
    first_in.wait()
    second = eventlet.spawn(violation, "v2", False)
    first.wait()
    second.wait()
    assert got == {"v1": (1, "oral_warning"), "v2": (2, "admonition_talk")}
