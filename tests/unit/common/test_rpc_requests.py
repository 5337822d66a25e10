"""A bounded RPC request (services/common/rpc.py) expires on the broker when its caller gives up
and is not written to the broker's disk: a persistent request waited for the broker's fsync
before its confirm, and is worth nothing once the caller has answered 503 (issue 9)."""
from __future__ import annotations

from types import SimpleNamespace

from nameko.constants import NON_PERSISTENT

from services.common.rpc import _bounded


class Method:
    service_name = "intake"

    def __init__(self):
        self.publisher = SimpleNamespace(expiration=None, delivery_mode=2)
        self.sent = []

    def call_async(self, *args, **kwargs):
        self.sent.append((self.publisher.expiration, self.publisher.delivery_mode))
        return SimpleNamespace(result=lambda: "answer")


def test_a_request_is_transient_and_expires_with_the_callers_deadline():
    method = Method()
    assert _bounded(method, "intake", 2.5, (), {}) == "answer"
    assert method.sent == [(2.5, NON_PERSISTENT)]
