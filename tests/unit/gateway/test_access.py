"""The gateway's copy of account versions (gateway/access.py, DOMAIN "Accounts"): which tokens
it lets through, how snapshots and events merge, and that a stale copy refuses everything."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from gateway.access import AccessCache
from services.common.errors import Unauthorized, Unavailable


def cache(max_staleness=4.0) -> AccessCache:
    c = AccessCache()
    c.container = SimpleNamespace(config={"ACCESS_MAX_STALENESS": max_staleness, "ACCESS_REFRESH": 1})
    c.setup()
    c.load({"accounts": [["a1", 3, True], ["off", 2, False], ["key", 1, True]],
            "townships": [["t1", 1, True], ["t-susp", 2, False]]}, time.monotonic())
    return c


def claims(aid="a1", ver=3, tid="t1", tver=1):
    return {"aid": aid, "ver": ver, "tid": tid, "tver": tver}


@pytest.mark.parametrize("token,allowed", [
    (claims(), True),
    (claims(ver=2), False),                   # signed out / rights changed since
    (claims(ver=4), True),                    # issued after the last load
    (claims(aid="off", ver=2), False),        # deactivated
    (claims(aid="off", ver=3), True),         # reactivated later, newer than the copy
    (claims(aid="new", ver=1), True),         # a new account, not in the copy yet
    (claims(tver=0), False),                  # township suspended and reinstated since
    (claims(tid="t-susp", tver=2), False),    # township suspended
    (claims(tid=""), True),                   # an operator: no township
    (claims(ver="3"), False),                 # a version that is not an integer
])
def test_which_tokens_hold(token, allowed):
    c = cache()
    if allowed:
        c.check(token)
    else:
        with pytest.raises(Unauthorized):
            c.check(token)


def test_an_event_refuses_at_once_and_an_older_snapshot_does_not_undo_it():
    c = cache()
    sent = time.monotonic()  # a reload leaves …
    c.apply("account", "a1", 4, True)  # … the sign-out event arrives …
    with pytest.raises(Unauthorized):
        c.check(claims())
    c.load({"accounts": [["a1", 3, True]], "townships": [["t1", 1, True]]}, sent)  # … the older answer lands
    with pytest.raises(Unauthorized):
        c.check(claims())
    c.check(claims(ver=4))


def test_an_older_event_does_not_undo_a_newer_version():
    c = cache()
    c.apply("account", "a1", 5, False)
    c.apply("account", "a1", 4, True)  # delivered late
    with pytest.raises(Unauthorized):
        c.check(claims(ver=4))


def test_a_copy_older_than_its_bound_refuses_every_token():
    c = cache(max_staleness=0.2)
    c.check(claims())
    time.sleep(0.25)
    with pytest.raises(Unavailable):
        c.check(claims())
    assert not c.fresh
    c.load({"accounts": [["a1", 3, True]], "townships": [["t1", 1, True]]}, time.monotonic())
    c.check(claims())


def test_a_check_is_cheap():
    c = cache()
    c.load({"accounts": [[f"a{i}", 1, True] for i in range(50000)], "townships": [["t1", 1, True]]},
           time.monotonic())
    start = time.perf_counter()
    for _ in range(10000):
        c.check(claims(aid="a777", ver=1))
    per_check = (time.perf_counter() - start) / 10000
    assert per_check < 50e-6, per_check  # well under a millisecond, even loaded


def test_an_unchanged_answer_keeps_the_copy_and_its_events_and_renews_it():
    c = cache(max_staleness=0.3)
    c.stamp = "s1"
    c.apply("account", "a1", 4, True)
    time.sleep(0.35)
    assert not c.fresh
    c.load({"stamp": "s1", "unchanged": True}, time.monotonic())
    assert c.fresh and c.accounts["a1"] == (4, True) and c.accounts["off"] == (2, False)
