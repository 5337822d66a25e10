"""S5 Year-end assessment (年终总评): the board that combines a year's quarters (T2: internal).

For each person graded in any quarter of the year (seed 003 "按季度考核……年终总评"; seed 004
十一.4–6):

* ``quarter_mean`` — the mean of the person's quarterly composites (S5, as the quarter's
  scoreboard computes them; a quarter the person was not graded in does not count);
* ``honour_points`` — each quarterly honour (red-flag window — every member of it —, service
  model, advanced individual; S7) adds ``yearend_honour_points`` (3, seed 004 "年终考核每次奖3分");
* ``year_score`` = quarter_mean + honour_points, graded with the quarter's thresholds, unrounded
  (≥ 90 优秀, ≥ 70 称职, ≥ 60 基本称职, else 不称职) and the same limits on 优秀: the yearly veto
  (a verified complaint in the year: "当季、年均不得评为优秀", seed 003), the 60-point bar (more
  than ``award_max_year_deduction`` deducted in the year, before caps: no awards, no honours),
  and the optional top-N rank (``excellent_top_n``, ranked by year score);
* the S2 year tally (``yeartally``): leave and absence days; over 90 days of leave or 30 days of
  absence forfeits the year's assessment award (考核奖), as does the 60-point bar;
* return to the home unit (seed 004 (5)): an unfit year (grade 不称职), or a disciplinary
  sanction (处分) in the year (the measure as decided, or as revised on appeal);
* honours of the year (评先评优): barred by the veto, the 60-point bar, and — seed 004 (3) —
  by the person's window having ``window_unfit_quarters`` (2) 不称职 quarters in the year; a
  window's quarter is graded by the mean composite of its staff (as S7 scores windows), and such
  a window is itself 不称职 for the year (视为不称职岗).

Quarters not begun yet are left out; the board is ``final`` once the year is over in the
township's zone. ``close_year`` (after the year) records the returns as home-unit notices (once
per cause, ``staff.home_unit_notified``).
"""
from __future__ import annotations

import io
from datetime import date
from statistics import mean

from sqlalchemy import func, select

from services.common import csvsafe
from services.common.errors import Conflict

from . import accountability, grades, honours, periods, yeartally
from .models import AccountabilityCase, Person, ScoreEntry, VerifiedComplaint, Window
from .rules import RULES
from .window_charges import window_charges

HONOUR_NAMES = {"red_flag_window": "红旗窗口", "service_model": "服务标兵", "advanced_individual": "先进个人"}


# -- pure rules -----------------------------------------------------------------------

def year_score(composites: list[float], honours_count: int, settings: dict) -> tuple[float | None, float]:
    """(mean of the quarterly composites, that + honour points); None without any quarter."""
    if not composites:
        return None, 0.0
    points = honours_count * settings["yearend_honour_points"]
    return mean(composites), mean(composites) + points


def unfit_windows(quarter_rows: dict[str, dict[str, dict]], settings: dict,
                  charges: dict[str, dict] | None = None) -> dict[str, dict]:
    """window id → {quarter: {score, grade}}: the window's score in each quarter as S7 and S3
    give it — the mean composite of its staff plus the points charged to it by substitutes
    standing in (``window_charges``; ``charges`` is quarter → window → {points})."""
    out: dict[str, dict] = {}
    for quarter, rows in quarter_rows.items():
        staff: dict[str, list[float]] = {}
        for row in rows.values():
            if row.get("window_id"):
                staff.setdefault(row["window_id"], []).append(row["composite"])
        charged = (charges or {}).get(quarter, {})
        for wid, composites in staff.items():
            score = mean(composites) + charged.get(wid, {}).get("points", 0)
            out.setdefault(wid, {})[quarter] = {"score": score, "grade": grades.grade(score, settings)}
    return out


def window_is_unfit(quarters: dict[str, dict], settings: dict) -> bool:
    return sum(1 for q in quarters.values() if q["grade"] == grades.UNFIT) >= settings["window_unfit_quarters"]


# -- the board ------------------------------------------------------------------------

def _quarters_begun(year: int, today: date) -> list[str]:
    return [f"{year}Q{q}" for q in range(1, 5) if periods.quarter_bounds(f"{year}Q{q}")[0] <= today]


