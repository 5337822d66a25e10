"""Village agents (村级代办员, DOMAIN I6). Plain functions on a unit of work; no nameko here.

* The register: per township, a person with the ``village_agent`` role and the village they
  serve (seed 002: 行政村设立为民服务代理点).
* A collection: what an agent accepted and registered in the village (seed 001: 由村级代办员负责
  受理、登记). It must reach the centre within ``agent_submission_days`` working days, never
  more than ``agent_submission_max_days`` calendar days (seed 001: 三个工作日内（不超过一周）).
  A reminder goes out ``agent_reminder_days`` working days before; a collection not brought by
  its deadline is overdue, announced once (N1 tells the agent and the directors).
* At the centre a clerk receives it as an application (``applications.submit`` with
  ``collection_id``): the application carries the agent, the village and the mandate, the
  receiving clerk is its first-asked person (I2), and whether it came late is recorded.
* The applicant rates the agent 1–5 like a window (C9's scale, once, by receipt number and
  password or on paper), and the agents have a monthly scoreboard.
"""
from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import func, select

from services.common import csvsafe
from services.common.calendar import Due, load_calendar
from services.common.clock import local_date
from services.common.db import claim
from services.common.errors import Conflict, Forbidden, NotFound, field_error
from services.common.months import month_of, parse_month, utc_span
from services.common.privacy import mask_long_numbers
from services.contracts import intake as contract, shared
from services.contracts.intake_input import (AgentCollectionIn, AgentRatingIn, AgentRemovalIn,
                                             CollectionWithdrawalIn, VillageAgentIn, load)

from .models import AgentCollection, Application, CatalogueItem, OrgName, VillageAgent

#: C9's scale, which applicants also rate agents on (seed 002: 作为对中心工作人员和村代办员工作质量考评的依据)
LABELS = {1: "非常不满意", 2: "不满意", 3: "基本满意", 4: "满意", 5: "非常满意"}
#: S5's mapping of a rating to points (seed 004's scale), for the agents' scoreboard
POINTS = {5: 95, 4: 90, 3: 80, 2: 50, 1: 50}
CHANNELS = ("online", "paper")
#: C9 / P6: 1–2 (不满意, 非常不满意) is followed up (complaints decides with its own setting)
LOW_RATING = 2


# -- the rule (pure) ---------------------------------------------------------------

def submission_due(calendar, collected_on: date, days: int, max_days: int) -> Due:
    """I6: collected on ``collected_on`` → due at the close of the ``days``-th working day after
    it (C2, Art. 201), but never later than ``max_days`` calendar days (seed 001 不超过一周; a last
    day that is not a working day rolls over, Art. 203)."""
    working = calendar.add_working_days(collected_on, days)
    capped = calendar.add_calendar_days(collected_on, max_days)
    return capped if capped.day < working.day else working


def remind_on(calendar, collected_on: date, due_on: date, before: int) -> date:
    """The working day ``before`` working days ahead of the deadline (not before collection)."""
    day, left = due_on, before
    while left > 0 and day > collected_on:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            left -= 1
    return max(day, collected_on)


def is_late(due_on: date, submitted_on: date) -> bool:
    """I6: brought to the centre after the close of its deadline day."""
    return submitted_on > due_on


# -- the register ------------------------------------------------------------------

def register(uow, by_person_id: str, data: dict) -> dict:
    """A director registers a village agent: an active person of this township (intake's copy of
    the organisation) with the ``village_agent`` role. Registering again changes the village."""
    data = load(VillageAgentIn, data)
    person = uow.session.scalar(select(OrgName).where(OrgName.entity == "person",
                                                      OrgName.entity_id == data["person_id"]))
    extra = (person.extra or {}) if person is not None else {}
    if person is None or not extra.get("active", True):
        raise field_error("person_id", "not an active person of this township")
    if "village_agent" not in (extra.get("roles") or []):
        raise field_error("person_id", "the person does not have the village_agent role")
    agent = uow.session.scalar(select(VillageAgent).where(VillageAgent.person_id == person.entity_id))
    if agent is None:
        agent = VillageAgent(person_id=person.entity_id, name=person.name, village=data["village"],
                             active=True, registered_at=uow.now(), registered_by=by_person_id)
        uow.session.add(agent)
    else:
        agent.village, agent.name, agent.active = data["village"], person.name, True
        agent.removed_at = agent.removed_by = agent.removal_reason = None  # registered again
    uow.session.flush()
    return shared(contract.VillageAgent).dump(agent)


