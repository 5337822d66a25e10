"""The published statistics (DOMAIN T1): cases' figures joined with complaints' verified
counts, windows ranked, and the CSV export. Plain functions (no nameko): the gateway's
statistics routes call them with what the two services answered.

RANKING (the stated rule): windows that completed at least one case in the period are ranked
by on-time rate (higher first), then satisfaction (higher; no rating ranks below any), then
verified complaints (fewer), then cases completed (more). Windows equal on all four share a
rank (competition ranking 1, 2, 2, 4) and are listed by window number; windows that completed
nothing are listed after them, unranked.
"""
from __future__ import annotations

import csv
import io


def _key(row: dict) -> tuple:
    satisfaction = row["satisfaction"] if row["satisfaction"] is not None else -1.0
    return (-row["on_time_rate"], -satisfaction, row["complaints_verified"], -row["completed"])


def rank_windows(rows: list[dict]) -> list[dict]:
    ranked = sorted((r for r in rows if r["completed"]), key=lambda r: (_key(r), r["number"] or 0))
    rank, previous = 0, None
    for position, row in enumerate(ranked, 1):
        if _key(row) != previous:
            rank, previous = position, _key(row)
        row["rank"] = rank
    rest = sorted((r for r in rows if not r["completed"]), key=lambda r: (r["number"] is None, r["number"] or 0))
    for row in rest:
        row["rank"] = None
    return ranked + rest


def combine(figures: dict, complaints: dict, people: list[dict] | None = None) -> dict:
    """``figures`` from ``cases.statistics``, ``complaints`` from ``complaints.verified_counts``
    (the same month), ``people`` from ``staff.list_people`` (names for the per-person rows)."""
    out = dict(figures)
    out["township"] = {**figures["township"], "complaints_verified": complaints.get("total", 0)}
    by_window = complaints.get("windows", {})
    out["windows"] = rank_windows([{**w, "complaints_verified": by_window.get(w["window_id"], 0)}
                                   for w in figures["windows"]])
    if "people" in figures:
        by_person = complaints.get("people", {})
        known = {p["id"]: p for p in people or []}
        rows = []
        for row in figures["people"]:
            p = known.get(row["person_id"], {})
            rows.append({**row, "name": p.get("name"), "badge_no": p.get("badge_no"),
                         "window_id": p.get("window_id"),
                         "complaints_verified": by_person.get(row["person_id"], 0)})
        for person_id, count in by_person.items():  # complained about, no case in the period
            if person_id not in {r["person_id"] for r in rows}:
                p = known.get(person_id, {})
                rows.append({**_zero(), "person_id": person_id, "name": p.get("name"),
                             "badge_no": p.get("badge_no"), "window_id": p.get("window_id"),
                             "complaints_verified": count})
        out["people"] = sorted(rows, key=lambda r: (r["name"] or "", r["person_id"]))
    return out


def _zero() -> dict:
    return {"received": 0, "completed": 0, "on_time": 0, "late": 0, "tacit_approved": 0, "rated": 0,
            "satisfied": 0, "on_time_rate": None, "avg_working_days": None, "satisfaction": None}


HEADER = ["范围", "名次", "窗口号", "名称", "受理件数", "办结件数", "按时办结", "超期办结", "超时默许",
          "按时办结率", "平均用时(工作日)", "评价数", "满意(4–5分)", "满意率", "被查实投诉"]


def _pct(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _cells(row: dict) -> list:
    return [row["received"], row["completed"], row["on_time"], row["late"], row["tacit_approved"],
            _pct(row["on_time_rate"]), "" if row["avg_working_days"] is None else row["avg_working_days"],
            row["rated"], row["satisfied"], _pct(row["satisfaction"]), row["complaints_verified"]]


def to_csv(stats: dict, township_name: str = "全镇") -> str:
    """One table: the township, then each window (ranked), then each person if present."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerow(["全镇", "", "", township_name, *_cells(stats["township"])])
    for w in stats["windows"]:
        writer.writerow(["窗口", w["rank"] or "", w["number"] or "", w["name"] or "", *_cells(w)])
    for p in stats.get("people", []):
        writer.writerow(["个人", "", "", p["name"] or p["person_id"], *_cells(p)])
    return out.getvalue()
