"""Issue 9: the outbox relay publishes a batch back to back and awaits its publisher confirms
together (one wait per batch, not a round trip per event); the batch commits as sent only
when every event in it was confirmed."""
from __future__ import annotations

import pytest
from amqp.exceptions import MessageNacked

from services.common import outbox
from services.common.outbox import OutboxRelay


class Broker:
    """Delivers the scripted acks/nacks one ``drain_events`` at a time."""

    def __init__(self, relay, script):
        self.relay, self.script = relay, list(script)

    def drain_events(self, timeout=None):
        if not self.script:
            raise TimeoutError("nothing from the broker")
        kind, tag, multiple = self.script.pop(0)
        (self.relay._on_ack if kind == "ack" else self.relay._on_nack)(tag, multiple)


def relay_after(script):
    relay = OutboxRelay.__new__(OutboxRelay)
    relay._confirmed, relay._nacked, relay._tag = set(), False, 0
    relay._conn = Broker(relay, script)
    return relay


@pytest.mark.parametrize("after, last, script, outcome", [
    (0, 3, [("ack", 3, True)], None),                                  # one ack covers the batch
    (0, 3, [("ack", 1, False), ("ack", 3, False), ("ack", 2, False)], None),  # single acks, any order
    (5, 8, [("ack", 4, True), ("ack", 8, True)], None),                # an earlier batch's ack is not this one's
    (0, 3, [("ack", 2, True)], TimeoutError),                          # the third never confirmed
    (0, 3, [("ack", 1, False), ("nack", 2, False), ("ack", 3, True)], MessageNacked),
])
def test_a_batch_is_sent_only_when_every_event_in_it_is_confirmed(monkeypatch, after, last, script, outcome):
    monkeypatch.setattr(outbox, "CONFIRM_TIMEOUT", 5.0)
    relay = relay_after(script)
    if outcome is None:
        relay._await_confirms(after, last)
    else:
        with pytest.raises(outcome):
            relay._await_confirms(after, last)


class CountingRelay(OutboxRelay):
    """The relay's loop over a scripted outbox: ``commit(n)`` adds n committed rows and wakes
    it, as ``Database`` does after a commit; every claim is recorded with what it took."""

    def __init__(self, linger):
        self.interval, self.linger = 5.0, linger
        self._wake, self._running, self.failures = outbox.Event(), True, 0
        self.pending, self.claims = 0, []

    def publish_pending(self):
        taken = min(self.pending, outbox.BATCH)
        self.pending -= taken
        self.claims.append(taken)
        return taken

    def commit(self, n=1):
        self.pending += n
        self.wake()


def run_loop(relay, script):
    import eventlet

    loop = eventlet.spawn(relay._loop)
    eventlet.sleep(0.01)  # its first pass finds the outbox empty
    for gap, n in script:
        eventlet.sleep(gap)
        relay.commit(n)
    eventlet.sleep(0.1)
    loop.kill()
    return relay.claims


def test_commits_close_together_go_out_in_one_batch_and_a_partial_batch_is_not_claimed_again():
    """Issue 9: a woken relay lingers (OUTBOX_LINGER) so that the commits of concurrent workers
    share one claim and one round of confirms, and after a batch smaller than BATCH it waits
    for the next commit instead of claiming an empty outbox."""
    claims = run_loop(CountingRelay(linger=0.02), [(0, 1), (0.002, 1), (0.002, 1)])
    assert claims == [0, 3]


def test_without_lingering_each_commit_is_claimed_at_once_and_a_full_batch_is_followed_up():
    claims = run_loop(CountingRelay(linger=0), [(0, 1), (0.03, outbox.BATCH + 2)])
    assert claims == [0, 1, outbox.BATCH, 2]