def remove(uow, by_person_id: str, agent_id: str, data: dict) -> dict:
    """A director removes an agent from the register (I6), with the reason on record: they record
    no new collection (``agent_of``); what they collected and did not bring stays listed, tracked
    (reminder, overdue) and can still be received at the centre or withdrawn."""
    data = load(AgentRemovalIn, data)
    agent = uow.get(VillageAgent, agent_id, "village agent")
    if not agent.active:
        raise Conflict("this agent was already removed from the register", {"active": [False]})
    agent.active, agent.removed_at, agent.removed_by = False, uow.now(), by_person_id
    agent.removal_reason = data["reason"]
    uow.session.flush()
    still_out = uow.session.scalar(select(func.count()).select_from(AgentCollection).where(
        AgentCollection.agent_id == agent.id, AgentCollection.status == "collected"))
    return shared(contract.AgentRemoval).dump({**shared(contract.VillageAgent).dump(agent), "open_collections": still_out})


def list_agents(uow) -> list[dict]:
    rows = uow.scalars(select(VillageAgent).order_by(VillageAgent.village, VillageAgent.name))
    return shared(contract.VillageAgent, many=True).dump(rows)


def agent_of(uow, person_id: str | None) -> VillageAgent:
    agent = uow.session.scalar(select(VillageAgent).where(VillageAgent.person_id == person_id)) \
        if person_id else None
    person = uow.find(OrgName, person_id) if agent is not None else None
    still = person is not None and (person.extra or {}).get("active", True) and \
        "village_agent" in ((person.extra or {}).get("roles") or ["village_agent"])
    if agent is None or not agent.active or not still:
        raise Forbidden("only a registered village agent of this township records a collection (I6)")
    return agent


# -- collections -------------------------------------------------------------------

def record_collection(uow, person_id: str, data: dict, settings: dict) -> dict:
    """The agent registers what they collected in the village; its deadline is fixed now."""
    agent = agent_of(uow, person_id)
    data = load(AgentCollectionIn, data)
    item = uow.session.scalar(select(CatalogueItem.id).where(
        CatalogueItem.code == data["item_code"], CatalogueItem.current.is_(True), CatalogueItem.published.is_(True)))
    if item is None:
        raise field_error("item_code", "not a published item of this township's catalogue")
    today = local_date(uow.now(), settings["timezone"])
    collected_on = data.get("collected_on") or today
    if collected_on > today:
        raise field_error("collected_on", "not a day in the future")
    if collected_on < today - timedelta(days=settings["agent_submission_max_days"]):
        raise field_error("collected_on", "older than the longest submission period: bring it in now")
    calendar = load_calendar(uow.session, uow.common, uow.township_id)
    due = submission_due(calendar, collected_on, settings["agent_submission_days"],
                         settings["agent_submission_max_days"])
    row = AgentCollection(
        agent_id=agent.id, agent_person_id=agent.person_id, village=agent.village,
        item_code=data["item_code"], applicant_name=data["applicant_name"], mandate_no=data["mandate_no"],
        note=data.get("note"), collected_on=collected_on, due_on=due.day, due_provisional=due.provisional,
        remind_on=remind_on(calendar, collected_on, due.day, settings["agent_reminder_days"]),
        submission_days=settings["agent_submission_days"], submission_max_days=settings["agent_submission_max_days"],
        status="collected", recorded_at=uow.now())
    uow.session.add(row)
    uow.session.flush()
    return dump_collection(row, today, full=True)