def _honoured(uow, quarter: str, rows: dict[str, dict], settings: dict, charges: dict) -> dict[str, list[str]]:
    """person id → the honours of the quarter (S7); ``charges``: the quarter's window charges."""
    flags, models, advanced = honours.chosen(uow, quarter, list(rows.values()), settings, charges)
    got: dict[str, list[str]] = {}
    for w in flags:
        for pid in w["staff"]:
            got.setdefault(pid, []).append("red_flag_window")
    for kind, chosen in (("service_model", models), ("advanced_individual", advanced)):
        for r in chosen:
            got.setdefault(r["person_id"], []).append(kind)
    return got


def _year_facts(uow, year: int) -> tuple[dict, dict, dict]:
    """(verified complaints, points deducted before caps, sanctions) per person in the year."""
    lo, hi = date(year, 1, 1), date(year, 12, 31)
    complaints = dict(uow.session.execute(
        select(VerifiedComplaint.person_id, func.count()).where(
            VerifiedComplaint.day >= lo, VerifiedComplaint.day <= hi, VerifiedComplaint.person_id.is_not(None))
        .group_by(VerifiedComplaint.person_id)).all())
    deducted = {pid: -int(total) for pid, total in uow.session.execute(
        select(ScoreEntry.person_id, func.sum(ScoreEntry.points)).where(
            ScoreEntry.day >= lo, ScoreEntry.day <= hi, ScoreEntry.points < 0).group_by(ScoreEntry.person_id))}
    sanctions: dict[str, list[str]] = {}
    for case_id, pid, measure, revised in uow.session.execute(
            select(AccountabilityCase.id, AccountabilityCase.person_id, AccountabilityCase.measure,
                   AccountabilityCase.revised_measure).where(AccountabilityCase.day >= lo, AccountabilityCase.day <= hi)
            .order_by(AccountabilityCase.day, AccountabilityCase.created_at)):
        if (revised or measure) == "sanction":
            sanctions.setdefault(pid, []).append(case_id)
    return complaints, deducted, sanctions


def board(uow, year) -> dict:
    year = yeartally.parse_year(year)
    settings = RULES.load(uow)
    today = periods.local_today(uow)
    quarters = _quarters_begun(year, today)
    by_quarter = {q: grades.quarter_rows(uow, q, settings) for q in quarters}
    charges = {q: window_charges(uow, q) for q in quarters}  # once a quarter: honours and window grades
    honoured = {q: _honoured(uow, q, rows, settings, charges[q]) for q, rows in by_quarter.items()}
    windows = {w.id: w for w in uow.scalars(select(Window))}
    window_quarters = unfit_windows(by_quarter, settings, charges)
    unfit = {wid for wid, qs in window_quarters.items() if window_is_unfit(qs, settings)}
    complaints, deducted, sanctions = _year_facts(uow, year)
    tally = yeartally.year_days(uow, year, settings)
    people = {p.id: p for p in uow.scalars(select(Person))}
    ids = sorted({pid for rows in by_quarter.values() for pid in rows})

    rows = []
    for pid in ids:
        p = people[pid]
        graded = [(q, by_quarter[q][pid]) for q in quarters if pid in by_quarter[q]]
        won = [{"quarter": q, "honour": h} for q in quarters for h in honoured[q].get(pid, [])]
        q_mean, score = year_score([r["composite"] for _, r in graded], len(won), settings)
        vetoed = complaints.get(pid, 0) > 0 and settings["complaint_veto"]
        bar_ok = deducted.get(pid, 0) <= settings["award_max_year_deduction"]
        window_ids = {r["window_id"] for _, r in graded if r.get("window_id")}
        in_unfit_window = bool(window_ids & unfit)
        days = tally.get(pid, {"leave_days": 0.0, "absence_days": 0.0, "forfeit_reasons": []})
        award_lost = list(days["forfeit_reasons"]) + ([] if bar_ok else ["deductions"])
        barred = ([] if not vetoed else ["complaint"]) + ([] if bar_ok else ["deductions"]) + (
            ["window_unfit"] if in_unfit_window else [])
        rows.append({
            "person_id": pid, "name": p.name, "badge_no": p.badge_no, "window_id": p.window_id,
            "window": windows[p.window_id].number if p.window_id in windows else None, "home_unit": p.home_unit,
            "quarters": [{"quarter": q, "composite": r["composite"], "grade": r["grade"]} for q, r in graded],
            "quarter_mean": q_mean, "honours": won, "honour_points": len(won) * settings["yearend_honour_points"],
            "year_score": score, "year_complaints": complaints.get(pid, 0), "vetoed": vetoed,
            "year_deducted": deducted.get(pid, 0), "award_eligible": bar_ok,
            "leave_days": days["leave_days"], "absence_days": days["absence_days"],
            "assessment_award": not award_lost, "award_forfeit_reasons": award_lost,
            "honours_eligible": not barred, "honours_barred_by": barred,
            "sanctions": sanctions.get(pid, []),
        })
    ranks = grades.competition_ranks([r["year_score"] for r in rows])
    for row, rank in zip(rows, ranks):
        row["rank"] = rank
        row["grade"] = grades.grade(row["year_score"], settings, rank, row["vetoed"], barred=not row["award_eligible"])
        causes = (["unfit_year"] if row["grade"] == grades.UNFIT else []) + (["sanction"] if row["sanctions"] else [])
        row["return_to_home_unit"], row["return_causes"] = bool(causes), causes
    rows.sort(key=lambda r: (-r["year_score"], r["badge_no"] or "", r["person_id"]))
    window_rows = []
    for wid, qs in window_quarters.items():
        if wid not in windows:
            continue
        w = windows[wid]
        unfit_count = sum(1 for v in qs.values() if v["grade"] == grades.UNFIT)
        window_rows.append({
            "window_id": wid, "number": w.number, "name": w.name,
            "quarters": [{"quarter": q, "score": v["score"], "grade": v["grade"]} for q, v in sorted(qs.items())],
            "unfit_quarters": unfit_count, "year_unfit": wid in unfit,
        })
    window_rows.sort(key=lambda w: w["number"])
    return {"year": year, "final": today > date(year, 12, 31), "quarters": quarters, "rows": rows,
            "windows": window_rows}


