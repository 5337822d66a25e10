"""Follow-ups of low ratings (DOMAIN P6, C9): a rating of 1 or 2 from cases (or of a village
agent from intake, I6) opens a follow-up here — call the applicant back and rectify within 15
working days (a setting), tracked to closure."""
from __future__ import annotations

from sqlalchemy import select

from services.common.calendar import load_calendar
from services.common.clock import as_utc, local_date
from services.common.errors import Conflict, field_error

from services.contracts.complaints import FollowUp as FollowUpOut

from .models import FollowUp
from .rules import RULES, follow_up_due, opens_follow_up
from services.contracts import shared

MAX_NOTE = 2000


def on_rating(uow, event: dict) -> FollowUp | None:
    """Effect of ``cases.rating_submitted`` (run once per event id by ``handle_once``):
    a low rating opens one follow-up per case; higher ratings need nothing here."""
    return _open(uow, event, FollowUp.case_id, dict(
        case_id=event["case_id"], handler_person_id=event["handler_person_id"], window_id=event.get("window_id")))


def on_agent_rating(uow, event: dict) -> FollowUp | None:
    """Effect of ``intake.agent_rated`` (I6, once per event id by ``handle_once``): a low rating
    of a village agent opens one follow-up per application, exactly as a low window rating does
    (P6: call the applicant back and rectify within the same N working days). The agent stands
    where the handler does; like a case's follow-up it carries the receipt number and the masked
    comment, never the applicant, and is seen by the complaint desk only."""
    return _open(uow, event, FollowUp.application_id, dict(
        subject="agent", case_id=None, application_id=event["application_id"], agent_id=event["agent_id"],
        handler_person_id=event["agent_person_id"], window_id=None),
        announce=("subject", "application_id", "agent_id"))


def _open(uow, event: dict, key, values: dict, announce: tuple[str, ...] = ()) -> FollowUp | None:
    """A low rating (P6) opens one follow-up per ``key`` (a case, an agent's application), due
    in the setting's working days from the local day of the rating; a higher rating opens none.
    ``values``: the subject's own fields; ``announce``: those the event names besides the usual."""
    rules = RULES.load(uow)
    if not opens_follow_up(event["rating"], rules):
        return None
    existing = uow.session.scalar(select(FollowUp).where(key == values[key.key]))
    if existing is not None:  # followed up once, however often it is rated low
        return existing
    rated_on = local_date(as_utc(event["occurred_at"]), rules["timezone"])
    due = follow_up_due(load_calendar(uow.session, uow.common, uow.township_id), rated_on, rules)
    f = FollowUp(receipt_no=event["receipt_no"], rating=event["rating"], comment=event.get("comment"),
                 source_event_id=event["event_id"], opened_at=uow.now(), due_on=due.day,
                 due_provisional=due.provisional, state="open", **values)
    uow.session.add(f)
    uow.session.flush()
    uow.emit("complaints.follow_up_opened", follow_up_id=f.id, case_id=f.case_id,
             handler_person_id=f.handler_person_id, window_id=f.window_id, due_date=f.due_on.isoformat(),
             **{name: getattr(f, name) for name in announce})
    return f


def _note(value, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise field_error(name, "required")
    if len(value) > MAX_NOTE:
        raise field_error(name, f"at most {MAX_NOTE} characters")
    return value.strip()


def record_callback(uow, follow_up_id: str, note: str) -> dict:
    f = uow.get(FollowUp, follow_up_id, "follow-up")
    if f.state == "closed":
        raise Conflict("the follow-up is closed")
    f.callback_note = _note(note, "note")
    f.called_back_at = uow.now()
    return shared(FollowUpOut).dump(f)


def record_rectification(uow, follow_up_id: str, rectification: str, by: str) -> dict:
    """Rectified; once the applicant was also called back, the follow-up is closed."""
    f = uow.get(FollowUp, follow_up_id, "follow-up")
    if f.state == "closed":
        raise Conflict("the follow-up is closed")
    if f.called_back_at is None:
        raise Conflict("call the applicant back first (C9)", {"called_back_at": ["missing"]})
    f.rectification = _note(rectification, "rectification")
    f.rectified_at = uow.now()
    f.state, f.closed_at, f.closed_by = "closed", uow.now(), by
    return shared(FollowUpOut).dump(f)


def list_follow_ups(uow, state: str | None = None) -> list[dict]:
    stmt = select(FollowUp).order_by(FollowUp.opened_at.desc())
    if state:
        stmt = stmt.where(FollowUp.state == state)
    return shared(FollowUpOut, many=True).dump(uow.scalars(stmt.limit(500)))


def get_follow_up(uow, follow_up_id: str) -> dict:
    return shared(FollowUpOut).dump(uow.get(FollowUp, follow_up_id, "follow-up"))
