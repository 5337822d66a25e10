"""S3/S7: what a window answers for when a substitute (顶岗) stands in at it
(``substitutes``: the entries are marked with the window and the leave).

* Charges: the entries of a quarter charged to a window by a substitute who is not on that
  window's own staff (the staff's own entries already count in their composites).
* The windows' scores: each window's score is the mean of its staff's composites (S7) plus
  the points charged to it by substitutes, as recorded (−4 for a substitute's overdue case is
  −4 for the window; seed 004 "扣除窗口的考核分").
* S7: a window with a substitute's violation in the quarter has a violation, so it is not a
  red-flag window that quarter (``honours.select_windows`` takes the charges).
"""
from __future__ import annotations

from statistics import mean

from sqlalchemy import select

from . import periods
from .grades import scoreboard
from .models import Person, ScoreEntry, Window


def charges_from(entries, own_window: dict) -> dict[str, dict]:
    """``entries``: (person_id, window_id, substitute_leave_id, points); ``own_window``:
    person → their window. → window → {points, violations, entries}."""
    out: dict[str, dict] = {}
    for person_id, window_id, leave_id, points in entries:
        if not leave_id or not window_id or own_window.get(person_id) == window_id:
            continue
        c = out.setdefault(window_id, {"points": 0, "violations": 0, "entries": 0})
        c["points"] += points
        c["entries"] += 1
        c["violations"] += points < 0
    return out


def window_charges(uow, quarter: str) -> dict[str, dict]:
    periods.parse_quarter(quarter)
    own = {p.id: p.window_id for p in uow.scalars(select(Person))}
    rows = uow.session.execute(select(ScoreEntry.person_id, ScoreEntry.window_id, ScoreEntry.substitute_leave_id,
                                      ScoreEntry.points).where(ScoreEntry.quarter == quarter,
                                                               ScoreEntry.substitute_leave_id.is_not(None)))
    return charges_from(rows, own)


def window_scores(uow, quarter: str) -> dict:
    """Each window: its staff's mean composite, what substitutes standing in cost it, the score."""
    rows = scoreboard(uow, quarter)["rows"]
    charges = window_charges(uow, quarter)
    out = []
    for w in uow.scalars(select(Window).order_by(Window.number)):
        staff = [r["composite"] for r in rows if r.get("window_id") == w.id]
        c = charges.get(w.id, {"points": 0, "violations": 0, "entries": 0})
        staff_mean = mean(staff) if staff else None
        out.append({"window_id": w.id, "number": w.number, "name": w.name, "staff": len(staff),
                    "staff_mean": staff_mean, "substitute_points": c["points"],
                    "substitute_violations": c["violations"],
                    "score": None if staff_mean is None else staff_mean + c["points"]})
    return {"quarter": quarter, "windows": out}
