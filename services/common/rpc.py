"""RPC with a bounded wait: nameko 2.14's proxies wait forever for a reply, so a call to a
service that is down (its queue still on the broker) would hold the caller's worker."""
from __future__ import annotations

import eventlet


def call(method, *args, timeout: float, **kwargs):
    """``call(self.staff.organisation_snapshot, township_id, timeout=5)``; raises
    ``TimeoutError`` when no reply comes in time, and the remote error otherwise."""
    try:
        with eventlet.Timeout(timeout):
            return method.call_async(*args, **kwargs).result()
    except eventlet.Timeout:
        raise TimeoutError(f"no reply within {timeout:g}s") from None
