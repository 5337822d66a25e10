"""A unit of work on an in-memory SQLite database with a frozen clock: the complaints rules
tested without a broker."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.common.clock import FrozenClock
from services.complaints.models import Base, PersonCopy, WindowCopy
from tests.support.units import UnitsOfWork

T = "township-a"


@pytest.fixture
def clock():
    # Mon 3 Mar 2025, 10:00 in Shanghai
    return FrozenClock(datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc))


@pytest.fixture
def units(clock):
    u = UnitsOfWork(Base, "complaints", clock, township_id=T)
    with u() as uow:
        uow.session.add_all([
            WindowCopy(id="w-civil", number=1, name="民政窗口"),
            WindowCopy(id="w-land", number=4, name="土地流转"),
            PersonCopy(id="p-clerk", name="王晓燕", window_id="w-civil", roles=["clerk"]),
            PersonCopy(id="p-clerk-b", name="李俊", window_id="w-civil", roles=["clerk"]),
            PersonCopy(id="p-other", name="吴刚", window_id="w-land", roles=["clerk"]),
        ])
    return u
