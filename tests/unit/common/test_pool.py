"""Issue 9: each process's PostgreSQL pool is sized to its workers. A pool smaller than the
workers made every busy worker beyond it open and close a connection (a forked PostgreSQL
backend) per unit of work: at 50 clients intake's CPU per application doubled."""
from __future__ import annotations

import pytest

from services.common.db import make_engine

URL = "postgresql+psycopg2://nobody@127.0.0.1:1/none"  # never connected: the pool is configured lazily


@pytest.mark.parametrize("workers, env, kept, overflow", [
    (10, {}, 13, 5),              # max_workers 10 + relay, timers, health
    (50, {}, 53, 5),
    (None, {}, 5, 5),             # a script or tool without workers
    (10, {"DB_POOL_SIZE": "4", "DB_MAX_OVERFLOW": "2"}, 4, 2),  # the operator's settings win
])
def test_the_pool_keeps_a_connection_for_every_worker(monkeypatch, workers, env, kept, overflow):
    monkeypatch.delenv("DB_POOL_SIZE", raising=False)
    monkeypatch.delenv("DB_MAX_OVERFLOW", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    engine = make_engine(URL, workers)
    try:
        assert engine.pool.size() == kept
        assert engine.pool._max_overflow == overflow
    finally:
        engine.dispose()


def test_a_service_sizes_its_pool_from_its_max_workers():
    from services.common.db import Database

    class Container:
        service_name = "intake"
        max_workers = 7
        config = {"DATABASE_URL": URL}

    db = Database(base=None, relay=False)
    db.container = Container()
    db.setup()
    try:
        assert db.engine.pool.size() == 10
    finally:
        db.engine.dispose()
