"""Issue 9: a unit of work of one write that stands alone (intake's copy of a case's state,
ordered by ``seq``) runs in autocommit — no BEGIN and COMMIT round trips around it — on the
service's own pool, without leaving a pooled connection in autocommit, and cannot emit events
(an event and its state change must commit together)."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text

from services.common.db import Database
from services.common.migrate import upgrade
from services.intake.models import Base

SETTINGS = "INSERT INTO settings (township_id, key, value, updated_at) VALUES (:t, :k, '1', now())"


@pytest.fixture
def db(database, monkeypatch):
    monkeypatch.setenv("DB_POOL_SIZE", "1")  # one connection: every unit of work reuses it
    monkeypatch.setenv("DB_MAX_OVERFLOW", "0")
    url = database("single")
    upgrade("intake", url)

    class Container:
        service_name = "intake"
        max_workers = 1
        config = {"DATABASE_URL": url}
        dependencies = ()  # no Clock of its own: the system clock

    provider = Database(Base, relay=False)
    provider.container = Container()
    provider.setup()
    other = create_engine(url)
    yield provider, other
    provider.engine.dispose()
    other.dispose()


def stored(engine, key):
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM settings WHERE key = :k"), {"k": key}).scalar_one()


def test_a_single_write_is_committed_as_it_is_made(db):
    provider, other = db
    with provider.unit_of_work("t1", single=True) as uow:
        uow.session.execute(text(SETTINGS), {"t": "t1", "k": "a"})
        assert stored(other, "a") == 1  # seen by another connection before the block ends: no transaction
    assert stored(other, "a") == 1


def test_the_connection_goes_back_to_the_pool_transactional(db):
    provider, other = db
    with provider.unit_of_work("t1", single=True) as uow:
        uow.session.execute(text(SETTINGS), {"t": "t1", "k": "a"})
    with pytest.raises(RuntimeError):
        with provider.unit_of_work("t1") as uow:  # the same pooled connection
            uow.session.execute(text(SETTINGS), {"t": "t1", "k": "b"})
            assert stored(other, "b") == 0  # not yet committed
            raise RuntimeError("the effect fails")
    assert stored(other, "b") == 0  # rolled back with it


def test_a_single_write_cannot_emit_events(db):
    provider, other = db
    with pytest.raises(RuntimeError, match="cannot emit"):
        with provider.unit_of_work("t1", single=True) as uow:
            uow.emit("intake.notice_violation", application_id="a", receipt_no=None, person_id="p",
                     kind="late_notice", detail="x")
    with other.connect() as conn:
        assert conn.execute(select(Base.common.outbox.c.event_id)).all() == []


def test_an_effect_without_a_processed_record_runs_in_a_single_write_unit():
    from services.common import handlers

    opened = []

    class Db:
        def __call__(self, township_id=None):
            opened.append("transaction")
            return self.unit()

        def single(self, township_id=None):
            opened.append("single")
            return self.unit()

        def unit(self):
            from contextlib import nullcontext

            class Unit:
                def first_time(self, event, handler):
                    return True

            return nullcontext(Unit())

    class Metrics:
        def handled(self, event_type, first):
            pass

    class Service:
        name = "intake"
        db, metrics = Db(), Metrics()

    body = {"event_id": "e1", "event_type": "cases.case_transitioned", "township_id": "t1",
            "occurred_at": "2025-01-01T00:00:00+00:00", "schema_version": 1, "case_id": "c", "application_id": "a",
            "receipt_no": "r", "from_state": None, "to_state": "received", "status_code": "RECEIVED", "seq": 1}
    handlers.handle_once(Service(), "cases.case_transitioned", body, lambda uow, ev: None, record=False)
    handlers.handle_once(Service(), "cases.case_transitioned", body, lambda uow, ev: None)
    assert opened == ["single", "transaction"]
