"""Idempotent commands (issue 7, ARCHITECTURE "Commands are idempotent too"): the semantics table
of services/common/idempotency.py, on SQLite and on PostgreSQL, with a small service of its own
(no broker: the worker context is what the gateway and the RPC entrypoint would put there)."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import eventlet
import pytest
from sqlalchemy import String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from services.common import idempotency
from services.common.clock import Clock, FrozenClock
from services.common.db import Database, TenantScoped, make_base, new_id
from services.common.errors import Conflict, ValidationFailed
from services.common.idempotency import HEADER, command

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
Base = make_base()


class Thing(TenantScoped, Base):
    __tablename__ = "things"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))


class Things:
    """Commands shaped like the services' (caller's township, one unit of work)."""

    def __init__(self, db):
        self.db = db
        self.gate = None      # an eventlet Event the body waits for (a slow first request)
        self.flaky = 0        # how many more calls fail inside their unit of work

    @command
    def create(self, name):
        with self.db(self.db.worker_ctx.data["township_id"]) as uow:
            thing = Thing(name=name)
            uow.session.add(thing)
            uow.session.flush()
            if self.gate is not None:
                self.gate.wait()
            if self.flaky:
                self.flaky -= 1
                raise RuntimeError("database went away")
            return {"id": thing.id, "name": name, "at": uow.now()}

    @command
    def create_refused(self, name):
        """Like intake's request_material: the record is committed, then the 409 answers."""
        with self.db(self.db.worker_ctx.data["township_id"]) as uow:
            uow.session.add(Thing(name=name))
        raise Conflict(f"{name} recorded but refused", {"name": ["refused"]})


class Harness:
    def __init__(self, url):
        clock = Clock()
        clock.clock = FrozenClock(NOW)
        self.provider = Database(Base, relay=False)
        self.provider.container = SimpleNamespace(config={"DATABASE_URL": url}, service_name="things",
                                                  dependencies=[clock])
        self.provider.setup()
        Base.metadata.create_all(self.provider.engine)

    @property
    def clock(self):
        return self.provider.container.dependencies[0].clock

    def service(self, key=None, body=None, township="t-a", user="clerk-1", request_id=None):
        """A worker for one call: ``key``/``body`` as the gateway would pass them."""
        data = {"township_id": township, "user_id": user, "person_id": user,
                idempotency.CONTEXT_REQUEST_ID: request_id or new_id()}
        if key is not None:
            data[idempotency.CONTEXT_KEY] = key
            data[idempotency.CONTEXT_FINGERPRINT] = idempotency.fingerprint(
                "POST", "/things", b"", (body or "{}").encode())
        ctx = SimpleNamespace(data=data, call_id="things.create." + new_id())
        return Things(self.provider.get_dependency(ctx))

    def count(self, township=None) -> int:
        with self.provider.engine.connect() as conn:
            stmt = select(func.count()).select_from(Thing)
            if township:
                stmt = stmt.where(Thing.township_id == township)
            return conn.execute(stmt).scalar_one()

    def records(self) -> int:
        with self.provider.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(Base.common.idempotency)).scalar_one()


@pytest.fixture(params=["sqlite", "postgresql"])
def harness(request, tmp_path):
    if request.param == "sqlite":
        h = Harness(f"sqlite:///{tmp_path / 'things.db'}")
    else:
        h = Harness(request.getfixturevalue("database")("idem"))
    yield h
    h.provider.engine.dispose()


def test_same_key_same_body_answers_the_first_result_without_a_second_effect(harness):
    first = harness.service("k-1", '{"name": "a"}').create("a")
    again = harness.service("k-1", '{"name": "a"}').create("a")
    assert again == first
    assert harness.count() == 1 and harness.records() == 1


def test_same_key_other_body_is_422_naming_the_header(harness):
    harness.service("k-1", '{"name": "a"}').create("a")
    with pytest.raises(ValidationFailed) as err:
        harness.service("k-1", '{"name": "b"}').create("b")
    assert HEADER in err.value.details
    assert harness.count() == 1


def test_same_key_while_the_first_is_still_running_is_409(harness):
    slow = harness.service("k-1", '{"name": "a"}')
    slow.gate = eventlet.event.Event()
    first = eventlet.spawn(slow.create, "a")
    eventlet.sleep(0.05)  # the first is inside its transaction, waiting at the gate
    with pytest.raises(Conflict) as err:
        harness.service("k-1", '{"name": "a"}').create("a")
    assert HEADER in err.value.details
    slow.gate.send(True)
    result = first.wait()
    # once the first has committed, the retry gets its answer
    assert harness.service("k-1", '{"name": "a"}').create("a") == result
    assert harness.count() == 1


