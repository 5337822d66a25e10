"""Structured logs: one JSON object a line, with the nameko call id of the worker.

Personal data (ID numbers, phones, addresses, complainants) is never passed to a logger
(DOMAIN "Personal data"); log ids instead.
"""
from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
from datetime import datetime, timezone

from nameko.extensions import DependencyProvider

call_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("call_id", default=None)


#: a safety net under "never log a secret" (issue 8): signed tokens, bearer headers and
#: password/code fields in whatever text reaches a log line are replaced before it is written
SECRETS = (
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+"), "[token]"),
    (re.compile(r"(?i)(bearer\s+)[^\s'\",]+"), r"\1[token]"),
    (re.compile(r"(?i)([\"']?(?:password|old_password|new_password|activation_code|token)[\"']?\s*[:=]\s*)"
                r"(\"[^\"]*\"|'[^']*'|[^\s,}]+)"), r"\1[redacted]"),
)


def redact(text: str) -> str:
    for pattern, replacement in SECRETS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object a line. Never raises: a record whose message cannot be formatted
    (wrong arguments) or a field that is not JSON is written as text, never dropped."""

    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        try:
            return self._format(record)
        except Exception as exc:  # never lose the line, never break the caller
            return json.dumps({"ts": datetime.now(timezone.utc).isoformat(), "level": "error",
                               "service": self.service, "logger": getattr(record, "name", "?"),
                               "message": redact(f"unformattable log record: {type(exc).__name__}: "
                                                 f"{getattr(record, 'msg', '')!r}")}, ensure_ascii=False)

    def _format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:
            message = f"{record.msg!r} % {record.args!r}"
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": redact(str(message)),
        }
        call_id = call_id_var.get()
        if call_id:
            entry["call_id"] = call_id
        for key in ("error_id", "event_id", "event_type", "township_id", "status", "path"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=lambda v: redact(str(v)))


class DomainErrorFilter(logging.Filter):
    """A typed domain error (404, 409, 422 …) is an answer, not a fault: nameko logs every
    worker exception with its traceback; keep such records to one info line."""

    def filter(self, record: logging.LogRecord) -> bool:
        from .errors import DomainError

        if record.exc_info and isinstance(record.exc_info[1], DomainError):
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def setup_logging(service: str, level: str | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(DomainErrorFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("LOG_LEVEL", "INFO"))
    for noisy in ("kombu", "nameko", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # amqp warns "Received method (60, 80) during closing channel" on every short-lived reply
    # channel of standalone proxies: harmless, and it would drown real warnings
    logging.getLogger("amqp").setLevel(logging.ERROR)


class CallLog(DependencyProvider):
    """Puts the worker's call id into every log line it writes."""

    def worker_setup(self, worker_ctx):
        self._tokens = getattr(self, "_tokens", {})
        self._tokens[worker_ctx] = call_id_var.set(worker_ctx.call_id)

    def worker_teardown(self, worker_ctx):
        token = getattr(self, "_tokens", {}).pop(worker_ctx, None)
        if token is not None:
            try:
                call_id_var.reset(token)
            except ValueError:  # set in another context (greenlet)
                pass

    def get_dependency(self, worker_ctx):
        return logging.getLogger(self.container.service_name)
