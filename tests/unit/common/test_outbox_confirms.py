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