def dump_collection(row: AgentCollection, today: date, full: bool) -> dict:
    out = contract.AgentCollection(full=full, exclude=("overdue",)).dump(row)
    out["overdue"] = row.status == "collected" and today > row.due_on
    return out


def list_collections(uow, settings: dict, full: bool, agent_person_id: str | None = None,
                     status: str | None = None, overdue: bool = False) -> list[dict]:
    """The collections (an agent sees their own); ``overdue``: not brought by their deadline."""
    today = local_date(uow.now(), settings["timezone"])
    stmt = select(AgentCollection).order_by(AgentCollection.due_on, AgentCollection.recorded_at)
    if agent_person_id:
        stmt = stmt.where(AgentCollection.agent_person_id == agent_person_id)
    if overdue:
        stmt = stmt.where(AgentCollection.status == "collected", AgentCollection.due_on < today)
    elif status:
        stmt = stmt.where(AgentCollection.status == status)
    return [dump_collection(r, today, full) for r in uow.scalars(stmt.limit(500))]


def withdraw(uow, collection_id: str, by_person_id: str, data: dict, settings: dict, full: bool,
             own: bool) -> dict:
    """A collection not yet received at the centre is withdrawn (the applicant changed their mind,
    a duplicate …) with the reason on record (I6); it is no longer due, reminded or overdue.
    ``own``: the caller is an agent, who withdraws only what they collected themselves."""
    data = load(CollectionWithdrawalIn, data)
    row = uow.find(AgentCollection, collection_id)
    if row is None or (own and row.agent_person_id != by_person_id):
        raise NotFound(f"collection {collection_id} not found")
    if row.status != "collected" or not claim(
            uow.session, AgentCollection, row.id, {"status": "collected"},
            {"status": "withdrawn", "withdrawn_at": uow.now(), "withdrawn_by": by_person_id,
             "withdrawal_reason": data["reason"]}):
        uow.session.refresh(row)
        raise Conflict("only a collection not yet received at the centre is withdrawn", {"status": [row.status]})
    uow.session.refresh(row)
    return dump_collection(row, local_date(uow.now(), settings["timezone"]), full)


def take(uow, collection_id: str, item_code: str, today: date) -> AgentCollection:
    """A clerk receives a collection as an application: claimed once (two clerks cannot both)."""
    row = uow.find(AgentCollection, collection_id)
    if row is None:
        raise field_error("collection_id", "no such collection of this township")
    if row.status == "withdrawn":
        raise Conflict("this collection was withdrawn", {"collection_id": [row.status]})
    if row.status != "collected":
        raise Conflict("this collection was already received at the centre", {"collection_id": [row.status]})
    if row.item_code != item_code:
        raise field_error("collection_id", f"the agent collected item {row.item_code}, not {item_code}")
    if not claim(uow.session, AgentCollection, row.id, {"status": "collected"},
                 {"status": "submitted", "submitted_on": today, "submitted_at": uow.now(),
                  "late": is_late(row.due_on, today)}):
        raise Conflict("this collection was already received at the centre", {"collection_id": ["submitted"]})
    uow.session.refresh(row)
    return row


def link(uow, row: AgentCollection, app: Application) -> None:
    """The application carries the agent, the village, the mandate and the agent's deadline."""
    agent = uow.session.get(VillageAgent, row.agent_id)
    row.application_id = app.id
    app.proxy = True
    app.agent_id, app.agent_person_id, app.agent_name = row.agent_id, row.agent_person_id, agent.name
    app.village, app.collected_on, app.agent_due_on, app.agent_late = \
        row.village, row.collected_on, row.due_on, row.late
    app.mandate_no = app.mandate_no or row.mandate_no


# -- the sweep: reminder and overdue (N1 tells the people) ----------------------------

