"""S7 Honours: each quarter one red-flag window (红旗窗口), one service model (服务标兵) and
three advanced individuals (先进个人); the numbers are settings.

Who may be chosen: a person with composite ≥ 90 (``honour_min_composite``), no verified
complaint, no overdue case and no violation (no deduction of any kind) in the quarter (seed
004 十二). A window's score is the mean of its staff's composites; it may be chosen when that
mean is ≥ 90, no verified complaint against the window or any of its staff this year (the
veto lasts the year, S5 "当季、年均不得评为优秀" — the same as on the person side), and none of
its staff has an overdue case or a violation in the quarter.

A WINDOW MUST HAVE SERVED THE QUARTER (S7; a score of 100 only means "nothing deducted", so a
window that did no work would otherwise win): it may be honoured for a quarter only if
(1) it existed on the quarter's first day — ``Window.created_at``, as a local date in the
township's zone, is on or before the quarter's start (windows from before the column existed
carry their township's creation time); and (2) its staff worked in it: only the window's staff
who signed in (an attendance mark ``in``) on at least one day of the quarter count towards its
mean, and a window with no such person is not chosen. Staff who did not work still bar the
window by a complaint, overdue case or violation.

TIES (the stated rule): people are ordered by composite (higher first), then centre score
(higher), then applicant-rating points (higher; none counts as 0), then badge number
(ascending) — the last key makes the order total and reproducible. The service model is the
first; the advanced individuals are the next three (one person gets one honour). Windows are
ordered by mean composite (higher), then the lowest composite among their staff (higher: the
more even window wins), then window number (ascending).
"""
from __future__ import annotations

from statistics import mean

from sqlalchemy import select

from services.common.clock import local_date

from . import periods
from .grades import scoreboard
from .models import AttendanceMark, VerifiedComplaint, Window
from .rules import RULES
from .window_charges import window_charges


def person_eligible(row: dict, min_composite: float) -> bool:
    """S7 (with S5's yearly rules): composite at or above the bar, no verified complaint this
    year (the veto lasts the year), no overdue case and no violation this quarter, and not past
    the year's 60-point deduction bar (no awards and no honours from then on)."""
    return (row["composite"] >= min_composite and row["complaints"] == 0
            and row.get("year_complaints", 0) == 0 and row["overdue"] == 0
            and row["violations"] == 0 and row.get("award_eligible", True))


def person_order(row: dict):
    return (-row["composite"], -row["centre_score"], -(row.get("ratings") or 0), row.get("badge_no") or "",
            row["person_id"])


def select_people(rows: list[dict], settings: dict) -> tuple[list[dict], list[dict]]:
    """(service models, advanced individuals) by the stated order."""
    eligible = sorted((r for r in rows if person_eligible(r, settings["honour_min_composite"])), key=person_order)
    n_models = settings["honour_service_models"]
    return eligible[:n_models], eligible[n_models:n_models + settings["honour_advanced"]]


def select_windows(rows: list[dict], windows: list[dict], complained_windows: set, settings: dict,
                   charges: dict | None = None, worked: set | None = None) -> list[dict]:
    """Red-flag windows: ``windows`` are {id, number, name, served}; ``served`` is whether the
    window existed on the quarter's first day; staff rows carry ``window_id``; ``worked`` is who
    signed in during the quarter; ``complained_windows`` are windows with a verified complaint
    this year; ``charges`` (window → {violations …}) are substitutes' entries charged to a
    window (S3)."""
    scored = []
    for w in windows:
        if not w["served"]:
            continue  # S7: opened during (or after the start of) the quarter
        staff = [r for r in rows if r.get("window_id") == w["id"]]
        if not staff or w["id"] in complained_windows:
            continue
        if (charges or {}).get(w["id"], {}).get("violations"):
            continue  # S3: a substitute's violation counts against the window it stood in for
        if any(r["complaints"] or r.get("year_complaints", 0) or r["overdue"] or r["violations"]
               or not r.get("award_eligible", True) for r in staff):
            continue
        working = [r for r in staff if worked is not None and r["person_id"] in worked]
        if not working:
            continue  # S7: nobody worked at the window this quarter
        score = mean(r["composite"] for r in working)
        if score < settings["honour_min_composite"]:
            continue
        scored.append({**w, "score": score, "lowest": min(r["composite"] for r in working),
                       "staff": [r["person_id"] for r in working]})
    scored.sort(key=lambda w: (-w["score"], -w["lowest"], w["number"]))
    return scored[:settings["honour_red_flag_windows"]]


def chosen(uow, quarter: str, rows: list[dict], settings: dict,
           charges: dict | None = None) -> tuple[list[dict], list[dict], list[dict]]:
    """(red-flag windows, service models, advanced individuals) of a quarter from its scoreboard
    rows (also what the year-end board adds its honour points from, S5). ``charges``: the
    quarter's ``window_charges`` when the caller has them already."""
    models, advanced = select_people(rows, settings)
    start, end = periods.quarter_bounds(quarter)
    zone = periods.township_zone(uow)
    windows = [{"id": w.id, "number": w.number, "name": w.name,
                "served": w.created_at is not None and local_date(w.created_at, zone) <= start}
               for w in uow.scalars(select(Window).order_by(Window.number))]
    # S5/S7: the complaint veto lasts the year — a window complained about since 1 January
    complained = {c.window_id for c in uow.scalars(select(VerifiedComplaint).where(
        VerifiedComplaint.day >= start.replace(month=1, day=1), VerifiedComplaint.day <= end)) if c.window_id}
    worked = set(uow.scalars(select(AttendanceMark.person_id).where(
        AttendanceMark.kind == "in", AttendanceMark.day >= start, AttendanceMark.day <= end)))
    if charges is None:
        charges = window_charges(uow, quarter)
    return (select_windows(rows, windows, complained, settings, charges, worked),
            models, advanced)


def honours(uow, quarter: str) -> dict:
    settings = RULES.load(uow)
    board = scoreboard(uow, quarter)
    flags, models, advanced = chosen(uow, quarter, board["rows"], settings)

    def person(r):
        return {"person_id": r["person_id"], "name": r["name"], "window": r["window"],
                "composite": r["composite"]}

    periods.parse_quarter(quarter)
    return {
        "quarter": quarter,
        "red_flag_windows": [{"window_id": w["id"], "number": w["number"], "name": w["name"], "score": w["score"]}
                             for w in flags],
        "service_models": [person(r) for r in models],
        "advanced_individuals": [person(r) for r in advanced],
        "tie_rule": "composite, then centre score, then ratings, then badge number; "
                    "windows: mean composite, then lowest staff composite, then window number",
    }


def published_red_flag(uow) -> dict:
    """T1: the red-flag window of the last finished quarter, as the hall's display shows it —
    the window's number and name only; scores and people's honours stay internal (T2)."""
    quarter = periods.previous_quarter(periods.quarter_of(periods.local_today(uow)))
    chosen = honours(uow, quarter)["red_flag_windows"]
    return {"quarter": quarter, "red_flag_windows": [{"number": w["number"], "name": w["name"]} for w in chosen]}
