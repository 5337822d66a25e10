"""Idempotent commands (ARCHITECTURE "Commands are idempotent too"; issue 7).

A command RPC (one that creates or changes something) is declared with ``@command`` instead of
``@rpc``. Its key is

* the client's ``Idempotency-Key`` header, which the gateway checks (printable ASCII, 1–255
  characters) and puts into the call context with a fingerprint of the request (method, path,
  query and body); or, when the client sends none,
* the RPC request's own id (its AMQP correlation id): nameko acknowledges a request only after
  replying, so a service killed after its commit gets the same message again on restart.

Keys are scoped by township, caller and command, so two townships' (or two callers') keys never
collide. The command's first unit of work (``with self.db(township) as uow:``) claims the key
before the body runs and does not commit when the block ends: the command's result (or the
error it raised after the block) is written to ``idempotency_keys`` and committed in that same
transaction, with the effect. So, for one key:

=========================================  =================================================
request                                    answer
=========================================  =================================================
first                                      runs; the result is recorded with the effect
again, same fingerprint, first committed   the first result again (no second effect)
again, other fingerprint                   422 naming ``Idempotency-Key``
again while the first is still running     409 naming ``Idempotency-Key`` (client keys; a
                                           redelivered RPC request waits for the first)
first failed inside its unit of work       nothing was recorded: a retry runs afresh
=========================================  =================================================

Records older than ``IDEMPOTENCY_RETENTION_HOURS`` (default 24) are deleted by a bounded sweep,
``purge_sweep``, which ``BaseService`` runs on the one sweep timer (``services.common.sweep``:
every ``SWEEP_INTERVAL``; at most 10 transactions of 1,000 rows a run, stopping between them
when the service stops).
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
from datetime import timedelta

from kombu.utils.json import dumps as wire_dumps
from kombu.utils.json import loads as wire_loads
from nameko.exceptions import IncorrectSignature, MalformedRequest, deserialize, serialize
from nameko.rpc import Rpc
from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError

from .db import table_insert
from .errors import Conflict, ValidationFailed

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
#: call-context keys (the gateway sets the first two; the RPC entrypoint the third)
CONTEXT_KEY = "idempotency_key"
CONTEXT_FINGERPRINT = "idempotency_fingerprint"
CONTEXT_REQUEST_ID = "rpc_request_id"
DEFAULT_RETENTION_HOURS = 24.0
DEFAULT_PURGE_BATCH = 1000


# -- the header (gateway side) ---------------------------------------------------------------
def check_key(value: str) -> str:
    """The header's value if it is 1–255 printable ASCII characters; 422 naming it otherwise."""
    problem = None
    if not value:
        problem = "must not be empty"
    elif len(value) > MAX_KEY_LENGTH:
        problem = f"at most {MAX_KEY_LENGTH} characters"
    elif any(not (0x20 <= ord(ch) <= 0x7E) for ch in value):
        problem = "printable ASCII characters only"
    elif value != value.strip():
        problem = "no leading or trailing spaces"
    if problem:
        raise ValidationFailed(f"{HEADER}: {problem}", {HEADER: [problem]})
    return value


def fingerprint(method: str, path: str, query: bytes | str, body: bytes) -> str:
    """SHA-256 of the request: method, path, query and body (JSON bodies canonicalised, so a
    retry that orders its keys differently is still the same request)."""
    try:
        canonical = json.dumps(json.loads(body.decode("utf-8") or "null"), sort_keys=True,
                               separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except (UnicodeDecodeError, ValueError, RecursionError):
        canonical = body
    if isinstance(query, str):
        query = query.encode("utf-8")
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode("utf-8"), bytes(query or b""), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def request_context(method: str, headers, path: str, query, body: bytes) -> dict:
    """What the gateway puts into the call context for a command request: nothing without the
    header; the checked key and the request's fingerprint with it."""
    if HEADER not in headers:
        return {}
    key = check_key(headers.get(HEADER, ""))
    return {CONTEXT_KEY: key, CONTEXT_FINGERPRINT: fingerprint(method, path, query, body)}


# -- the entrypoint --------------------------------------------------------------------------
class CommandRpc(Rpc):
    """nameko's RPC entrypoint that also hands the request's correlation id to the worker (the
    key of a command called without ``Idempotency-Key``: a redelivery carries the same id)."""

    def handle_message(self, body, message):
        try:
            args = body["args"]
            kwargs = body["kwargs"]
        except KeyError:
            raise MalformedRequest("Message missing `args` or `kwargs`") from None
        self.check_signature(args, kwargs)
        context_data = self.unpack_message_headers(message)
        context_data[CONTEXT_REQUEST_ID] = message.properties.get("correlation_id")
        handle_result = functools.partial(self.handle_result, message)
        from nameko.exceptions import ContainerBeingKilled

        try:
            self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                        handle_result=handle_result)
        except ContainerBeingKilled:
            self.rpc_consumer.requeue_message(message)

    def check_signature(self, args, kwargs):
        import inspect

        fn = getattr(self.container.service_cls, self.method_name)
        fn = getattr(fn, "__wrapped__", fn)  # the command's own signature, not the wrapper's
        try:
            inspect.getcallargs(fn, None, *args, **kwargs)
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None


