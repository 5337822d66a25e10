"""Local time for discipline rules: a township's time zone, quarters, months, persons.

DOMAIN "Time": every local rule (half-days, quarters) is in the township's time zone
(default Asia/Shanghai); timestamps are stored in UTC."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from services.common.calendar import load_calendar
from services.common.clock import DEFAULT_TZ, local_date
from services.common.errors import field_error

from .models import Person, Township

QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")


def township_zone(uow) -> str:
    """The township's time zone name (staff's own record), else ``DEFAULT_TZ``."""
    township = uow.session.get(Township, uow.township_id)
    return township.timezone if township and township.timezone else DEFAULT_TZ


def township_tz(uow) -> ZoneInfo:
    return ZoneInfo(township_zone(uow))


def local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz)


def local_today(uow) -> date:
    return local_date(uow.now(), township_zone(uow))


def at_local(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    """The UTC moment of a local wall-clock time on a day."""
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(h, m), tzinfo=tz).astimezone(timezone.utc)


def leave_end(leave) -> datetime:
    """When a leave ends: its planned end, or the return (销假) when that came earlier (S3)."""
    return min(leave.ends_at, leave.returned_at) if leave.returned_at else leave.ends_at


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def parse_quarter(quarter: str) -> tuple[int, int]:
    m = QUARTER_RE.match(quarter or "")
    if not m:
        raise field_error("quarter", "like 2025Q1")
    return int(m.group(1)), int(m.group(2))


def quarter_bounds(quarter: str) -> tuple[date, date]:
    year, q = parse_quarter(quarter)
    start = date(year, 3 * q - 2, 1)
    end = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - timedelta(days=1)
    return start, end


def previous_quarter(quarter: str) -> str:
    year, q = parse_quarter(quarter)
    return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"


def month_bounds(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    nxt = date(day.year + (day.month == 12), 1 if day.month == 12 else day.month + 1, 1)
    return start, nxt - timedelta(days=1)


def parse_day(value, field: str = "day") -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise field_error(field, "an ISO date (YYYY-MM-DD)") from None


def parse_moment(value, field: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise field_error(field, "an ISO timestamp with a time zone") from None
    if moment.tzinfo is None:
        raise field_error(field, "needs a time zone (e.g. +08:00)")
    return moment.astimezone(timezone.utc)


def person(uow, person_id: str, field: str = "person_id", active: bool = True) -> Person:
    """A person of this township (404 for missing and foreign alike)."""
    if not person_id:
        raise field_error(field, "required")
    p = uow.get(Person, person_id, "person")
    if active and not p.active:
        raise field_error(field, "person is not active")
    return p


def refuse_closed_day(uow, day: date, field: str = "day") -> None:
    """C2a: nothing counts against a person for a day the hall was closed (no late, absence or
    patrol finding): such records are refused, naming the field."""
    calendar = load_calendar(uow.session, uow.common, uow.township_id)
    if not calendar.is_working_day(day):
        raise field_error(field, f"{day} is not a working day: the hall was closed (C2a)")
