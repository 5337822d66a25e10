"""S2 sweep (``services.common.sweep``): close yesterday's attendance — and up to a week of
missed days — in every township, by the township's local date. Each day is claimed by its
unique closure row (``attendance.close_day``), so several instances close it once. Then, as a
backstop for a calendar event that never came (C2), settle the days left open."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.common.errors import Conflict

from . import attendance, home_reports, periods
from .models import AttendanceClosure, Township

CATCH_UP_DAYS = 7


def close(uow, back: int) -> bool:
    """Close the day ``back`` days before the township's today, unless it predates the township."""
    day = periods.local_today(uow) - timedelta(days=back)
    township = uow.session.get(Township, uow.township_id)
    if day < periods.local(township.created_at, periods.township_tz(uow)).date():
        return False
    attendance.close_day(uow, day)
    return True


def settle(uow, _township_id) -> int:
    """C2: the township's days left open for want of calendar data (each day claimed)."""
    return len(attendance.settle_open_days(uow)["settled"])


def sweep(run) -> dict:
    """Days closed and settled by this instance; a day already closed (here or elsewhere) is
    skipped."""
    with run.unit_of_work() as uow:
        townships = list(uow.scalars(select(Township.id)))
        unsettled = list(uow.session.scalars(select(AttendanceClosure.township_id)
                                             .where(AttendanceClosure.state == "open").distinct()))
    days = [(t, back) for t in townships for back in range(CATCH_UP_DAYS, 0, -1)]
    closed = run.each("attendance_days", days, close, lost=(Conflict, IntegrityError))
    settled = run.each("settle_open_days", [(t, t) for t in unsettled], settle)
    # S2: last month's home-unit reports, once its days are closed (after the closing above)
    reports = run.each("home_unit_reports", [(t, t) for t in townships], home_reports.send_due,
                       lost=(IntegrityError,))
    return {"days_closed": closed, "days_settled": settled, "home_unit_reports": reports}
