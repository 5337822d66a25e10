"""Units of work on a SQLite database with one service's tables and a frozen clock: domain
rules tested without a broker (the outbox is a table the test reads)."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from services.common.db import UnitOfWork, make_engine


class UnitsOfWork:
    """``units(township_id)`` opens a unit of work; ``unit_of_work(...)`` has the signature of
    ``Database.unit_of_work``, so code written for the service's database (sweeps) runs on it."""

    def __init__(self, base, service: str, clock, url: str = "sqlite://", township_id=None):
        self.township_id = township_id  # the township ``units()`` binds to when none is named
        self.base = base
        self.service = service
        self.clock = clock
        if url == "sqlite://":  # one in-memory database shared by every session
            self.engine = create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
        else:
            self.engine = make_engine(url)
        base.metadata.create_all(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.emitted: list[dict] = []  # events of committed units, in order

    @contextmanager
    def unit_of_work(self, township_id=None, clock=None, call_id=None):
        session = self.sessions()
        uow = UnitOfWork(session, self.base.common, self.service, township_id, clock or self.clock, call_id)
        try:
            yield uow
            session.commit()
            self.emitted.extend(uow.emitted)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def __call__(self, township_id=None):
        """A unit of work bound to ``township_id``: commits on success, rolls back on error."""
        return self.unit_of_work(township_id or self.township_id)

    def sweep_run(self, chunk: int = 50):
        """A ``services.common.sweep.SweepRun`` on these units (sweeps take one)."""
        from services.common.sweep import SweepRun

        return SweepRun(self, chunk=chunk)

    def outbox(self, event_type=None) -> list[dict]:
        """The events written so far (optionally of one type), oldest first."""
        outbox = self.base.common.outbox
        with self.engine.connect() as conn:
            rows = conn.execute(outbox.select().order_by(outbox.c.id)).all()
        return [r.payload for r in rows if event_type is None or r.event_type == event_type]
