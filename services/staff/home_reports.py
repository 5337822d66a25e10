"""S2 The monthly report to the home unit (seed 004 五.9: "窗口工作人员的考勤情况，每月定期向所在
单位通报"; DOMAIN S2: each person's attendance and score are reported monthly to their home
unit, 派出单位 / 原单位).

For a local month, per home unit (``Person.home_unit``; people without one are not seconded
and not reported), each of its people's:

* attendance of the month: late, early leave, absent half-days, days added by the 5-lates
  rule, half-days on leave (a record excused after an objection counts as on time);
* study sessions and meetings: attended, late, absent excused, absent without leave;
* scores: points deducted in the month (as recorded, before caps), credits, and the quarter's
  centre score up to the month's last day (S4, caps applied).

Sending (once per township, month and home unit; a unique row): the month must be over and
every working day of it closed (so the figures are final); each unit's report is announced by
``staff.home_unit_report_sent`` through the outbox, and the notices service puts it in the
inboxes of the directors, who must acknowledge it (they pass it to the home unit; N1). The
staff sweep sends last month's reports by itself once its days are closed (setting
``home_unit_report_auto``). The same figures download as CSV (UTF-8 with BOM, csvsafe).
"""
from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import select

from services.common import csvsafe, months
from services.common.calendar import load_calendar
from services.common.errors import Conflict

from services.contracts.staff import HomeUnitReports as ReportsOut, HomeUnitReportsSent as SentOut

from . import grades, meetings, periods
from .attendance import HALVES, expected_people
from .models import AttendanceClosure, AttendanceDay, HomeUnitReport, Person, ScoreEntry, Township, Window
from .rules import RULES
from .scoring import centre_score
from services.contracts import shared

COLUMNS = ["派出单位", "姓名", "工号", "窗口", "迟到", "早退", "旷工(半天)", "累计旷工(天)", "请假(半天)",
           "参加学习会议", "学习会议迟到", "请假缺席", "无故缺席", "本月扣分", "本月加分", "本季度考核分"]


# -- pure rules -----------------------------------------------------------------------

def attendance_counts(rows) -> dict:
    """``rows``: (half, status, excused) of one person's month (S2)."""
    c = {"late": 0, "early": 0, "absent_halves": 0, "accumulated_days": 0, "leave_halves": 0}
    for half, status, excused in rows:
        if excused:
            continue
        c["late"] += status in ("late", "late_early")
        c["early"] += status in ("early", "late_early")
        c["absent_halves"] += status == "absent" and half in HALVES
        c["accumulated_days"] += status == "accumulated"
        c["leave_halves"] += status == "leave"
    return c


def score_counts(month_points, quarter_entries, caps: dict, base: int) -> dict:
    """``month_points``: the month's entries' points; ``quarter_entries``: (category, points)
    of the quarter up to the month's end."""
    return {"deducted": -sum(p for p in month_points if p < 0), "credits": sum(p for p in month_points if p > 0),
            "quarter_score": centre_score(quarter_entries, caps, base).total}


def unfinished_days(working_days, closed_days, first_kept: date) -> list[date]:
    """Working days of the month not yet closed (or the month not over): nothing is sent."""
    return [d for d in working_days if d >= first_kept and d not in closed_days]


# -- the report -------------------------------------------------------------------------

def month_reports(uow, month: str, home_unit: str | None = None) -> dict:
    first, last = months.parse_month(month)
    settings = RULES.load(uow)
    q_start, _ = periods.quarter_bounds(periods.quarter_of(first))
    days = list(uow.session.execute(select(AttendanceDay.person_id, AttendanceDay.half, AttendanceDay.status,
                                           AttendanceDay.excused)
                                    .where(AttendanceDay.day >= first, AttendanceDay.day <= last)))
    entries = list(uow.session.execute(select(ScoreEntry.person_id, ScoreEntry.day, ScoreEntry.category,
                                              ScoreEntry.points)
                                       .where(ScoreEntry.day >= q_start, ScoreEntry.day <= last)))
    sessions = meetings.counts(uow, first, last)
    involved = ({p.id for p in expected_people(uow, settings)} | {d[0] for d in days}
                | {e[0] for e in entries if e[1] >= first} | set(sessions))
    windows = {w.id: w.number for w in uow.scalars(select(Window))}
    sent = {r.home_unit: r for r in uow.scalars(select(HomeUnitReport).where(HomeUnitReport.month == month))}
    units: dict[str, list] = {}
    for p in uow.scalars(select(Person).where(Person.home_unit.is_not(None)).order_by(Person.name)):
        if p.id not in involved or not (p.home_unit or "").strip():
            continue
        if home_unit is not None and p.home_unit != home_unit:
            continue
        att = attendance_counts((h, s, x) for pid, h, s, x in days if pid == p.id)
        mine = [e for e in entries if e[0] == p.id]
        sc = score_counts([e[3] for e in mine if e[1] >= first], [(e[2], e[3]) for e in mine],
                          settings["category_caps"], settings["base_points"])
        ses = sessions.get(p.id, {"attended": 0, "late": 0, "absent_excused": 0, "absent_unexcused": 0})
        units.setdefault(p.home_unit, []).append({
            "person_id": p.id, "name": p.name, "badge_no": p.badge_no, "window": windows.get(p.window_id),
            **att, "sessions_attended": ses["attended"], "sessions_late": ses["late"],
            "sessions_absent_excused": ses["absent_excused"], "sessions_absent_unexcused": ses["absent_unexcused"],
            **sc})
    out = []
    for unit in sorted(units):
        report = sent.get(unit)
        out.append({"home_unit": unit, "report_id": report.id if report else None,
                    "sent_at": report.sent_at if report else None,
                    "people": sorted(units[unit], key=lambda r: (r["window"] or 999, r["name"], r["person_id"]))})
    return shared(ReportsOut).dump({"month": months.month_of(first), "units": out})


