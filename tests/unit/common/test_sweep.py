"""The one sweep timer of every service (services/common/sweep.py; issue 10): its interval from
the configuration, bounded chunks that yield and stop when the service stops, each item in its
own unit of work of its township, errors counted without ending the pass."""
from __future__ import annotations

from contextlib import contextmanager

import pytest

from services.common import config as cfg
from services.common import sweep as sweeps
from services.common.sweep import SweepRun, interval_of


@pytest.mark.parametrize("service, config, env, expected", [
    ("cases", {"SWEEP_INTERVAL": 0.05}, {"SWEEP_INTERVAL": "9"}, 0.05),   # the container's config wins
    ("cases", {}, {"CASES_SWEEP_INTERVAL": "5", "SWEEP_INTERVAL": "9"}, 5.0),  # then the service's own
    ("cases", {}, {"SWEEP_INTERVAL": "9"}, 9.0),                           # then everybody's
    ("cases", {}, {}, 30.0),                                               # then the default
    ("staff", {}, {}, 600.0),                                              # staff's default
    ("staff", {}, {"STAFF_SWEEP_INTERVAL": "60"}, 60.0),
])
def test_the_interval_comes_from_the_configuration(monkeypatch, service, config, env, expected):
    for name in ("SWEEP_INTERVAL", "CASES_SWEEP_INTERVAL", "STAFF_SWEEP_INTERVAL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert interval_of(config, service) == expected
    assert interval_of(cfg.service_config(service, **config), service) == expected


@pytest.mark.parametrize("value", [0, -1, "0"])
def test_a_sweep_interval_that_is_not_positive_is_refused_at_start(value):
    with pytest.raises(ValueError, match="SWEEP_INTERVAL"):
        interval_of({"SWEEP_INTERVAL": value}, "cases")


@pytest.mark.parametrize("kwargs, config, expected", [
    ({}, {"SWEEP_INTERVAL": 7}, 7.0),
    ({"setting": "RECOMPUTE_INTERVAL", "default": 0.25}, {"SWEEP_INTERVAL": 7}, 0.25),
    ({"setting": "RECOMPUTE_INTERVAL", "default": 0.25}, {"RECOMPUTE_INTERVAL": "2"}, 2.0),
])
def test_the_one_timer_takes_its_interval_from_the_named_setting(kwargs, config, expected):
    """Every periodic entrypoint is a ``SweepTimer`` (cases' recompute poll too, with its own
    setting); the idempotency purge rides on the plain one (issue 10)."""
    from types import SimpleNamespace

    timer = sweeps.SweepTimer(**kwargs)
    timer.container = SimpleNamespace(config=config, service_name="cases")
    timer.setup()
    assert timer.interval == expected
    with pytest.raises(ValueError, match="RECOMPUTE_INTERVAL"):
        bad = sweeps.SweepTimer(setting="RECOMPUTE_INTERVAL", default=0.25)
        bad.container = SimpleNamespace(config={"RECOMPUTE_INTERVAL": 0}, service_name="cases")
        bad.setup()


@pytest.mark.parametrize("service", ["staff", "intake", "cases", "complaints", "lending", "notices"])
def test_every_timer_of_every_service_is_the_sweep_timer(service):
    import importlib

    from nameko.timer import Timer

    cls = importlib.import_module(f"services.{service}.service").SERVICE
    timers = [(name, ext) for name in dir(cls) for ext in getattr(getattr(cls, name), "nameko_entrypoints", ())
              if isinstance(ext, Timer)]
    assert "purge_idempotency_keys" in {name for name, _ in timers}
    assert [name for name, ext in timers if not isinstance(ext, sweeps.SweepTimer)] == []


class FakeDb:
    """``unit_of_work`` like the service's Database: records each unit's township and outcome."""

    def __init__(self):
        self.units: list[tuple[str | None, str]] = []

    @contextmanager
    def unit_of_work(self, township_id=None, clock=None):
        unit = type("Unit", (), {"township_id": township_id})()
        try:
            yield unit
        except BaseException:
            self.units.append((township_id, "rolled back"))
            raise
        self.units.append((township_id, "committed"))


@pytest.fixture
def yields(monkeypatch):
    seen = []
    monkeypatch.setattr(sweeps.green, "sleep", lambda s: seen.append(s))
    return seen


@pytest.mark.parametrize("items, chunk, expected_yields", [
    (0, 50, 0), (50, 50, 0), (51, 50, 1), (120, 50, 2), (7, 1, 6),
])
def test_work_is_done_in_bounded_chunks_that_yield(yields, items, chunk, expected_yields):
    db = FakeDb()
    run = SweepRun(db, chunk=chunk)
    done = run.each("kind", [("t1", i) for i in range(items)], lambda uow, i: True)
    assert done == items and len(yields) == expected_yields
    assert db.units == [("t1", "committed")] * items


def test_each_item_runs_in_a_unit_of_its_own_township_and_acts_are_summed(yields):
    db = FakeDb()
    seen = []

    def act(uow, item):
        seen.append((uow.township_id, item))
        return {"a": True, "b": False, "c": 3}[item]  # done, not done (lost the claim), 3 moved
    assert SweepRun(db).each("kind", [("t1", "a"), ("t2", "b"), ("t1", "c")], act) == 4
    assert seen == [("t1", "a"), ("t2", "b"), ("t1", "c")]


def test_a_failing_item_is_rolled_back_counted_and_the_rest_goes_on(yields, caplog):
    db = FakeDb()
    counted = []

    def act(uow, item):
        if item % 3 == 0:
            raise RuntimeError("boom")
        return True
    run = SweepRun(db, on_error=lambda kind, error: counted.append((kind, error)))
    assert run.each("overdue", [("t1", i) for i in range(7)], act) == 4
    assert counted == [("overdue", "RuntimeError")] * 3 and run.errors == {"overdue": 3}
    assert [outcome for _, outcome in db.units].count("rolled back") == 3
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1  # a traceback for the first failure only, one line for the others


def test_an_item_another_instance_took_first_is_skipped_not_counted(yields):
    class Taken(Exception):
        pass

    def act(uow, item):
        if item == 1:
            raise Taken()
        return True
    run = SweepRun(FakeDb(), on_error=lambda *a: pytest.fail("counted as an error"))
    assert run.each("close", [("t1", i) for i in range(3)], act, lost=(Taken,)) == 2
    assert run.errors == {}


def test_a_stopping_service_ends_the_pass_between_chunks(yields, caplog):
    stop = []
    run = SweepRun(FakeDb(), chunk=10, stopping=lambda: bool(stop))

    def act(uow, item):
        if item == 14:
            stop.append(True)  # the container is asked to stop in the middle of the 2nd chunk
        return True
    assert run.each("kind", [("t1", i) for i in range(100)], act) == 20  # 2nd chunk finished
    assert not [r for r in caplog.records if r.exc_info]


# -- each_batch: a chunk of one township in one unit of work (issue 9) ---------------------------

@pytest.mark.parametrize("items, size, chunks", [
    ([("t1", i) for i in range(10)], 4, [("t1", [0, 1, 2, 3]), ("t1", [4, 5, 6, 7]), ("t1", [8, 9])]),
    ([("t1", 0), ("t2", 1), ("t1", 2), ("t2", 3), ("t3", 4)], 500,  # grouped by township, first seen first
     [("t1", [0, 2]), ("t2", [1, 3]), ("t3", [4])]),
    ([("t1", 0), ("t2", 1), ("t1", 2)], 1, [("t1", [0]), ("t1", [2]), ("t2", [1])]),
    ([], 4, []),
])
def test_a_batch_is_one_unit_of_work_of_one_township(yields, items, size, chunks):
    db, seen = FakeDb(), []

    def act_many(uow, batch):
        seen.append((uow.township_id, batch))
        return len(batch) - 1  # all but one done here (another instance took one)
    assert SweepRun(db, batch=size).each_batch("kind", items, act_many) == len(items) - len(chunks)
    assert seen == chunks
    assert db.units == [(tid, "committed") for tid, _ in chunks]
    assert len(yields) == max(0, len(chunks) - 1)  # a yield between two chunks


def test_the_run_s_batch_is_the_size_of_a_chunk(yields):
    seen = []
    SweepRun(FakeDb(), batch=3).each_batch("kind", [("t1", i) for i in range(7)], lambda uow, b: seen.append(b))
    assert seen == [[0, 1, 2], [3, 4, 5], [6]]


def test_a_failing_batch_is_redone_item_by_item_and_only_the_bad_item_counts(yields, caplog):
    db, counted = FakeDb(), []

    def act_many(uow, batch):
        if 13 in batch:
            raise RuntimeError("a bad row")
        return len(batch)
    run = SweepRun(db, on_error=lambda kind, error: counted.append((kind, error)), batch=5)
    assert run.each_batch("overdue", [("t1", i) for i in range(20)], act_many) == 19
    assert counted == [("overdue", "RuntimeError")] and run.errors == {"overdue": 1}
    # chunks 0-4, 5-9 committed; 10-14 rolled back, then 10..14 one by one (13 rolled back); 15-19
    assert db.units == ([("t1", "committed")] * 2 + [("t1", "rolled back")] + [("t1", "committed")] * 3
                        + [("t1", "rolled back"), ("t1", "committed"), ("t1", "committed")])
    assert len([r for r in caplog.records if r.exc_info]) == 1


def test_in_a_redone_batch_an_item_another_instance_took_is_skipped_not_counted(yields):
    class Taken(Exception):
        pass

    def act_many(uow, batch):
        if 2 in batch:
            raise Taken()
        return len(batch)
    run = SweepRun(FakeDb(), on_error=lambda *a: pytest.fail("counted as an error"), batch=4)
    assert run.each_batch("close", [("t1", i) for i in range(6)], act_many, lost=(Taken,)) == 5
    assert run.errors == {}


def test_a_stopping_service_ends_a_batched_pass_between_chunks(yields):
    stop, seen = [], []
    run = SweepRun(FakeDb(), stopping=lambda: bool(stop), batch=10)

    def act_many(uow, batch):
        seen.append(batch[0])
        if 10 in batch:
            stop.append(True)  # asked to stop during the 2nd chunk: it finishes, no 3rd begins
        return len(batch)
    assert run.each_batch("kind", [("t1", i) for i in range(100)], act_many) == 20
    assert seen == [0, 10]