def due_for_reminder(uow, latest: date) -> list[tuple[str, str]]:
    rows = uow.session.execute(select(AgentCollection.township_id, AgentCollection.id).where(
        AgentCollection.status == "collected", AgentCollection.reminded_at.is_(None),
        AgentCollection.remind_on <= latest)).all()
    return [(t, i) for t, i in rows]


def due_for_overdue(uow, latest: date) -> list[tuple[str, str]]:
    """C2: a provisional deadline is held until the year is loaded (recompute.py firms it up)."""
    rows = uow.session.execute(select(AgentCollection.township_id, AgentCollection.id).where(
        AgentCollection.status == "collected", AgentCollection.overdue_at.is_(None),
        AgentCollection.due_provisional.is_not(True), AgentCollection.due_on < latest)).all()
    return [(t, i) for t, i in rows]


def _announce(uow, row: AgentCollection, event_type: str) -> None:
    uow.emit(event_type, collection_id=row.id, agent_id=row.agent_id, agent_person_id=row.agent_person_id,
             village=row.village, item_code=row.item_code, collected_on=row.collected_on.isoformat(),
             due_on=row.due_on.isoformat(), provisional=row.due_provisional)


def remind(uow, collection_id: str, settings: dict) -> bool:
    """From ``remind_on`` (township's local date) up to the deadline, once."""
    row = uow.find(AgentCollection, collection_id)
    today = local_date(uow.now(), settings["timezone"])
    if row is None or row.status != "collected" or row.reminded_at is not None:
        return False
    if not row.remind_on <= today <= row.due_on:
        return False
    if not claim(uow.session, AgentCollection, row.id, {"status": "collected", "reminded_at": None},
                 {"reminded_at": uow.now()}):
        return False
    _announce(uow, row, "intake.agent_submission_reminder")
    return True


def mark_overdue(uow, collection_id: str, settings: dict) -> bool:
    """The day after the deadline, still not brought: overdue, announced once. Never on a
    provisional deadline (C2: nothing irreversible on a provisional day; the reminder may go out):
    it waits until the year is loaded and the deadline recomputed firm."""
    row = uow.find(AgentCollection, collection_id)
    today = local_date(uow.now(), settings["timezone"])
    if row is None or row.status != "collected" or row.overdue_at is not None or today <= row.due_on:
        return False
    if row.due_provisional:
        return False
    if not claim(uow.session, AgentCollection, row.id, {"status": "collected", "overdue_at": None},
                 {"overdue_at": uow.now()}):
        return False
    _announce(uow, row, "intake.agent_submission_overdue")
    return True


# -- rating ------------------------------------------------------------------------

def rate(uow, rating, comment=None, application_id: str | None = None, receipt_no: str | None = None,
         channel: str = "online") -> dict:
    """I6 with C9's scale: the applicant rates the agent who brought the application, once."""
    data = load(AgentRatingIn, {"rating": rating, "comment": comment})
    if channel not in CHANNELS:
        raise field_error("channel", "one of " + ", ".join(CHANNELS))
    if application_id:
        app = uow.get(Application, application_id, "application")
    else:
        app = uow.session.scalar(select(Application).where(Application.receipt_no == str(receipt_no or "")))
        if app is None:
            raise NotFound("application not found")
    if not app.agent_id:
        raise Conflict("this application was not brought by a village agent", {"agent_id": [None]})
    if app.agent_rating is not None:
        raise Conflict("the agent has already been rated for this application", {"agent_rating": ["rated"]})
    app.agent_rating, app.agent_rating_comment = data["rating"], data.get("comment")
    app.agent_rating_channel, app.agent_rated_at = channel, uow.now()
    uow.session.flush()
    # P6: a 1–2 is followed up in complaints like a low window rating (no applicant data)
    uow.emit("intake.agent_rated", application_id=app.id, receipt_no=app.receipt_no or "", agent_id=app.agent_id,
             agent_person_id=app.agent_person_id, village=app.village, rating=app.agent_rating,
             comment=mask_long_numbers(app.agent_rating_comment), channel=channel,
             follow_up=app.agent_rating <= LOW_RATING)
    return shared(contract.AgentRating).dump({"application_id": app.id, "agent_id": app.agent_id,
                                        "rating": app.agent_rating, "label": LABELS[app.agent_rating]})


