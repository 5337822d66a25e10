"""The injectable clock: code asks a clock, never ``datetime.now()``.

In production :class:`SystemClock` is real UTC time.  Tests move time in-process with
:class:`FrozenClock`, or across processes with a test-only offset file
(``TEST_CLOCK_FILE``) that is honoured only when ``ALLOW_TEST_CLOCK=1``.
"""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from nameko.extensions import DependencyProvider

DEFAULT_TZ = "Asia/Shanghai"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SystemClock:
    """Real time, plus a test-only offset when explicitly allowed."""

    def __init__(self, offset_file: str | None = None):
        allowed = os.environ.get("ALLOW_TEST_CLOCK") == "1"
        self.offset_file = offset_file or (os.environ.get("TEST_CLOCK_FILE") if allowed else None)
        self._cache: tuple[float, timedelta] | None = None

    def offset(self) -> timedelta:
        if not self.offset_file:
            return timedelta(0)
        try:
            mtime = os.stat(self.offset_file).st_mtime
        except FileNotFoundError:
            return timedelta(0)
        if self._cache and self._cache[0] == mtime:
            return self._cache[1]
        with open(self.offset_file) as fh:
            text = fh.read().strip() or "0"
        value = timedelta(seconds=float(text))
        self._cache = (mtime, value)
        return value

    def now(self) -> datetime:
        return utcnow() + self.offset()


class FrozenClock:
    """A clock for tests: stands still until moved."""

    def __init__(self, at: datetime):
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.at = at.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self.at

    def move(self, **delta) -> None:
        self.at += timedelta(**delta)

    def set(self, at: datetime) -> None:
        self.at = at.astimezone(timezone.utc)


def local_date(moment: datetime, tz: str) -> date:
    """The one local-date helper (DOMAIN "Time"): ``moment``'s date in the township's zone
    ``tz`` — always named by the caller (its township's setting or copy, else ``DEFAULT_TZ``)."""
    return moment.astimezone(ZoneInfo(tz)).date()


#: the zone furthest ahead (UTC+14): no township's local date is later than its date
EARLIEST_ZONE = "Etc/GMT-14"


def latest_local_date(moment: datetime) -> date:
    """The latest local date any township can have at ``moment``: a bound for a sweep's query
    across townships; each row is then judged by its own township's local date."""
    return local_date(moment, EARLIEST_ZONE)


#: the zone furthest behind (UTC−12): no township's local date is earlier than its date
LATEST_ZONE = "Etc/GMT+12"


def earliest_local_date(moment: datetime) -> date:
    """The earliest local date any township can have at ``moment`` (``latest_local_date``'s
    other bound)."""
    return local_date(moment, LATEST_ZONE)


def as_utc(moment: datetime) -> datetime:
    """Stored timestamps are UTC; SQLite returns them naive, so put the zone back."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class Clock(DependencyProvider):
    """Injects the service's clock; tests swap it with ``replace_dependencies``."""

    def setup(self):
        self.clock = SystemClock()

    def get_dependency(self, worker_ctx):
        return self.clock


def container_clock(container):
    """The clock of a service container (its ``Clock`` dependency), else system time."""
    for dep in container.dependencies:
        if isinstance(dep, Clock):
            return dep.clock
    return SystemClock()