def test_without_a_key_each_request_runs_and_a_redelivered_request_answers_the_stored_result(harness):
    one = harness.service(request_id="rpc-1").create("a")
    two = harness.service(request_id="rpc-2").create("a")
    assert one["id"] != two["id"]
    assert harness.service(request_id="rpc-1").create("a") == one  # the same message again
    assert harness.count() == 2


@pytest.mark.parametrize("other", [{"township": "t-b"}, {"user": "clerk-2"}])
def test_keys_are_scoped_by_township_and_caller(harness, other):
    a = harness.service("k-1", '{"name": "a"}').create("a")
    b = harness.service("k-1", '{"name": "a"}', **other).create("a")
    assert a["id"] != b["id"]
    assert harness.count() == 2


def test_an_error_after_the_commit_is_recorded_and_answered_again(harness):
    for _ in range(2):
        with pytest.raises(Conflict) as err:
            harness.service("k-1").create_refused("a")
        assert err.value.message == "a recorded but refused" and err.value.details == {"name": ["refused"]}
    assert harness.count() == 1


def test_a_failure_inside_the_unit_of_work_records_nothing_and_a_retry_runs(harness):
    svc = harness.service("k-1")
    svc.flaky = 1
    with pytest.raises(RuntimeError):
        svc.create("a")
    assert harness.count() == 0 and harness.records() == 0
    result = harness.service("k-1").create("a")
    assert result["name"] == "a" and harness.count() == 1


def test_old_records_are_purged_in_bounded_batches(harness):
    for n in range(5):
        harness.service(f"k-{n}").create("a")
    harness.clock.move(hours=23)
    harness.service("k-new").create("a")
    harness.clock.move(hours=2)  # the first five are 25 h old, the last 2 h
    table = Base.common.idempotency
    purged = []
    for _ in range(3):
        with harness.provider.unit_of_work() as uow:
            purged.append(idempotency.purge(uow.session, table, uow.now(), retention_hours=24, batch=3))
    assert purged == [3, 2, 0]
    assert harness.records() == 1
    # a purged key is a new request again
    harness.service("k-0").create("a")
    assert harness.count() == 7


@pytest.mark.parametrize("key, ok", [
    ("a", True),
    ("6f1c2a9e-4b7d-4e0a-9a51-0c3f2d8e7b14", True),
    ("x" * 255, True),
    ("key with inner spaces ~!", True),
    ("", False),
    ("x" * 256, False),
    ("ключ", False),
    ("tab\there", False),
    ("nul\x00", False),
    (" padded", False),
])
def test_key_validation(key, ok):
    if ok:
        assert idempotency.check_key(key) == key
    else:
        with pytest.raises(ValidationFailed) as err:
            idempotency.check_key(key)
        assert HEADER in err.value.details


def test_the_fingerprint_is_the_request_not_its_json_layout():
    fp = idempotency.fingerprint
    assert fp("POST", "/a", b"", b'{"x": 1, "y": [1, 2]}') == fp("post", "/a", b"", b'{"y":[1,2],"x":1}')
    assert fp("POST", "/a", b"", b'{"x": 1}') != fp("POST", "/a", b"", b'{"x": 2}')
    assert fp("POST", "/a", b"", b'{"x": 1}') != fp("POST", "/b", b"", b'{"x": 1}')
    assert fp("POST", "/a", b"q=1", b"") != fp("POST", "/a", b"q=2", b"")
    assert fp("POST", "/a", b"", b"not json") != fp("POST", "/a", b"", b"not json!")


def test_a_request_without_the_header_carries_nothing():
    assert idempotency.request_context("POST", {}, "/a", b"", b"{}") == {}
    ctx = idempotency.request_context("POST", {HEADER: "k"}, "/a", b"", b"{}")
    assert ctx[idempotency.CONTEXT_KEY] == "k" and len(ctx[idempotency.CONTEXT_FINGERPRINT]) == 64


def test_a_key_reused_for_another_command_with_another_request_is_422(harness):
    """The fingerprint names the HTTP request, so a key reused on another route is caught even
    when that route calls another command of the same service."""
    harness.service("k-1", '{"name": "a"}').create("a")
    with pytest.raises(ValidationFailed) as err:
        harness.service("k-1", '{"other": "route"}').create_refused("a")
    assert HEADER in err.value.details
    assert harness.count() == 1


