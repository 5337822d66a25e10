"""A unit of work on an in-memory SQLite database with a frozen clock (no broker)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.common.clock import FrozenClock
from services.lending.models import Base
from tests.support.units import UnitsOfWork

T = "township-a"


@pytest.fixture
def clock():
    # Mon 3 Mar 2025, 10:00 in Shanghai
    return FrozenClock(datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc))


@pytest.fixture
def units(clock):
    return UnitsOfWork(Base, "lending", clock, township_id=T)
