"""Structured logs: one JSON object a line, with the worker's call id; a typed domain error
is one info line, not a traceback (services/common/logs.py)."""
from __future__ import annotations

import json
import logging

import pytest

from services.common.errors import NotFound
from services.common.logs import DomainErrorFilter, JsonFormatter, call_id_var


def record(msg, level=logging.WARNING, exc=None):
    exc_info = (type(exc), exc, None) if exc else None
    return logging.LogRecord("nameko.containers", level, __file__, 1, msg, (), exc_info)


def test_a_line_is_json_with_service_level_and_call_id():
    token = call_id_var.set("cases.decide.1234")
    try:
        line = JsonFormatter("cases").format(record("decided %s"))
    finally:
        call_id_var.reset(token)
    entry = json.loads(line)
    assert entry["service"] == "cases" and entry["level"] == "warning"
    assert entry["call_id"] == "cases.decide.1234" and entry["message"] == "decided %s"
    assert "\n" not in line


def test_a_domain_error_is_an_info_line_without_traceback():
    rec = record("error handling worker", logging.ERROR, NotFound("case x not found"))
    assert DomainErrorFilter().filter(rec)
    assert rec.levelname == "INFO" and rec.exc_info is None
    entry = json.loads(JsonFormatter("cases").format(rec))
    assert "exc" not in entry


def test_an_unexpected_error_keeps_its_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), (RuntimeError, exc, exc.__traceback__))
    DomainErrorFilter().filter(rec)
    entry = json.loads(JsonFormatter("cases").format(rec))
    assert entry["level"] == "error" and "RuntimeError: boom" in entry["exc"]


def test_a_record_that_cannot_be_formatted_is_still_one_json_line():
    bad = logging.LogRecord("x", logging.INFO, __file__, 1, "two %s %s", ("only one",), None)
    entry = json.loads(JsonFormatter("staff").format(bad))
    assert "two %s %s" in entry["message"] and "only one" in entry["message"]
    odd = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    odd.status = object()  # an extra that is not JSON
    assert json.loads(JsonFormatter("staff").format(odd))["status"].startswith("<object")


@pytest.mark.parametrize("text,secret", [
    ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
    ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl here", "eyJhbGciOiJIUzI1NiJ9"),
    ("{'password': 'hunter2 long', 'username': 'x'}", "hunter2"),
    ('{"new_password": "s3cret-pass"}', "s3cret-pass"),
    ("activation_code=AbCdEf123", "AbCdEf123"),
])
def test_tokens_and_password_fields_are_masked_in_messages(text, secret):
    line = JsonFormatter("gateway").format(logging.LogRecord("x", logging.INFO, __file__, 1, text, (), None))
    assert secret not in line and json.loads(line)["message"]
