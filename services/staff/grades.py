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

import io
from dataclasses import dataclass
from statistics import mean

from sqlalchemy import select

from services.common import csvsafe
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

@dataclass
class _Quarter:
    """What one quarter's grades are computed from (S4–S7), each read once."""

    entries: list            # the quarter's score entries
    people: dict             # id -> Person
    ids: set                 # who is graded: the kept people and anyone with an entry
    ratings: dict            # person -> applicants' ratings as points (S5)
    peers: dict              # person -> peer reviews as points (S5)
    complaints: dict         # person -> verified complaints this quarter
    year_complaints: dict    # person -> verified complaints from 1 Jan to the quarter's end (veto)
    year_deducted: dict      # person -> points deducted from 1 Jan to the quarter's end (S7)
    windows: dict            # id -> Window


def _grouped(pairs) -> dict[str, list]:
    out: dict[str, list] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def _counted(keys) -> dict[str, int]:
    out: dict[str, int] = {}
    for key in keys:
        if key:
            out[key] = out.get(key, 0) + 1
    return out


def _read_quarter(uow, quarter: str, settings: dict) -> _Quarter:
    """Step 1: read the quarter's entries, ratings, reviews and complaints, and the year so far."""
    start, end = periods.quarter_bounds(quarter)
    year_start = start.replace(month=1, day=1)
    entries = list(uow.scalars(select(ScoreEntry).where(ScoreEntry.quarter == quarter)))
    year_deducted: dict[str, int] = {}
    for e in uow.scalars(select(ScoreEntry).where(ScoreEntry.day >= year_start, ScoreEntry.day <= end,
                                                  ScoreEntry.points < 0)):
        year_deducted[e.person_id] = year_deducted.get(e.person_id, 0) - e.points
    return _Quarter(
        entries=entries,
        people={p.id: p for p in uow.scalars(select(Person))},
        ids={p.id for p in expected_people(uow, settings)} | {e.person_id for e in entries},
        ratings=_grouped((r.person_id, settings["rating_points"][str(r.rating)]) for r in uow.scalars(
            select(ApplicantRating).where(ApplicantRating.quarter == quarter))),
        peers=_grouped((r.person_id, settings["peer_points"][r.level]) for r in uow.scalars(
            select(PeerReview).where(PeerReview.quarter == quarter))),
        complaints=_counted(c.person_id for c in uow.scalars(
            select(VerifiedComplaint).where(VerifiedComplaint.quarter == quarter))),
        year_complaints=_counted(c.person_id for c in uow.scalars(select(VerifiedComplaint).where(
            VerifiedComplaint.day >= year_start, VerifiedComplaint.day <= end))),
        year_deducted=year_deducted,
        windows={w.id: w for w in uow.scalars(select(Window))},
    )


def _person_row(q: _Quarter, p: Person, settings: dict) -> dict:
    """Step 2: one person's scores — centre score (S4), ratings and peers, composite (S5)."""
    mine = [e for e in q.entries if e.person_id == p.id]
    scored = centre_score([(e.category, e.points) for e in mine], settings["category_caps"],
                          settings["base_points"])
    r_avg = mean(q.ratings[p.id]) if p.id in q.ratings else None
    p_avg = mean(q.peers[p.id]) if p.id in q.peers else None
    return {
        "person_id": p.id, "name": p.name, "badge_no": p.badge_no, "window_id": p.window_id,
        "window": q.windows[p.window_id].number if p.window_id in q.windows else None,
        "home_unit": p.home_unit,
        "centre_score": scored.total, "categories": scored.by_category, "credits": scored.credits,
        "deducted": scored.deducted, "ratings": r_avg, "ratings_count": len(q.ratings.get(p.id, [])),
        "peer": p_avg, "peer_count": len(q.peers.get(p.id, [])),
        "composite": composite(scored.total, r_avg, p_avg, settings),
        "complaints": q.complaints.get(p.id, 0), "year_complaints": q.year_complaints.get(p.id, 0),
        "overdue": sum(1 for e in mine if e.rule_code == "overdue_case"),
        "violations": sum(1 for e in mine if e.points < 0),
        "year_deducted": q.year_deducted.get(p.id, 0),
    }


def _rank_and_grade(rows: dict[str, dict], settings: dict) -> None:
    """Step 3: competition ranks by composite, the complaint veto and the award bar, the grade (S5, S7)."""
    ranks = competition_ranks([r["composite"] for r in rows.values()])
    for row, rank in zip(rows.values(), ranks):
        row["rank"] = rank
        row["vetoed"] = row["year_complaints"] > 0 and settings["complaint_veto"]
        row["award_eligible"] = row["year_deducted"] <= settings["award_max_year_deduction"]
        row["grade"] = grade(row["composite"], settings, rank, row["year_complaints"] > 0,
                             barred=not row["award_eligible"])


def _quarter_rows(uow, quarter: str, settings: dict) -> dict[str, dict]:
    """Every graded person's row of the quarter: read, score each person, rank and grade."""
    q = _read_quarter(uow, quarter, settings)
    rows = {pid: _person_row(q, q.people[pid], settings) for pid in q.ids if pid in q.people}
    _rank_and_grade(rows, settings)
    return rows


def quarter_rows(uow, quarter: str, settings: dict) -> dict[str, dict]:
    """Every graded person's row of a quarter, person id → row (the year-end board's input)."""
    periods.parse_quarter(quarter)
    return _quarter_rows(uow, quarter, settings)


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
    writer = csvsafe.writer(out)
    writer.writerow(["名次", "姓名", "工号", "窗口", "中心考核分", "加分", "群众评议", "窗口互评", "综合得分",
                     "等次", "投诉否决", "年度累计扣分", "可参评奖", "退回派出单位"])
    for r in board["rows"]:
        writer.writerow([
            r["rank"], r["name"], r["badge_no"] or "", r["window"] or "", figure(r["centre_score"]), r["credits"],
            figure(r["ratings"]), figure(r["peer"]), figure(r["composite"]), r["grade"],
            "是" if r["vetoed"] else "", r["year_deducted"], "是" if r["award_eligible"] else "否",
            "是" if r["return_to_home_unit"] else "",
        ])
    return out.getvalue()


def figure(v) -> str:
    """A number as a CSV cell shows it: at most two decimals, no trailing zeros; None → empty."""
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
