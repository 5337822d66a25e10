"""Database: one per service, SQLAlchemy 2.x, a unit of work per worker.

* ``make_base()`` gives a service its own declarative base, with the tables every service
  has (outbox, processed events, calendar copy) already on its metadata.
* ``TenantScoped`` rows carry ``township_id``; a session bound to a township sees only that
  township's rows (``with_loader_criteria`` on every ORM select) and refuses to write rows of
  another township. Forgetting the filter is therefore hard: the session adds it.
* ``Database`` is the nameko dependency: ``with self.db(township_id) as uow:`` opens a unit
  of work that commits on success and rolls back on error, and wakes the outbox relay after a
  commit that wrote events.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
import weakref
from contextlib import contextmanager
from datetime import date, datetime, timezone
from functools import lru_cache

from nameko.extensions import DependencyProvider
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    exc,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.orm.util import identity_key
from sqlalchemy.types import TypeDecorator

from .errors import NotFound

log = logging.getLogger(__name__)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NATIONAL = "*"  # calendar scope of the State Council schedule (all townships)


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator):
    """Timestamps are stored in UTC and always come back timezone-aware (SQLite too)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is stored")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class CommonTables:
    """Tables every service has, defined on the service's own metadata."""

    def __init__(self, metadata: MetaData):
        self.outbox = Table(
            "outbox",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("event_id", String(32), nullable=False, unique=True),
            Column("event_type", String(100), nullable=False),
            Column("township_id", String(32), nullable=False),
            Column("payload", JSON, nullable=False),
            Column("call_id", String(200)),
            Column("created_at", UTCDateTime, nullable=False),
            Column("sent_at", UTCDateTime, index=True),
            Column("attempts", Integer, nullable=False, default=0),
            Column("last_error", Text),
        )
        self.processed = Table(
            "processed_events",
            metadata,
            Column("handler", String(200), primary_key=True),
            Column("event_id", String(32), primary_key=True),
            Column("township_id", String(32), nullable=False),
            Column("processed_at", UTCDateTime, nullable=False),
        )
        self.calendar_days = Table(
            "calendar_days",
            metadata,
            Column("scope", String(32), primary_key=True),  # township id or NATIONAL
            Column("day", Date, primary_key=True),
            Column("working", Boolean, nullable=False),
            Column("note", String(200)),
        )
        self.settings = Table(
            "settings",
            metadata,
            Column("township_id", String(32), primary_key=True),
            Column("key", String(100), primary_key=True),
            Column("value", JSON, nullable=False),
            Column("updated_at", UTCDateTime, nullable=False),
        )
        # idempotent commands (services/common/idempotency.py): one row per key and scope
        self.idempotency = Table(
            "idempotency_keys",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("township_id", String(32), nullable=False),
            Column("caller", String(200), nullable=False),
            Column("method", String(100), nullable=False),
            Column("key", String(300), nullable=False),
            Column("fingerprint", String(64), nullable=False),
            Column("outcome", String(10), nullable=False),  # ok | error
            Column("response", Text, nullable=False),  # as it went over the wire (kombu JSON)
            Column("created_at", UTCDateTime, nullable=False, index=True),
            UniqueConstraint("township_id", "caller", "method", "key", name="uq_idempotency_keys_scope"),
        )
        self.calendar_years = Table(
            "calendar_years",
            metadata,
            Column("scope", String(32), primary_key=True),
            Column("year", Integer, primary_key=True),
            Column("loaded_at", UTCDateTime, nullable=False),
        )


def make_base():
    """A declarative base of a service's own, with the common tables on its metadata."""

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING)
        type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON, date: Date}

    Base.common = CommonTables(Base.metadata)
    return Base


class TenantScoped:
    """Mixin: a row that belongs to one township."""

    township_id: Mapped[str] = mapped_column(String(32), index=True, nullable=False)


@event.listens_for(Session, "do_orm_execute")
def _scope_to_township(state: ORMExecuteState) -> None:
    township_id = state.session.info.get("township_id")
    if (
        township_id
        and state.is_select
        and not state.is_column_load
        and not state.is_relationship_load
    ):
        state.statement = _scoped(state.statement, township_id)


