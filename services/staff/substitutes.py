"""S3 顶岗: a substitute's faults count against the window they stand in for (seed 004 第三篇
《窗口临时顶岗人员管理制度》4.3: "临时顶岗人员若出现违纪违规现象，审批收费错误的，将依照中心有关
规定扣除窗口的考核分"; seeds 000, 001).

How substitutes are modelled (read before changing): a leave of half a day or more names
``Leave.substitute_person_id`` — a person of the roster, sent by the home unit (S3 顶岗) —
and serves at most ``substitute_max_days``. C7's A/B posts are another matter: while A is away
cases moves A's open cases to the window's other post (B, ``services/cases/posts.py``); the
substitute stands at A's post. So a person stands in for a window on each local day from the
start of an approved leave naming them to its end, or to the return (销假) if earlier.

The rule here: every S4 entry of a person for a day on which they stand in is charged to the
window of the person on leave — ``ScoreEntry.window_id`` is that window and
``ScoreEntry.substitute_leave_id`` the leave (``scoring.add_entry`` asks :func:`charged_window`
for every entry, whatever its source: attendance, meetings, overdue cases, fees, complaints,
patrols, by hand). The substitute keeps the entry on their own record too. What the window
answers for is in ``window_charges`` (S7 and the windows' scores).
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from . import periods
from .models import Leave, Person

RUNNING = ("approved", "returned")


def charge(own_window: str | None, stand_ins, day: date) -> tuple[str | None, str | None]:
    """(window charged, leave stood in for) for an entry of ``day``. ``stand_ins`` are
    ``(first_day, last_day, window_id, leave_id)`` of the leaves the person stands in for;
    the most recent one covering the day wins; none → the person's own window."""
    covering = [s for s in stand_ins if s[0] <= day <= s[1] and s[2]]
    if not covering:
        return own_window, None
    first, last, window_id, leave_id = max(covering, key=lambda s: (s[0], s[3]))
    return window_id, leave_id


def stand_ins(uow, person_id: str, day: date | None = None) -> list[tuple[date, date, str | None, str]]:
    """The leaves (approved, or returned) naming ``person_id`` as substitute, as local days —
    with ``day``, only those whose planned span can cover it (the rest cannot be charged)."""
    tz = periods.township_tz(uow)
    stmt = (select(Leave, Person.window_id).outerjoin(Person, Person.id == Leave.person_id)
            .where(Leave.substitute_person_id == person_id, Leave.state.in_(RUNNING)))
    if day is not None:
        stmt = stmt.where(Leave.starts_at < periods.at_local(day + timedelta(days=1), "00:00", tz),
                          Leave.ends_at > periods.at_local(day, "00:00", tz))
    out = []
    for leave, window_id in uow.session.execute(stmt).all():
        end = periods.leave_end(leave)
        first = periods.local(leave.starts_at, tz).date()
        last = periods.local(end - timedelta(microseconds=1), tz).date()
        out.append((first, max(first, last), window_id, leave.id))
    return out


def charged_window(uow, person_id: str, day: date, own_window: str | None) -> tuple[str | None, str | None]:
    """The window an entry of ``person_id`` for ``day`` is charged to, and the leave (S3)."""
    return charge(own_window, stand_ins(uow, person_id, day), day)
