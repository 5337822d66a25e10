"""The gateway's circuit breaker and bulkhead (gateway/resilience.py; issue 7 "Bulkheads and
breakers"), with a clock the test moves."""
from __future__ import annotations

import pytest

from gateway.resilience import CLOSED, HALF_OPEN, OPEN, Breaker, Bulkhead, ServiceRpc
from services.common.errors import ServiceUnavailable


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def breaker(failures=3, reset=5.0):
    clock = Clock()
    return Breaker(failures, reset, now=clock), clock


# (steps, expected state after them): f = a failure, s = a success, w = reset time passes,
# a = a call asks to go (allow)
@pytest.mark.parametrize("steps, state", [
    ("", CLOSED),
    ("ff", CLOSED),                  # below the threshold
    ("fff", OPEN),                   # three in a row open it
    ("ffsff", CLOSED),               # a success in between starts the count again
    ("fffw", HALF_OPEN),             # after the reset time it lets one trial through
    ("fffwas", CLOSED),              # the trial answered: closed
    ("fffwaf", OPEN),                # the trial failed: open again, for another reset time
    ("fffwafw", HALF_OPEN),
])
def test_breaker_states(steps, state):
    b, clock = breaker()
    for step in steps:
        if step == "f":
            b.failure()
        elif step == "s":
            b.success()
        elif step == "w":
            clock.t += 5.0
        elif step == "a":
            assert b.allow()
    assert b.current() == state


def test_open_breaker_refuses_and_says_when_to_retry():
    b, clock = breaker(failures=1, reset=5.0)
    b.failure()
    assert not b.allow()
    clock.t += 2
    assert b.retry_in() == pytest.approx(3.0)
    assert not b.allow()


def test_half_open_lets_one_trial_through_at_a_time():
    b, clock = breaker(failures=1, reset=1.0)
    b.failure()
    clock.t += 1
    assert b.allow()            # the trial
    assert not b.allow()        # another caller meanwhile: refused
    b.release()                 # the trial ended without an answer either way
    assert b.allow()


def test_bulkhead_refuses_beyond_its_limit_and_frees_slots():
    bulk = Bulkhead(2)
    assert bulk.enter() and bulk.enter()
    assert not bulk.enter()
    bulk.leave()
    assert bulk.enter()


def guarded(failures=2, limit=1):
    """A ServiceRpc's guard without a container (no metrics, no probe)."""
    rpc = ServiceRpc("intake")
    rpc.breaker = Breaker(failures, 5.0, now=Clock())
    rpc.bulkhead = Bulkhead(limit)
    rpc.container = type("C", (), {"dependencies": ()})()
    return rpc


def test_guard_opens_on_failures_and_then_fails_fast_naming_the_service():
    rpc = guarded(failures=2)
    calls = []

    def dead():
        calls.append(1)
        raise ServiceUnavailable.of("intake", "no reply within 1.0s", failure=True)

    for _ in range(2):
        with pytest.raises(ServiceUnavailable):
            rpc.call("intake", dead)
    with pytest.raises(ServiceUnavailable) as exc:
        rpc.call("intake", dead)
    assert len(calls) == 2  # the third never went out
    assert exc.value.service == "intake" and "circuit open" in exc.value.message
    assert exc.value.retry_after == 5


def test_guard_counts_an_answer_as_success_even_when_it_is_an_error():
    from services.common.errors import NotFound

    rpc = guarded(failures=1)

    def answers():
        raise NotFound("no such case")

    for _ in range(3):
        with pytest.raises(NotFound):
            rpc.call("intake", answers)
    assert rpc.breaker.current() == CLOSED


def test_guard_bulkhead_full_refuses_at_once_and_a_slot_frees_after_the_call():
    rpc = guarded(limit=1)
    inside = []

    def nested_call():
        inside.append(1)
        with pytest.raises(ServiceUnavailable) as exc:  # a second call while the first holds the slot
            rpc.call("intake", lambda: "never")
        assert "bulkhead" in exc.value.message
        return "first"

    assert rpc.call("intake", nested_call) == "first"
    assert rpc.call("intake", lambda: "again") == "again"
    assert rpc.bulkhead.in_flight == 0