_SCOPED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _scoped(statement, township_id: str):
    """``statement`` limited to one township, made once per statement and township: a statement
    built once (a module's constant) then keeps its compiled form's cache key instead of having
    it computed anew at every execution (issue 9). A statement built per call is dropped with it."""
    by_township = _SCOPED.get(statement)
    if by_township is None:
        by_township = _SCOPED[statement] = {}
    scoped = by_township.get(township_id)
    if scoped is None:
        if len(by_township) >= 4096:  # bounded however many townships one process serves
            by_township.clear()
        scoped = by_township[township_id] = statement.options(_township_criteria(township_id))
    return scoped


@lru_cache(maxsize=4096)
def _township_criteria(township_id: str):
    """The loader criteria limiting every ORM read to one township, built once per township
    (building one analyses its lambda: 7 % of a submission's CPU when built per statement)."""
    return with_loader_criteria(TenantScoped, lambda cls: cls.township_id == township_id, include_aliases=True)


@event.listens_for(Session, "before_flush")
def _stamp_township(session: Session, flush_context, instances) -> None:
    township_id = session.info.get("township_id")
    if not township_id:
        return
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, TenantScoped):
            if obj.township_id is None:
                obj.township_id = township_id
            elif obj.township_id != township_id:
                raise PermissionError("refusing to write a row of another township")