# -- the agents' scoreboard -----------------------------------------------------------

def scoreboard(uow, month: str | None, settings: dict) -> dict:
    """A month (local) per agent: collected that month; of those brought in, on time and late;
    still out past their deadline today; the applicants' ratings given that month (mean, share of
    4–5, S5 points). Ranked by on-time rate, then satisfaction, then work brought in; an agent
    with nothing to judge ranks last."""
    tz = settings["timezone"]
    today = local_date(uow.now(), tz)
    month = month or month_of(today)
    first, last = parse_month(month)
    start, end = utc_span(first, last, tz)
    lines = {a.id: {"agent_id": a.id, "person_id": a.person_id, "name": a.name, "village": a.village,
                    "collected": 0, "submitted": 0, "on_time": 0, "late": 0, "overdue_open": 0, "scores": []}
             for a in uow.scalars(select(VillageAgent))}
    for c in uow.scalars(select(AgentCollection).where(AgentCollection.collected_on >= first,
                                                       AgentCollection.collected_on <= last)):
        line = lines.get(c.agent_id)
        if line is None or c.status == "withdrawn":  # I6: a withdrawn collection is not work collected
            continue
        line["collected"] += 1
        if c.status == "submitted":
            line["submitted"] += 1
            line["late" if c.late else "on_time"] += 1
        elif today > c.due_on:
            line["overdue_open"] += 1
    for agent_id, rating in uow.session.execute(select(Application.agent_id, Application.agent_rating).where(
            Application.agent_rating.is_not(None), Application.agent_rated_at >= start,
            Application.agent_rated_at < end)):
        if agent_id in lines:
            lines[agent_id]["scores"].append(rating)
    rows = []
    for line in lines.values():
        scores = line.pop("scores")
        judged = line["submitted"] + line["overdue_open"]
        line["on_time_rate"] = round(line["on_time"] / judged, 4) if judged else None
        line["ratings"] = len(scores)
        line["mean_rating"] = round(sum(scores) / len(scores), 2) if scores else None
        line["satisfaction"] = round(sum(1 for s in scores if s >= 4) / len(scores), 4) if scores else None
        line["rating_points"] = round(sum(POINTS[s] for s in scores) / len(scores), 2) if scores else None
        rows.append(line)
    rows.sort(key=lambda r: (r["on_time_rate"] is None, -(r["on_time_rate"] or 0), -(r["satisfaction"] or 0),
                             -r["submitted"], r["village"], r["name"]))
    for n, r in enumerate(rows, 1):
        r["rank"] = n
    return shared(contract.AgentScoreboard).dump({"month": month, "agents": rows})


CSV_HEADER = ["名次", "代办员", "村（代理点）", "本月收件", "已报送", "按时报送", "逾期报送", "超期未报送",
              "按时率", "评价数", "平均评分", "满意率", "评价折算分"]


def scoreboard_csv(board: dict) -> str:
    """The scoreboard as CSV text with a BOM (UTF-8, opens in a spreadsheet); every cell through
    ``csvsafe`` (a name beginning with ``=`` stays text)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csvsafe.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)

    def pct(v):
        return "" if v is None else f"{v * 100:.1f}%"

    for r in board["agents"]:
        writer.writerow([r["rank"], r["name"], r["village"], r["collected"], r["submitted"], r["on_time"],
                         r["late"], r["overdue_open"], pct(r["on_time_rate"]), r["ratings"],
                         "" if r["mean_rating"] is None else r["mean_rating"], pct(r["satisfaction"]),
                         "" if r["rating_points"] is None else r["rating_points"]])
    return out.getvalue()
