"""A unit of work on an in-memory SQLite database with a frozen clock (no broker)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from sqlalchemy.orm import sessionmaker

from services.common.clock import FrozenClock
from services.common.db import UnitOfWork, make_engine
from services.lending.models import Base

T = "township-a"


class Units:
    def __init__(self, clock):
        self.clock = clock
        self.engine = make_engine("sqlite://")
        Base.metadata.create_all(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def __call__(self, township_id=T):
        session = self.sessions()
        uow = UnitOfWork(session, Base.common, "lending", township_id, self.clock)
        try:
            yield uow
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def outbox(self, event_type=None):
        with self.engine.connect() as conn:
            rows = conn.execute(Base.common.outbox.select().order_by(Base.common.outbox.c.id)).all()
        return [r.payload for r in rows if event_type is None or r.event_type == event_type]


@pytest.fixture
def clock():
    # Mon 3 Mar 2025, 10:00 in Shanghai
    return FrozenClock(datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc))


@pytest.fixture
def units(clock):
    return Units(clock)
