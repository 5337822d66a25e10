"""Local periods for statistics (DOMAIN T1): a month ``YYYY-MM`` or a day, in the township's
time zone, as the UTC span ``[start, end)`` that stored timestamps are compared with."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from .errors import field_error

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(value: str, field: str = "month") -> tuple[date, date]:
    """``"2025-03"`` → (first day, last day). A malformed value is a 422 naming ``field``."""
    match = _MONTH.match(value or "") if isinstance(value, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
        raise field_error(field, "a month as YYYY-MM")
    first = date(int(match.group(1)), int(match.group(2)), 1)
    return first, next_month(first) - timedelta(days=1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_of(day: date) -> str:
    return f"{day:%Y-%m}"


def utc_span(first: date, last: date, tz: str) -> tuple[datetime, datetime]:
    """The local days ``first``..``last`` (inclusive) as a UTC span ``[start, end)``."""
    zone = ZoneInfo(tz)
    start = datetime.combine(first, time(0), zone).astimezone(timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time(0), zone).astimezone(timezone.utc)
    return start, end
