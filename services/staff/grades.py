"""S5 Grades: the quarterly composite, grades, the complaint veto, return to the home unit,
the yearly bar for awards; the quarterly scoreboard (T2: internal).

* composite = 60 % centre score (S4) + 20 % applicant ratings + 20 % peer review (weights are
  settings). Ratings map 5→95 非常满意, 4→90 满意, 3→80 基本满意, 2 and 1→50; peer reviews
  好 95, 较好 90, 一般 80, 差 50. With no ratings (or no peer reviews) the centre score
  stands in for that part.
* No rounding: ≥ 90 优秀, 70 to < 90 称职, 60 to < 70 基本称职, < 60 不称职 (seed 003).
  Optionally (``excellent_top_n``, default 0 = off; seed 003 says 2) 优秀 also needs a rank
  within the top N; otherwise the grade is 称职.
* A verified complaint bars 优秀 that quarter and for the rest of the year (一票否决, seed 003
  "当季、年均不得评为优秀"): the grade becomes 称职 from the quarter of the complaint to Q4.
* Two 不称职 quarters in a row → flagged for return to the home unit.
* More than 60 points deducted in the year (the sum of deductions as recorded, before category
  caps, up to the quarter's end) → no awards and no honours from then on: no 优秀 either (S5/S7).
"""
from __future__ import annotations

import csv
import io
from statistics import mean

from sqlalchemy import select

from services.common.errors import Conflict, field_error

from . import periods
from .attendance import expected_people
from .models import ApplicantRating, HomeUnitNotice, PeerReview, Person, ScoreEntry, VerifiedComplaint, Window
from .rules import RULES
from .scoring import centre_score

EXCELLENT, COMPETENT, BASIC, UNFIT = "优秀", "称职", "基本称职", "不称职"


# -- pure rules -----------------------------------------------------------------------

def composite(centre: float, ratings: float | None, peer: float | None, settings: dict) -> float:
    """S5 composite; a missing part (no ratings, no peer reviews) is stood in for by the centre score."""
    return (settings["weight_centre"] * centre
            + settings["weight_ratings"] * (centre if ratings is None else ratings)
            + settings["weight_peer"] * (centre if peer is None else peer))


def grade(value: float, settings: dict, rank: int | None = None, vetoed: bool = False,
          barred: bool = False) -> str:
    """S5 thresholds, unrounded; the veto (a verified complaint this year), the 60-point bar
    (``barred``) and the optional top-N rule only ever lower 优秀 to 称职."""
    if value >= settings["grade_excellent"]:
        top_n = settings["excellent_top_n"]
        if (vetoed and settings["complaint_veto"]) or barred:
            return COMPETENT
        if top_n and (rank is None or rank > top_n):
            return COMPETENT
        return EXCELLENT
    if value >= settings["grade_competent"]:
        return COMPETENT
    if value >= settings["grade_basic"]:
        return BASIC
    return UNFIT


def competition_ranks(values: list[float]) -> list[int]:
    """Ranks by value, highest first; equal values share a rank (1, 2, 2, 4)."""
    ordered = sorted(values, reverse=True)
    return [ordered.index(v) + 1 for v in values]


# -- the scoreboard -------------------------------------------------------------------

def _quarter_rows(uow, quarter: str, settings: dict) -> dict[str, dict]:
    start, end = periods.quarter_bounds(quarter)
    entries = list(uow.scalars(select(ScoreEntry).where(ScoreEntry.quarter == quarter)))
    people = {p.id: p for p in uow.scalars(select(Person))}
    ids = {p.id for p in expected_people(uow, settings)} | {e.person_id for e in entries}
    ratings: dict[str, list[float]] = {}
    for r in uow.scalars(select(ApplicantRating).where(ApplicantRating.quarter == quarter)):
        ratings.setdefault(r.person_id, []).append(settings["rating_points"][str(r.rating)])
    peers: dict[str, list[float]] = {}
    for r in uow.scalars(select(PeerReview).where(PeerReview.quarter == quarter)):
        peers.setdefault(r.person_id, []).append(settings["peer_points"][r.level])
    complaints: dict[str, int] = {}
    for c in uow.scalars(select(VerifiedComplaint).where(VerifiedComplaint.quarter == quarter)):
        if c.person_id:
            complaints[c.person_id] = complaints.get(c.person_id, 0) + 1
    year_start = start.replace(month=1, day=1)
    year_complaints: dict[str, int] = {}  # S5 veto: this quarter and the rest of the year
    for c in uow.scalars(select(VerifiedComplaint).where(VerifiedComplaint.day >= year_start,
                                                         VerifiedComplaint.day <= end)):
        if c.person_id:
            year_complaints[c.person_id] = year_complaints.get(c.person_id, 0) + 1
    year_deducted: dict[str, int] = {}
    for e in uow.scalars(select(ScoreEntry).where(ScoreEntry.day >= year_start, ScoreEntry.day <= end,
                                                  ScoreEntry.points < 0)):
        year_deducted[e.person_id] = year_deducted.get(e.person_id, 0) - e.points
    windows = {w.id: w for w in uow.scalars(select(Window))}
    rows = {}
    for pid in ids:
        p = people.get(pid)
        if p is None:
            continue
        mine = [e for e in entries if e.person_id == pid]
        scored = centre_score([(e.category, e.points) for e in mine], settings["category_caps"],
                              settings["base_points"])
        r_avg = mean(ratings[pid]) if pid in ratings else None
        p_avg = mean(peers[pid]) if pid in peers else None
        rows[pid] = {
            "person_id": pid, "name": p.name, "badge_no": p.badge_no, "window_id": p.window_id,
            "window": windows[p.window_id].number if p.window_id in windows else None,
            "home_unit": p.home_unit,
            "centre_score": scored.total, "categories": scored.by_category, "credits": scored.credits,
            "deducted": scored.deducted, "ratings": r_avg, "ratings_count": len(ratings.get(pid, [])),
            "peer": p_avg, "peer_count": len(peers.get(pid, [])),
            "composite": composite(scored.total, r_avg, p_avg, settings),
            "complaints": complaints.get(pid, 0), "year_complaints": year_complaints.get(pid, 0),
            "overdue": sum(1 for e in mine if e.rule_code == "overdue_case"),
            "violations": sum(1 for e in mine if e.points < 0),
            "year_deducted": year_deducted.get(pid, 0),
        }
    ranks = competition_ranks([r["composite"] for r in rows.values()])
    for row, rank in zip(rows.values(), ranks):
        row["rank"] = rank
        row["vetoed"] = row["year_complaints"] > 0 and settings["complaint_veto"]
        row["award_eligible"] = row["year_deducted"] <= settings["award_max_year_deduction"]
        row["grade"] = grade(row["composite"], settings, rank, row["year_complaints"] > 0,
                             barred=not row["award_eligible"])
    return rows