class Replayed(BaseException):
    """Raised out of the command's unit of work when the key's result is already recorded
    (a BaseException, so no ``except Exception`` in a command body swallows it)."""

    def __init__(self, outcome: str, response: str):
        super().__init__(outcome)
        self.outcome = outcome
        self.response = response

    def answer(self):
        value = wire_loads(self.response)
        if self.outcome == "error":
            raise deserialize(value)
        return value


def command(fn):
    """``@command`` instead of ``@rpc`` on an RPC that creates or changes something."""

    @functools.wraps(fn)
    def run(self, *args, **kwargs):
        db = self.db
        state = Command.from_worker(db.worker_ctx, fn.__name__, args, kwargs)
        db.command = state
        try:
            try:
                try:
                    result = fn(self, *args, **kwargs)
                except Exception as exc:
                    state.finish("error", serialize(exc))
                    raise
                state.finish("ok", result)
                return result
            except Replayed as replay:  # recorded before, or by a concurrent run that won
                state.replayed = True
                metrics = getattr(self, "metrics", None)
                if hasattr(metrics, "replayed"):
                    metrics.replayed(fn.__name__)
                return replay.answer()
        finally:
            state.close()
            db.command = None

    CommandRpc.decorator(run)
    run.is_command = True
    return run


# -- the record ---------------------------------------------------------------------------
_IN_FLIGHT: set = set()  # claims in progress in this process (SQLite: one process per service)
_IN_FLIGHT_LOCK = threading.Lock()


def _lock_id(scope: tuple) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(scope).encode("utf-8")).digest()[:8], "big", signed=True)


class Command:
    """One command call: its scope, fingerprint and (once opened) its unit of work."""

    def __init__(self, township_id: str, caller: str, method: str, key: str, fingerprint: str,
                 client_key: bool):
        self.township_id = township_id
        self.caller = caller
        self.method = method
        self.key = key
        self.fingerprint = fingerprint
        self.client_key = client_key
        self.uow = None          # the unit of work that carries the record (held open)
        self.on_commit = None    # called after the record's transaction commits
        self.opened = False      # a unit of work was opened for it (only the first is held)
        self.replayed = False
        self._registered = False

    @classmethod
    def from_worker(cls, worker_ctx, method: str, args, kwargs) -> "Command":
        data = worker_ctx.data if worker_ctx is not None else {}
        key = data.get(CONTEXT_KEY)
        if key is not None:
            key = check_key(str(key))
            print_ = data.get(CONTEXT_FINGERPRINT) or args_fingerprint(method, args, kwargs)
            client = True
        else:
            key = "rpc:" + str(data.get(CONTEXT_REQUEST_ID) or (worker_ctx.call_id if worker_ctx else ""))
            print_ = args_fingerprint(method, args, kwargs)
            client = False
        return cls(data.get("township_id") or "", str(data.get("user_id") or data.get("person_id") or ""),
                   method, key, print_, client)

    @property
    def scope(self) -> tuple:
        return (self.township_id, self.caller, self.method, ("key:" if self.client_key else "") + self.key)

    # -- in the unit of work -------------------------------------------------------------
    def claim(self, uow) -> None:
        """First thing in the command's unit of work: wait for or refuse a concurrent run of
        the same key, then replay a recorded result (``Replayed``) or let the body run."""
        session = uow.session
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy import func

            # a client's key: a concurrent request with it answers 409 at once. A redelivered RPC
            # request takes no lock: should it ever run beside the first, the unique record
            # decides in finish() and the loser answers the winner's result
            if self.client_key and not session.execute(
                    select(func.pg_try_advisory_xact_lock(_lock_id(self.scope)))).scalar():
                raise self.in_progress()
        else:
            with _IN_FLIGHT_LOCK:
                if self.scope in _IN_FLIGHT:
                    raise self.in_progress()
                _IN_FLIGHT.add(self.scope)
                self._registered = True
        self.check_recorded(session, uow.common.idempotency)
        self.uow = uow

    def check_recorded(self, session, table) -> None:
        """422 if the key was used here for another request; ``Replayed`` if this command's
        result is recorded; nothing if it is new."""
        township_id, caller, method, key = self.scope
        # every command this key was used for here (one request may call several: POST /townships)
        rows = session.execute(_recorded(table), {"township_id": township_id, "caller": caller, "key": key}).all()
        if any(row.fingerprint != self.fingerprint for row in rows):
            problem = "already used for a different request"
            raise ValidationFailed(f"{HEADER}: {problem}", {HEADER: [problem]})
        for row in rows:
            if row.method == method:
                raise Replayed(row.outcome, row.response)

    def in_progress(self) -> Conflict:
        problem = "a request with this key is still being processed; retry later"
        return Conflict(f"{HEADER}: {problem}", {HEADER: [problem]})

    def finish(self, outcome: str, value) -> None:
        """Record the result with the effect and commit both (only if the unit of work that
        claimed the key ended without error and is still open)."""
        uow, self.uow = self.uow, None
        if uow is None or uow.session is None:
            return
        township_id, caller, method, key = self.scope
        table = uow.common.idempotency
        try:
            uow.session.execute(table_insert(table), dict(
                township_id=township_id, caller=caller, method=method, key=key,
                fingerprint=self.fingerprint, outcome=outcome, response=wire_dumps(value),
                created_at=uow.now(),
            ))
            uow.session.commit()
        except IntegrityError:
            # a concurrent run of the same request committed first: this one's effect is rolled
            # back and it answers what the winner recorded
            uow.session.rollback()
            self.check_recorded(uow.session, table)
            raise
        except BaseException:
            uow.session.rollback()
            raise
        finally:
            uow.session.close()
        if self.on_commit is not None:
            self.on_commit(uow)

    def close(self) -> None:
        """The command is over: roll back what was not recorded (an error inside the body)."""
        uow, self.uow = self.uow, None
        if uow is not None:
            uow.session.rollback()
            uow.session.close()
        if self._registered:
            with _IN_FLIGHT_LOCK:
                _IN_FLIGHT.discard(self.scope)
            self._registered = False


