"""Configuration from the environment, with working defaults for one machine.

Every service is configured the same way:

* ``AMQP_URI`` — the broker (default ``amqp://guest:guest@localhost:5672/``);
* ``<SERVICE>_DATABASE_URL`` — the service's own database (default: a SQLite file
  ``var/<service>.db``);
* ``<SERVICE>_HTTP_ADDRESS`` — where the service serves ``/metrics`` and ``/health``
  (default ``127.0.0.1:<port>``, ports 9101..9106; ``0`` picks a free port);
* ``<SERVICE>_SWEEP_INTERVAL``, else ``SWEEP_INTERVAL`` — seconds between two runs of the
  service's sweeps (``services.common.sweep``; default ``DEFAULT_SWEEP_INTERVALS``);
* ``EVENT_MAX_ATTEMPTS`` — deliveries before a message goes to the dead-letter queue (5);
* ``TEST_CLOCK_FILE`` — test-only clock offset, honoured only when
  ``ALLOW_TEST_CLOCK=1`` (production never sets it).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from types import MappingProxyType

from nameko.extensions import DependencyProvider

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"

SERVICES = ("staff", "intake", "cases", "complaints", "lending", "notices")

DEFAULT_HTTP_PORTS = {
    "staff": 9101,
    "intake": 9102,
    "cases": 9103,
    "complaints": 9104,
    "lending": 9105,
    "notices": 9106,
    "gateway": 8000,
}

#: seconds between two sweeps; staff closes attendance days, which need no haste; notices
#: retries outside deliveries and escalates, which should not wait long
DEFAULT_SWEEP_INTERVAL = 30.0
DEFAULT_SWEEP_INTERVALS = {"staff": 600.0, "notices": 10.0}


def var_dir() -> Path:
    path = Path(os.environ.get("VAR_DIR", ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def database_url(service: str) -> str:
    url = os.environ.get(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{var_dir() / (service + '.db')}"


def http_address(service: str) -> str:
    if service == "gateway":
        host = os.environ.get("GATEWAY_HOST", "0.0.0.0")
        return f"{host}:{os.environ.get('GATEWAY_PORT', DEFAULT_HTTP_PORTS['gateway'])}"
    addr = os.environ.get(f"{service.upper()}_HTTP_ADDRESS")
    if addr:
        return addr if ":" in addr else f"127.0.0.1:{addr}"
    return f"127.0.0.1:{DEFAULT_HTTP_PORTS.get(service, 0)}"


def sweep_interval(service: str) -> float:
    """``<SERVICE>_SWEEP_INTERVAL``, else ``SWEEP_INTERVAL``, else the service's default."""
    value = os.environ.get(f"{service.upper()}_SWEEP_INTERVAL") or os.environ.get("SWEEP_INTERVAL")
    return float(value) if value else DEFAULT_SWEEP_INTERVALS.get(service, DEFAULT_SWEEP_INTERVAL)


MIN_SECRET_BYTES = 32


def jwt_secret() -> str:
    """The gateway's token-signing key: ``GATEWAY_JWT_SECRET`` (at least 32 bytes), else a
    random key created once in ``var/jwt-secret`` so every process of the machine shares it."""
    key = os.environ.get("GATEWAY_JWT_SECRET")
    if key:
        if len(key.encode()) < MIN_SECRET_BYTES:
            raise RuntimeError(f"GATEWAY_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        return key
    path = var_dir() / "jwt-secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def max_attempts() -> int:
    return int(os.environ.get("EVENT_MAX_ATTEMPTS", "5"))


class Config(DependencyProvider):
    """``self.config``: the container's configuration, read-only — the one way an entrypoint
    reads a setting (a narrow provider, as nameko-examples' ``products/dependencies.py``)."""

    def get_dependency(self, worker_ctx):
        return MappingProxyType(self.container.config)


def service_config(service: str, **overrides) -> dict:
    """The nameko config dict of one service, built from the environment."""
    config = {
        "AMQP_URI": amqp_uri(),
        "WEB_SERVER_ADDRESS": http_address(service),
        "DATABASE_URL": database_url(service) if service != "gateway" else None,
        "EVENT_MAX_ATTEMPTS": max_attempts(),
        "OUTBOX_POLL_INTERVAL": float(os.environ.get("OUTBOX_POLL_INTERVAL", "0.5")),
        "OUTBOX_LINGER": float(os.environ.get("OUTBOX_LINGER", "0.005")),
        "SWEEP_INTERVAL": sweep_interval(service),
        "serializer": "json",
        "max_workers": int(os.environ.get("MAX_WORKERS", "10")),
    }
    if service == "gateway":
        # more workers than the services' shares together (GATEWAY_SERVICE_LIMIT each), so that
        # routes that call no service never wait behind ones held by a slow service (issue 7)
        config["max_workers"] = int(os.environ.get("GATEWAY_WORKERS", "100"))

        config["JWT_SECRET"] = jwt_secret()
    # tuning a service reads when set: the graceful stop, and the recompute after a calendar change (cases, notices)
    for key in ("STOP_GRACE", "RECOMPUTE_INTERVAL", "RECOMPUTE_QUIET", "RECOMPUTE_MAX_DELAY", "RECOMPUTE_CHUNK",
                "RECOMPUTE_CHUNK_SECONDS"):
        if os.environ.get(key):
            config[key] = os.environ[key]
    config.update(overrides)
    return config
