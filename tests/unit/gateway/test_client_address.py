"""The client address the receipt guessing limit counts (gateway.api.client_address)."""
from __future__ import annotations

import ipaddress

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway import api


def request(peer, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    env = EnvironBuilder(headers=headers, environ_base={"REMOTE_ADDR": peer}).get_environ()
    return Request(env)


@pytest.mark.parametrize("trusted, peer, forwarded, expected", [
    ([], "203.0.113.9", "1.2.3.4", "203.0.113.9"),                     # no proxies trusted: header ignored
    (["10.0.0.0/8"], "203.0.113.9", "1.2.3.4", "203.0.113.9"),         # peer is not a trusted proxy
    (["10.0.0.0/8"], "10.1.1.1", "198.51.100.7", "198.51.100.7"),      # behind one trusted proxy
    (["10.0.0.0/8"], "10.1.1.1", "6.6.6.6, 198.51.100.7, 10.2.2.2", "198.51.100.7"),  # forged left part ignored
    (["10.0.0.0/8"], "10.1.1.1", None, "10.1.1.1"),
])
def test_client_address(monkeypatch, trusted, peer, forwarded, expected):
    monkeypatch.setattr(api, "TRUSTED_PROXIES", [ipaddress.ip_network(n) for n in trusted])
    assert api.client_address(request(peer, forwarded)) == expected