def month_csv(uow, month: str, home_unit: str | None = None) -> str:
    """The month's reports as CSV text (the gateway adds the BOM; cells pass csvsafe)."""
    reports = month_reports(uow, month, home_unit)
    out = io.StringIO()
    writer = csvsafe.writer(out)
    writer.writerow(COLUMNS)
    for unit in reports["units"]:
        for r in unit["people"]:
            writer.writerow([unit["home_unit"], r["name"], r["badge_no"] or "", r["window"] or "", r["late"],
                             r["early"], r["absent_halves"], r["accumulated_days"], r["leave_halves"],
                             r["sessions_attended"], r["sessions_late"], r["sessions_absent_excused"],
                             r["sessions_absent_unexcused"], r["deducted"], r["credits"],
                             grades.figure(r["quarter_score"])])
    return out.getvalue()


def pending_days(uow, month: str) -> list[date]:
    """The month's working days not yet closed; the whole month when it is not over."""
    first, last = months.parse_month(month)
    today = periods.local_today(uow)
    if today <= last:
        return [last]
    calendar = load_calendar(uow.session, uow.common, uow.township_id)
    township = uow.session.get(Township, uow.township_id)
    created = periods.local(township.created_at, periods.township_tz(uow)).date()
    working = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    working = [d for d in working if calendar.is_working_day(d)]
    closed = set(uow.scalars(select(AttendanceClosure.day).where(
        AttendanceClosure.day >= first, AttendanceClosure.day <= last, AttendanceClosure.state == "closed")))
    return unfinished_days(working, closed, created)


def send(uow, month: str, by: str | None = None) -> dict:
    """Send the month's reports to every home unit not yet sent (S2), through the outbox."""
    first, last = months.parse_month(month)
    if periods.local_today(uow) <= last:
        raise Conflict(f"{months.month_of(first)} is not over yet")
    pending = pending_days(uow, month)
    if pending:
        raise Conflict("close these days first: " + ", ".join(d.isoformat() for d in pending),
                       {"month": [d.isoformat() for d in pending]})
    month = months.month_of(first)
    reports = month_reports(uow, month)
    sent, already = [], []
    for unit in reports["units"]:
        if unit["report_id"]:
            already.append(unit["home_unit"])
            continue
        row = HomeUnitReport(month=month, home_unit=unit["home_unit"], people=len(unit["people"]),
                             sent_at=uow.now(), sent_by=by)
        uow.session.add(row)
        uow.session.flush()  # the unique row: a second sender fails here and rolls back
        uow.emit("staff.home_unit_report_sent", report_id=row.id, month=month, home_unit=unit["home_unit"],
                 people=[{k: r[k] for k in EVENT_FIELDS} for r in unit["people"]])
        sent.append(unit["home_unit"])
    return shared(SentOut).dump({"month": month, "sent": sent, "already_sent": already})


#: what the event carries of each person: ids and figures, no personal data
EVENT_FIELDS = ("person_id", "late", "early", "absent_halves", "accumulated_days", "leave_halves",
                "sessions_attended", "sessions_late", "sessions_absent_excused", "sessions_absent_unexcused",
                "deducted", "credits", "quarter_score")


def send_due(uow, _township_id=None) -> int:
    """The sweep: last month's reports, once its working days are all closed (S2)."""
    if not RULES.load(uow)["home_unit_report_auto"]:
        return 0
    today = periods.local_today(uow)
    month = months.month_of(today.replace(day=1) - timedelta(days=1))
    if pending_days(uow, month):
        return 0
    township = uow.session.get(Township, uow.township_id)
    if periods.local(township.created_at, periods.township_tz(uow)).date() > months.parse_month(month)[1]:
        return 0  # the township did not exist that month
    return len(send(uow, month)["sent"])