def make_engine(url: str, workers: int | None = None) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=True
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # Pool per process, sized to the workers (issue 9): ``workers`` (the service's max_workers)
    # plus 3 for its outbox relay, timers and health check are kept open once used
    # (DB_POOL_SIZE overrides), and DB_MAX_OVERFLOW (default 5) more may open under a burst
    # (closed when returned). A pool smaller than the workers made every busy worker beyond it
    # open and close a connection per unit of work — a PostgreSQL backend forked each time:
    # intake's CPU per application doubled at 50 clients and throughput fell to a fifth.
    # Connections open only as the work needs them: an idle service holds one or two.
    pool_size = int(os.environ.get("DB_POOL_SIZE") or ((workers + 3) if workers else 5))
    engine = create_engine(url, pool_size=pool_size, max_overflow=int(os.environ.get("DB_MAX_OVERFLOW", "5")))
    _ping_when_idle(engine, float(os.environ.get("DB_PING_AFTER_IDLE", "10")))
    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling, cheaply: ``pool_pre_ping`` cost a round trip to the
    database at every unit of work (7 % of intake's time under load, issue 9). A connection
    is pinged at checkout only when it sat idle in the pool longer than ``idle_seconds`` (a
    database restart or a firewall's idle cut shows there); a dead one is replaced
    (``DisconnectionError`` makes the pool retry with a fresh connection). A connection that
    breaks while busy fails that one unit of work, and SQLAlchemy then invalidates the pool."""

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, proxy):
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= idle_seconds:
            return
        try:
            cur = dbapi_conn.cursor()
            cur.execute("SELECT 1")
            cur.close()
        except Exception as error:
            raise exc.DisconnectionError(f"pooled connection dead after idling: {error}") from error


_open_units = threading.local()  # green-thread local once eventlet has patched threading


def in_unit_of_work() -> bool:
    """Whether this (green) thread has a ``Database`` unit of work open: a remote call made now
    would hold its transaction, locks and connection while it waits (services/common/staffdir)."""
    return getattr(_open_units, "depth", 0) > 0


_PG_OUTBOX = text(
    "INSERT INTO outbox (event_id, event_type, township_id, payload, call_id, created_at, attempts)"
    " SELECT v.event_id, :event_type, :township_id, CAST(v.payload AS json), :call_id, :created_at, 0"
    " FROM unnest(CAST(:event_ids AS varchar[]), CAST(:payloads AS text[])) AS v(event_id, payload)"
).bindparams(bindparam("created_at", type_=UTCDateTime()))


def _get(session: Session, model, ident):
    """``session.get(model, ident)``, with the SELECT of a row not yet in the session built once
    per model: ``Session.get`` builds one per call, and the township's criteria with it, which
    made each read of a copy row 0.4 ms of CPU (issue 9)."""
    by_id = _by_id(model)
    if by_id is None or identity_key(model, ident) in session.identity_map:
        return session.get(model, ident)  # from the identity map (or a composite key)
    return session.scalars(by_id, {"ident": ident}).first()


@lru_cache(maxsize=None)
def _by_id(model):
    keys = model.__mapper__.primary_key
    return select(model).where(keys[0] == bindparam("ident")) if len(keys) == 1 else None


class UnitOfWork:
    """One transaction: the session, the events it will publish, idempotency records."""

    def __init__(self, session: Session, common: CommonTables, source: str, township_id, clock, call_id=None):
        self.session = session
        self.common = common
        self.source = source
        self.township_id = township_id
        self.clock = clock
        self.call_id = call_id
        self.emitted: list[dict] = []
        session.info["township_id"] = township_id

    # -- reading, scoped -------------------------------------------------
    def find(self, model, ident):
        """A row of this township by id, or None (another township's row is None too)."""
        if not ident:
            return None
        obj = _get(self.session, model, ident)
        if obj is None or (
            isinstance(obj, TenantScoped) and self.township_id and obj.township_id != self.township_id
        ):
            return None
        return obj

    def get(self, model, ident, what: str | None = None):
        """A row of this township by id, or NotFound (another township's answers the same)."""
        obj = self.find(model, ident)
        if obj is None:
            raise NotFound(f"{what or model.__name__} {ident} not found")
        return obj

    def scalars(self, stmt):
        return self.session.scalars(stmt)

    def now(self) -> datetime:
        return self.clock.now()

    # -- events ----------------------------------------------------------
    def emit(self, event_type: str, township_id: str | None = None, **payload) -> dict:
        """Write an event to the outbox, in this transaction (published after commit)."""
        from . import events  # late: events imports marshmallow schemas of every service

        now = self.clock.now()
        body = events.build(event_type, township_id or self.township_id, now, **payload)
        self.session.execute(table_insert(self.common.outbox), self._outbox_row(body, now))
        self.emitted.append(body)
        return body

    def _outbox_row(self, body: dict, now: datetime) -> dict:
        return dict(event_id=body["event_id"], event_type=body["event_type"], township_id=body["township_id"],
                    payload=body, call_id=self.call_id, created_at=now, attempts=0)

    def emit_many(self, event_type: str, payloads: list[dict], township_id: str | None = None) -> list[dict]:
        """Like ``emit`` for many events of one type, in one multi-row INSERT (bulk work such
        as recomputing a township's deadlines)."""
        from . import events

        return self.emit_built(event_type, events.build_many(
            event_type, township_id or self.township_id, self.clock.now(), payloads))

    def emit_built(self, event_type: str, bodies: list[dict]) -> list[dict]:
        """Write to the outbox, in this transaction, events of one type and one township that
        ``events.build_many`` built (bulk work builds them in another green thread while this
        one waits for the database)."""
        if not bodies:
            return bodies
        now = self.clock.now()
        townships = {b["township_id"] for b in bodies}
        if len(townships) != 1 or any(b["event_type"] != event_type for b in bodies):
            raise ValueError("emit_built writes events of one type and one township")
        if self.session.get_bind().dialect.name == "postgresql":
            # the rows as two arrays: one statement compiled once, unpacked by the server (the
            # generic multi-row INSERT costs ~0.1 ms a row in Python)
            self.session.execute(_PG_OUTBOX, {
                "event_ids": pg_array([b["event_id"] for b in bodies]),
                "payloads": pg_array([json.dumps(b) for b in bodies]),
                "event_type": event_type, "township_id": townships.pop(), "call_id": self.call_id,
                "created_at": now})
        else:
            self.session.execute(table_insert(self.common.outbox), [self._outbox_row(b, now) for b in bodies])
        self.emitted.extend(bodies)
        return bodies

    # -- idempotency -----------------------------------------------------
    def first_time(self, event: dict, handler: str) -> bool:
        """Record that ``handler`` processes ``event``; False if it already did.

        The record is written in this transaction, together with the effect: if the effect
        rolls back, so does the record, and a concurrent duplicate fails on the key.
        """
        processed = self.common.processed
        values = dict(handler=handler, event_id=event["event_id"], township_id=event["township_id"],
                      processed_at=self.clock.now())
        dialect = self.session.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
            # a concurrent duplicate waits for the first one's transaction, then inserts nothing
            # (or, if the first rolled back, inserts): no error, no retry
            result = self.session.execute(_insert_unless_present(processed, dialect), values)
            return result.rowcount == 1
        seen = self.session.execute(
            select(processed.c.event_id).where(
                processed.c.handler == handler, processed.c.event_id == event["event_id"]
            )
        ).first()
        if seen:
            return False
        self.session.execute(table_insert(processed), values)
        return True


# -- statements built once per table (issue 9: building and keying a statement for every call
# cost more of a request's CPU than running it; the values are bound at execution) ----------

@lru_cache(maxsize=None)
def table_insert(table: Table):
    """``table.insert()``, built once per table; the row's values are bound at execution."""
    return table.insert()


def pg_array(values) -> str:
    """A PostgreSQL array literal of texts (None: NULL), every element quoted and escaped: one
    string to send (psycopg2 adapts a list element by element, ~3 µs each, 8 µs a date)."""
    return "{" + ",".join("NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for v in values) + "}"


@lru_cache(maxsize=None)
def _insert_unless_present(table: Table, dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


class Database(DependencyProvider):
    """The service's database; runs the outbox relay beside it."""

    def __init__(self, base, relay: bool = True):
        self.base = base
        self.with_relay = relay
        self.relay = None

    def setup(self):
        from .outbox import OutboxRelay

        self.engine = make_engine(self.container.config["DATABASE_URL"], getattr(self.container, "max_workers", None))
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        if self.with_relay:
            self.relay = OutboxRelay(self)

    def start(self):
        if self.relay:
            self.relay.start()

    def stop(self):
        if self.relay:
            self.relay.stop()
        self.engine.dispose()

    def kill(self):
        self.stop()

    @property
    def clock(self):
        from .clock import container_clock

        return container_clock(self.container)

    @contextmanager
    def unit_of_work(self, township_id=None, clock=None, call_id=None, command=None):
        """A transaction. Inside a ``@command`` (services/common/idempotency.py) the command's
        first unit of work claims its key before the block runs and is left open at the end of
        the block: the command records its result and commits both together."""
        session = self.sessionmaker()
        uow = UnitOfWork(
            session, self.base.common, self.container.service_name, township_id,
            clock or self.clock, call_id,
        )
        held = command is not None and not command.opened
        try:
            if held:
                command.opened = True
                command.claim(uow)  # may answer a recorded result instead (Replayed)
            _open_units.depth = getattr(_open_units, "depth", 0) + 1
            try:
                yield uow
            finally:
                _open_units.depth -= 1
            if held:
                session.flush()
                command.on_commit = self._committed
                return  # command.finish() records the result and commits
            session.commit()
        except BaseException:
            if held:
                command.uow = None
            session.rollback()
            session.close()
            raise
        session.close()
        self._committed(uow)

    def health(self) -> dict:
        """``{"database": "ok" | "unreachable: …", "outbox_backlog": n}`` for ``/health``."""
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
            checks = {"database": "ok"}
            if self.relay is not None:
                checks["outbox_backlog"] = self.relay.backlog()
            return checks
        except Exception as exc:
            return {"database": f"unreachable: {type(exc).__name__}"}

    def _committed(self, uow):
        if uow.emitted and self.relay:
            self.relay.wake()

    def get_dependency(self, worker_ctx):
        """``self.db(township_id)`` opens a unit of work (a context manager)."""
        provider = self

        def open_unit(township_id=None):
            return provider.unit_of_work(township_id, call_id=worker_ctx.call_id,
                                         command=open_unit.command)

        def aside(township_id=None):
            """A unit of work that is not the command's (reads and copy refreshes before it)."""
            return provider.unit_of_work(township_id, call_id=worker_ctx.call_id)

        open_unit.aside = aside
        open_unit.health = self.health
        open_unit.engine = self.engine
        open_unit.worker_ctx = worker_ctx
        open_unit.command = None  # set by @command for the worker's command call
        return open_unit


def claim(session: Session, model, ident, expected: dict, updates: dict) -> bool:
    """Atomic conditional update: ``UPDATE … SET updates WHERE id=ident AND expected``.

    True if this caller won the row. Timers that may run in several instances at once claim
    each piece of work this way, so its effect happens exactly once (ARCHITECTURE "Timers").
    """
    from sqlalchemy import update

    stmt = update(model).where(model.id == ident)
    for column, value in expected.items():
        col = getattr(model, column)
        stmt = stmt.where(col.is_(None) if value is None else col == value)
    result = session.execute(stmt.values(**updates).execution_options(synchronize_session=False))
    return result.rowcount == 1