def test_one_request_may_call_two_commands_with_its_key(harness):
    """One request may call two commands of a service with one key: each
    command has its own record, and a retry answers both."""
    first = harness.service("k-1", '{"name": "a"}').create("a")
    with pytest.raises(Conflict):
        harness.service("k-1", '{"name": "a"}').create_refused("b")
    assert harness.service("k-1", '{"name": "a"}').create("a") == first
    with pytest.raises(Conflict):
        harness.service("k-1", '{"name": "a"}').create_refused("b")
    assert harness.count() == 2 and harness.records() == 2


def test_a_purge_run_is_bounded_and_a_backlog_goes_over_several_runs(harness):
    for n in range(5):
        harness.service(f"k-{n}").create("a")
    harness.clock.move(hours=25)
    run = lambda: idempotency.purge_expired(harness.provider.unit_of_work, batches=2, batch=2)  # noqa: E731
    assert [run(), run(), run()] == [4, 1, 0]
    assert harness.records() == 0


def test_the_purge_is_a_sweep_on_the_one_sweep_timer(harness):
    """Issue 10: the purge runs as a sweep (``purge_sweep(run)``, ``SweepRun``) from
    ``BaseService.purge_idempotency_keys`` on ``sweep_timer`` (its interval from SWEEP_INTERVAL),
    not a timer of its own; a stopping service stops between batches."""
    from nameko.timer import Timer

    from services.common.service import BaseService
    from services.common.sweep import SweepRun, SweepTimer

    for n in range(5):
        harness.service(f"k-{n}").create("a")
    harness.clock.move(hours=25)
    assert idempotency.purge_expired(harness.provider.unit_of_work, batches=5, batch=2,
                                     stopping=lambda: True) == 2  # one batch, then it stops
    assert idempotency.purge_sweep(SweepRun(harness.provider)) == {"idempotency_purged": 3}
    assert harness.records() == 0
    timers = [ext for ext in getattr(BaseService.purge_idempotency_keys, "nameko_entrypoints", ())
              if isinstance(ext, Timer)]
    assert timers and all(isinstance(t, SweepTimer) for t in timers)


def test_a_redelivered_request_running_beside_the_first_has_no_second_effect(harness):
    """Without a client key there is no 409: should the broker hand the request to a second
    worker while the first still runs (a lost connection), the record is unique and the run
    that commits second is rolled back and answers the first one's result."""
    if harness.provider.engine.dialect.name != "postgresql":
        pytest.skip("one process per SQLite database: a redelivery cannot run beside the first")
    slow = harness.service(request_id="rpc-1")
    slow.gate = eventlet.event.Event()
    first = eventlet.spawn(slow.create, "a")
    eventlet.sleep(0.05)
    second = harness.service(request_id="rpc-1").create("a")  # commits while the first waits
    slow.gate.send(True)
    assert first.wait() == second
    assert harness.count() == 1 and harness.records() == 1


#: RPCs that POST routes call to read (a receipt number and password travel in the body)
READS_BEHIND_POST = {("intake", "query_receipt"), ("cases", "public_timeline")}
#: account RPCs whose answer (a one-time code, a session) or argument (a password) the
#: idempotency table must not keep (issue 8); each is safe to repeat: opening an account again
#: gives a new code (the old one ends), a code activates once, a sign-in counts one more attempt,
#: a password change with the old password fails the second time
SECRETS_NOT_RECORDED = {("staff", "create_account"), ("staff", "create_director_account"),
                        ("staff", "activate_account"), ("staff", "start_session"), ("staff", "change_password")}


def test_every_rpc_a_changing_route_calls_is_an_idempotent_command():
    """A route that creates or changes something must reach only ``@command`` RPCs, or its
    Idempotency-Key (and a redelivered request) would run the change again."""
    import inspect
    import re

    from gateway.openapi import routes
    from gateway.service import GatewayService
    from services.run import service_class

    services = {name: service_class(name) for name in ("staff", "intake", "cases", "complaints", "lending")}
    called, plain = 0, []
    for name, fn, ep in routes(GatewayService):
        if ep.method not in ("POST", "PUT", "PATCH", "DELETE"):
            continue
        for service, method in re.findall(r"self\.(staff|intake|cases|complaints|lending)\.([a-z_]+)\(",
                                          inspect.getsource(fn)):
            called += 1
            if (service, method) not in READS_BEHIND_POST | SECRETS_NOT_RECORDED and \
                    not getattr(getattr(services[service], method, None), "is_command", False):
                plain.append(f"{ep.method} {ep.url} → {service}.{method}")
    assert called > 50
    assert not plain, "not @command: " + "; ".join(plain)