def close_year(uow, year) -> dict:
    """After the year: record each return to the home unit the board shows (an unfit year, a
    sanction), once per cause, and tell the directors (``staff.home_unit_notified``)."""
    year = yeartally.parse_year(year)
    if periods.local_today(uow) <= date(year, 12, 31):
        raise Conflict(f"{year} is not over yet")
    made = []
    people = {p.id: p for p in uow.scalars(select(Person))}
    for row in board(uow, year)["rows"]:
        person = people[row["person_id"]]
        new = False
        if "unfit_year" in row["return_causes"]:
            new |= accountability.notify_home_unit(uow, person, "return", f"unfit_year:{year}")
        for case_id in row["sanctions"]:
            new |= accountability.notify_home_unit(uow, person, "return", f"sanction:{case_id}")
        if new:
            made.append(person.id)
    return {"year": year, "returned": made}


def board_csv(uow, year) -> str:
    data = board(uow, year)
    out = io.StringIO()
    writer = csvsafe.writer(out)
    quarters = [f"{data['year']}Q{q}" for q in range(1, 5)]
    writer.writerow(["名次", "姓名", "工号", "窗口", *[f"{q} 综合得分" for q in quarters], "季度平均", "荣誉",
                     "荣誉加分", "年终得分", "等次", "投诉否决", "年度累计扣分", "病事假天数", "旷工天数", "考核奖",
                     "评先评优资格", "退回派出单位"])
    for r in data["rows"]:
        by_q = {q["quarter"]: q["composite"] for q in r["quarters"]}
        writer.writerow([
            r["rank"], r["name"], r["badge_no"] or "", r["window"] or "", *[grades.figure(by_q.get(q)) for q in quarters],
            grades.figure(r["quarter_mean"]), "、".join(f"{h['quarter']}{HONOUR_NAMES[h['honour']]}" for h in r["honours"]),
            grades.figure(r["honour_points"]), grades.figure(r["year_score"]), r["grade"], "是" if r["vetoed"] else "",
            r["year_deducted"], grades.figure(r["leave_days"]), grades.figure(r["absence_days"]),
            "有" if r["assessment_award"] else "取消", "有" if r["honours_eligible"] else "取消",
            "是" if r["return_to_home_unit"] else "",
        ])
    return out.getvalue()


