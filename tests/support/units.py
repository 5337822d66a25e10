"""Units of work on a SQLite database with one service's tables and a frozen clock: domain
rules tested without a broker (the outbox is a table the test reads)."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy.orm import sessionmaker

from services.common.db import UnitOfWork, make_engine


class UnitsOfWork:
    def __init__(self, base, service: str, clock, url: str = "sqlite://"):
        self.base = base
        self.service = service
        self.clock = clock
        self.engine = make_engine(url)
        base.metadata.create_all(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def __call__(self, township_id):
        """A unit of work bound to ``township_id``: commits on success, rolls back on error."""
        session = self.sessions()
        uow = UnitOfWork(session, self.base.common, self.service, township_id, self.clock)
        try:
            yield uow
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def outbox(self, event_type=None) -> list[dict]:
        """The events written so far (optionally of one type), oldest first."""
        outbox = self.base.common.outbox
        with self.engine.connect() as conn:
            rows = conn.execute(outbox.select().order_by(outbox.c.id)).all()
        return [r.payload for r in rows if event_type is None or r.event_type == event_type]