def args_fingerprint(method: str, args, kwargs) -> str:
    body = wire_dumps({"method": method, "args": list(args), "kwargs": kwargs}, sort_keys=True)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# -- retention ------------------------------------------------------------------------------
def retention_hours() -> float:
    import os

    return float(os.environ.get("IDEMPOTENCY_RETENTION_HOURS", DEFAULT_RETENTION_HOURS))


def purge_sweep(run) -> dict[str, int]:
    """The purge as a sweep (``services.common.sweep``: ``run`` is a ``SweepRun``); ``BaseService``
    runs it with ``Sweeper`` on ``sweep_timer``. Rows are deleted, not claimed: two instances
    purging at once delete disjoint or already-gone rows, never a live record."""
    return {"idempotency_purged": purge_expired(run.unit_of_work, stopping=run.stopping)}


def purge_expired(open_unit, batches: int = 10, batch: int = DEFAULT_PURGE_BATCH, stopping=None) -> int:
    """One sweep run: at most ``batches`` transactions of at most ``batch`` rows each, yielding
    between them (a backlog is worked off over several runs, never in one long transaction) and
    stopping between them when ``stopping()`` says the service stops."""
    from . import green

    total = 0
    for _ in range(batches):
        with open_unit() as uow:
            n = purge(uow.session, uow.common.idempotency, uow.now(), retention_hours(), batch)
        total += n
        if n < batch:
            break
        green.sleep(0)
        if stopping is not None and stopping():
            break
    return total


def purge(session, table, now, retention_hours: float = DEFAULT_RETENTION_HOURS,
          batch: int = DEFAULT_PURGE_BATCH) -> int:
    """Delete at most ``batch`` records older than the retention period; how many went."""
    cutoff = now - timedelta(hours=retention_hours)
    ids = session.execute(select(table.c.id).where(table.c.created_at < cutoff)
                          .order_by(table.c.created_at).limit(batch)).scalars().all()
    if ids:
        session.execute(delete(table).where(table.c.id.in_(ids)))
    return len(ids)


# -- the statements, built once per table (issue 9) ----------------------------------------------

@functools.lru_cache(maxsize=None)
def _recorded(table):
    return select(table.c.method, table.c.fingerprint, table.c.outcome, table.c.response).where(
        table.c.township_id == bindparam("township_id"), table.c.caller == bindparam("caller"),
        table.c.key == bindparam("key"))
