"""Notices settings as data (DOMAIN N1, "Periods at a glance": notice acknowledgement 1 working
day) and the outside channel of the township (URL and secret of its webhook)."""
from __future__ import annotations

from services.common.clock import DEFAULT_TZ
from services.common.settings import Rule, RuleBook, integer, timezone_name


def _url(v) -> bool:
    return isinstance(v, str) and (v == "" or (v.startswith(("http://", "https://")) and len(v) <= 500))


def _secret(v) -> bool:
    return isinstance(v, str) and len(v) <= 200


RULES = RuleBook({
    "timezone": Rule(DEFAULT_TZ, timezone_name, "the township's time zone: a working day ends at local midnight"),
    "ack_working_days": Rule(1, integer(1, 10),
                             "N1: working days to acknowledge a notice that needs an answer before the "
                             "director is told"),
    "webhook_url": Rule("", _url, "N1: the outside channel (SMS or messaging gateway) notices are POSTed to; "
                                  "empty: inbox only"),
    "webhook_secret": Rule("", _secret, "N1: the key of the HMAC-SHA256 signature of each POSTed body "
                                        "(header X-Notice-Signature)"),
    "webhook_retry_seconds": Rule(30, integer(1, 3600),
                                  "first retry of a failed delivery after N seconds, doubling each time (at most 1 h)"),
    "webhook_max_attempts": Rule(12, integer(1, 50), "attempts before a delivery is recorded as failed"),
})