def scoreboard(uow, quarter: str) -> dict:
    """The quarter's scoreboard: every kept person, ordered by composite (highest first)."""
    periods.parse_quarter(quarter)
    settings = RULES.load(uow)
    rows = _quarter_rows(uow, quarter, settings)
    need = settings["unfit_quarters_to_return"]
    history = [rows]
    q = quarter
    for _ in range(need - 1):
        q = periods.previous_quarter(q)
        history.append(_quarter_rows(uow, q, settings))
    for pid, row in rows.items():
        row["return_to_home_unit"] = all(h.get(pid, {}).get("grade") == UNFIT for h in history)
    ordered = sorted(rows.values(), key=lambda r: (-r["composite"], r["badge_no"] or "", r["person_id"]))
    return {"quarter": quarter, "rows": ordered}


def close_quarter(uow, quarter: str) -> dict:
    """Record what the scoreboard flags: return to the home unit after N 不称职 quarters (S5).
    Idempotent per person and quarter."""
    board = scoreboard(uow, quarter)
    start, end = periods.quarter_bounds(quarter)
    if periods.local_today(uow) <= end:
        raise Conflict(f"{quarter} is not over yet")
    made = []
    for row in board["rows"]:
        if row["return_to_home_unit"]:
            cause = f"unfit:{quarter}"
            if not uow.session.scalar(select(HomeUnitNotice.id).where(
                    HomeUnitNotice.person_id == row["person_id"], HomeUnitNotice.cause == cause)):
                uow.session.add(HomeUnitNotice(person_id=row["person_id"], kind="return", cause=cause,
                                               home_unit=row["home_unit"], created_at=uow.now()))
                made.append(row["person_id"])
    uow.session.flush()
    return {"quarter": quarter, "returned": made}


def scoreboard_csv(uow, quarter: str) -> str:
    board = scoreboard(uow, quarter)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["名次", "姓名", "工号", "窗口", "中心考核分", "加分", "群众评议", "窗口互评", "综合得分",
                     "等次", "投诉否决", "年度累计扣分", "可参评奖", "退回派出单位"])
    for r in board["rows"]:
        writer.writerow([
            r["rank"], r["name"], r["badge_no"] or "", r["window"] or "", _num(r["centre_score"]), r["credits"],
            _num(r["ratings"]), _num(r["peer"]), _num(r["composite"]), r["grade"],
            "是" if r["vetoed"] else "", r["year_deducted"], "是" if r["award_eligible"] else "否",
            "是" if r["return_to_home_unit"] else "",
        ])
    return out.getvalue()


def _num(v) -> str:
    if v is None:
        return ""
    return f"{v:.2f}".rstrip("0").rstrip(".")


def submit_peer_review(uow, reviewer_id: str, person_id: str, quarter: str, level: str) -> dict:
    """S5 窗口互评: one review by a colleague of another for a quarter."""
    settings = RULES.load(uow)
    periods.parse_quarter(quarter)
    if quarter > periods.quarter_of(periods.local_today(uow)):
        raise field_error("quarter", "not a future quarter")
    if level not in settings["peer_points"]:
        raise field_error("level", "one of " + ", ".join(settings["peer_points"]))
    target = periods.person(uow, person_id)
    if reviewer_id == target.id:
        raise field_error("person_id", "nobody reviews themselves")
    if uow.session.scalar(select(PeerReview.id).where(
            PeerReview.quarter == quarter, PeerReview.reviewer_id == reviewer_id, PeerReview.person_id == target.id)):
        raise Conflict("already reviewed this colleague for the quarter")
    review = PeerReview(quarter=quarter, reviewer_id=reviewer_id, person_id=target.id, level=level,
                        created_at=uow.now())
    uow.session.add(review)
    uow.session.flush()
    return {"id": review.id, "quarter": quarter, "person_id": target.id, "level": level}
