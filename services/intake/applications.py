"""Applications (申请): classification into the six kinds (I5), the one-time notice (I3),
receipts (I4), returns with sign-off (I5 退回件, 否定报备), supplements and C12's deemed
acceptance. Plain functions on a unit of work; no nameko here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import bindparam, select, update

from services.common.calendar import load_calendar
from services.common.clock import local_date
from services.common.db import new_id
from services.common.errors import Conflict, Forbidden, ValidationFailed, field_error

from services.common.privacy import mask_phone
from services.contracts import intake as contract, shared

from . import agents, receipts
from .catalogue import current_item
from .models import Application, CatalogueItem, Notice, NoticeViolationRecord
from .rules import RULES
from services.contracts.intake_input import ApplicationIn, load

OPEN_CASE_END_STATES = {"delivered", "withdrawn", "closed", "rejected", "completed"}


# -- I5 classification (pure) -------------------------------------------------

@dataclass(frozen=True)
class Classification:
    kind: str                      # immediate promised supplement returned joint escalated
    target_kind: str               # what the case is once its materials are complete
    missing: list = field(default_factory=list)       # I3: catalogue minus submitted, in catalogue order
    missing_main: list = field(default_factory=list)  # main materials the applicant does not have
    reason: str | None = None      # a return's written reason


def target_kind(item: dict, joint_threshold: int) -> str:
    """I5: authority above the township → escalated (上报件); departments involved at or above
    the township's threshold (default 2) → joint (联办件); else the item's default kind."""
    if item["level"] == "county":
        return "escalated"
    if len(item.get("departments") or []) >= joint_threshold:
        return "joint"
    return item["default_kind"]


def classify(item: dict, brought, present=(), joint_threshold: int = 2,
             against_policy: str | None = None) -> Classification:
    """I5 (seed 002 六件管理制度): materials checked against the catalogue version.

    * a main material (主件) neither brought nor present → returned (退回件, 缺少主件);
    * the clerk finds it clearly against policy → returned with that reason;
    * a main material present but not brought, or an attachment (附件) missing → supplement
      (补办件); the notice lists every missing material (I3);
    * complete → the target kind (escalated, joint, immediate or promised).
    """
    names = [m["name"] for m in item["materials"]]
    brought, present = list(brought or []), list(present or [])
    unknown = [n for n in brought if n not in names]
    if unknown:
        raise field_error("materials_brought", f"not materials of this item: {', '.join(unknown)}")
    unknown = [n for n in present if n not in names]
    if unknown:
        raise field_error("materials_present", f"not materials of this item: {', '.join(unknown)}")
    target = target_kind(item, joint_threshold)
    missing = [m["name"] for m in item["materials"] if m["name"] not in brought]
    missing_main = [m["name"] for m in item["materials"]
                    if m["main"] and m["name"] not in brought and m["name"] not in present]
    if against_policy:
        return Classification("returned", target, missing, missing_main, against_policy)
    if missing_main:
        return Classification("returned", target, missing, missing_main,
                              "缺少主件：" + "、".join(missing_main))
    if missing:
        return Classification("supplement", target, missing, [])
    return Classification(target, target, [], [])


# -- records -----------------------------------------------------------------

class Context:
    """What the rules of one call need: settings, the calendar, today's local date."""

    def __init__(self, uow, settings: dict):
        self.uow = uow
        self.settings = settings
        self.tz = settings["timezone"]
        self.now = uow.now()
        self.today = local_date(self.now, self.tz)

    @property
    def calendar(self):
        """Read once per unit of work (``load_calendar`` keeps it for the transaction)."""
        return load_calendar(self.uow.session, self.uow.common, self.uow.township_id)


# -- submission ----------------------------------------------------------------

def _rules_of(item: CatalogueItem) -> dict:
    """What ``classify`` reads of a catalogue item (dumping the whole item cost more, issue 9)."""
    return {"materials": [{"name": m["name"], "main": bool(m.get("main"))} for m in item.materials or []],
            "level": item.level, "departments": list(item.departments or []), "default_kind": item.default_kind}


def submit(uow, person_id: str, data: dict, settings: dict, names_of=None) -> dict:
    """A clerk receives an application (I3–I5). Returns the application, and for an accepted
    one the receipt with its password (shown once), for a supplement the one-time notice.
    ``names_of(ids)``: the names of the clerk and the item's window for the receipt (read once
    the item is known: the catalogue item is read once per submission)."""
    if not person_id:
        raise Forbidden("only a person of the township can receive an application")
    data = load(ApplicationIn, data)
    ctx = Context(uow, settings)
    item = current_item(uow, data["item_code"])
    if not item.published:
        raise Conflict(f"catalogue item {item.code} is withdrawn", {"item_code": ["not published"]})
    names = names_of([person_id, item.window_id]) if names_of else {}
    c = classify(_rules_of(item), data["materials_brought"], data["materials_present"],
                 settings["joint_threshold"], data.get("return_reason"))
    applicant = data["applicant"]
    collection = None
    if data.get("collection_id"):  # I6: brought by a village agent; the receiving clerk is first asked
        collection = agents.take(uow, data["collection_id"], item.code, ctx.today)
        data["first_asked_person_id"] = person_id
    app = Application(
        id=new_id(), item_id=item.id, item_code=item.code, item_version=item.version,
        applicant_name=applicant["name"], applicant_phone=applicant["phone"],
        applicant_id_no=applicant["id_no"].upper(),
        materials_brought=list(dict.fromkeys(data["materials_brought"])),
        materials_present=list(dict.fromkeys(data["materials_present"])),
        materials_arrived=[], missing=c.missing,
        first_asked_person_id=data.get("first_asked_person_id") or person_id,
        handler_person_id=person_id, window_id=item.window_id,
        proxy=data["proxy"], agent_person_id=data.get("agent_person_id"),
        agent_name=data.get("agent_name"), mandate_no=data.get("mandate_no") if data["proxy"] else None,
        kind=c.kind, target_kind=c.target_kind, status="received",
        received_at=ctx.now, received_on=ctx.today,
        notice_due_on=ctx.calendar.add_working_days(ctx.today, settings["supplement_notice_days"]).day,
    )
    # written once its outcome is known (its id given here): one INSERT, not an INSERT then an
    # UPDATE (issue 9)
    uow.session.add(app)
    if collection is not None:
        agents.link(uow, collection, app)
        uow.session.flush()
    out = {"application": None, "receipt": None, "notice": None}
    if c.kind == "returned":
        out["notice"] = _request_return(ctx, app, item, person_id, c.reason, c.missing_main)
    elif c.kind == "supplement" and data["issue_notice"]:
        out["notice"] = _supplement_notice(ctx, app, person_id, late=False)
        out["receipt"] = _accept(ctx, app, item, "supplement", names)
    elif c.kind == "supplement":
        pass  # received; C12: the notice is due by notice_due_on
    else:
        out["receipt"] = _accept(ctx, app, item, c.kind, names)
    uow.session.flush()  # written, with its defaults, before it is shown
    out["application"] = shared(contract.Application, full=True).dump(app)
    return out


def _supplement_notice(ctx: Context, app: Application, person_id: str, late: bool) -> dict:
    """I3: ONE notice listing EVERY missing material (catalogue minus submitted)."""
    notice = Notice(application_id=app.id, kind="supplement", missing=list(app.missing),
                    issued_at=ctx.now, issued_by=person_id, late=late)
    ctx.uow.session.add(notice)
    app.notice_issued_at = ctx.now
    ctx.uow.session.flush()
    return shared(contract.Notice).dump(notice)


def _accept(ctx: Context, app: Application, item: CatalogueItem, kind: str, names=None,
            accepted_on=None, deemed: bool = False) -> dict:
    """Acceptance (受理): receipt number and password (I4), the promised date for a case whose
    clock runs (Art. 201 counting from ``accepted_on``), and ``intake.application_accepted``."""
    # C2a: what arrives on a day the hall is closed (online, kiosk, agent) is received that day
    # and accepted on the next working day, from which its period counts (C2)
    accepted_on = ctx.calendar.hall_day(accepted_on or ctx.today)
    app.kind = kind
    app.accepted_at = ctx.now
    app.accepted_on = accepted_on
    app.deemed_accepted = deemed
    app.status = "supplement" if kind == "supplement" else "accepted"
    if kind != "supplement":
        due = ctx.calendar.add_working_days(accepted_on, promised_days(item, kind, ctx.settings))
        app.promised_date, app.promised_provisional = due.day, due.provisional
    password = receipts.issue(app, ctx.today)
    ctx.uow.session.flush()
    ctx.uow.emit(
        "intake.application_accepted",
        application_id=app.id, receipt_no=app.receipt_no, item_code=item.code,
        item_version=item.version, item_name=item.name, kind=kind, window_id=item.window_id,
        handler_person_id=app.handler_person_id, first_asked_person_id=app.first_asked_person_id,
        accepted_at=ctx.now.isoformat(), accepted_on=accepted_on.isoformat(), deemed_accepted=deemed,
        promised_days=promised_days(item, kind, ctx.settings), tacit_approval=item.tacit_approval,
        departments=list(item.departments or []), fee_cents=item.fee_cents, fee_basis=item.fee_basis,
        proxy=app.proxy, mandate_no=app.mandate_no, major=item.major,
    )
    return receipt_document(ctx, app, item, password, names)


def promised_days(item: CatalogueItem, kind: str, settings: dict) -> int:
    """I5: an immediate case promises 0 days (decided the day it is accepted); an escalated case
    (上报件) promises its forwarding date (上报时限, default 3 working days) — what the county
    decides afterwards is not the centre's promise."""
    if kind == "immediate":
        return 0
    if kind == "escalated":
        return settings["escalation_forward_days"]
    return item.promised_days


def receipt_document(ctx: Context, app: Application, item: CatalogueItem, password: str,
                     names=None) -> dict:
    """I4 受理通知单: everything the applicant takes home. The password appears here only."""
    names = names or {}
    settings = ctx.settings
    return shared(contract.Receipt).dump({
        "receipt_no": app.receipt_no,
        "query_password": password,
        "applicant_name": app.applicant_name,
        "applicant_phone": mask_phone(app.applicant_phone),
        "item": {"code": item.code, "name": item.name, "version": item.version},
        "kind": app.kind,
        "window": {"id": item.window_id, "name": names.get(item.window_id)},
        "handler": {"id": app.handler_person_id, "name": names.get(app.handler_person_id)},
        "accepted_at": app.accepted_at,
        "accepted_on": app.accepted_on,
        "received_on": app.received_on,
        "deemed_accepted": app.deemed_accepted,
        "promised_date": app.promised_date,
        "promised_provisional": app.promised_provisional,
        "promise": _promise_text(app, item, settings),
        "fee_cents": item.fee_cents, "fee_basis": item.fee_basis,
        "outstanding_materials": [m for m in app.missing or [] if m not in (app.materials_arrived or [])],
        "channels": settings["receipt_channels"],
    })


def _promise_text(app, item, settings) -> str:
    deferred = ""
    if app.accepted_on and app.received_on and app.accepted_on > app.received_on and not app.deemed_accepted:
        deferred = f"非工作日收件，顺延至 {app.accepted_on.isoformat()} 受理（C2a）；"
    if app.kind == "supplement":
        return deferred + f"补齐材料之日起 {item.promised_days} 个工作日内办结"
    if app.kind == "immediate":
        return deferred + f"即收即办，{settings['immediate_target_minutes']} 分钟内办结，最迟受理当日"
    if app.kind == "escalated":
        return deferred + (f"上报件：{app.promised_date.isoformat()} 前报送上级（{settings['escalation_forward_days']} "
                           "个工作日），上级答复后办结并告知")
    label = {"promised": "承诺办结", "joint": "联办办结"}.get(app.kind, "办结")
    return deferred + f"{label}：{app.promised_date.isoformat()} 前（{item.promised_days} 个工作日）"


# -- I3 / C12: notice issued after receiving ------------------------------------------

def issue_notice(uow, application_id: str, person_id: str, settings: dict, names=None) -> dict:
    """Process a received application (status ``received``): issue its one-time supplement
    notice — or accept it if nothing is missing. C12: a notice issued after ``notice_due_on``
    (5 working days after the materials arrived, a setting) means the application counts as
    accepted from the day the materials arrived (``deemed_accepted``)."""
    ctx = Context(uow, settings)
    app = uow.get(Application, application_id, "application")
    if app.status != "received":
        raise Conflict(f"application is {app.status}: the one-time notice is issued once (I3)",
                       {"status": [app.status]})
    item = uow.get(CatalogueItem, app.item_id, "catalogue item")
    if not app.missing:
        receipt = _accept(ctx, app, item, app.target_kind, names)
        return {"application": shared(contract.Application, full=True).dump(app), "notice": None, "receipt": receipt}
    late = ctx.today > app.notice_due_on
    notice = _supplement_notice(ctx, app, person_id, late=late)
    if late:
        receipt = _accept(ctx, app, item, app.target_kind, names, accepted_on=app.received_on, deemed=True)
    else:
        # accepted today as a supplement: the clock waits for the materials (cases reads an
        # accepted_on before the recorded day as deemed acceptance, which this is not)
        receipt = _accept(ctx, app, item, "supplement", names)
    return {"application": shared(contract.Application, full=True).dump(app), "notice": notice, "receipt": receipt}


def deem_overdue(uow, application_id: str, settings: dict) -> bool:
    """C12 sweep: no notice by ``notice_due_on`` → accepted from the day the materials arrived.
    The row is claimed atomically (a timer may run in several instances)."""
    from services.common.db import claim

    ctx = Context(uow, settings)
    app = uow.get(Application, application_id, "application")
    if app.status != "received" or not app.missing or ctx.today <= app.notice_due_on:
        return False
    if not claim(uow.session, Application, app.id, {"status": "received"}, {"status": "accepted"}):
        return False
    uow.session.refresh(app)
    item = uow.get(CatalogueItem, app.item_id, "catalogue item")
    _accept(ctx, app, item, app.target_kind, accepted_on=app.received_on, deemed=True)
    return True


def overdue_received(uow, today) -> list[tuple[str, str]]:
    """(township_id, application_id) of received applications whose notice is overdue."""
    rows = uow.session.execute(
        select(Application.township_id, Application.id)
        .where(Application.status == "received", Application.notice_due_on < today)
    ).all()
    return [(t, i) for t, i in rows]


# -- supplement: materials arrive ------------------------------------------------

def record_arrival(uow, application_id: str, person_id: str, materials, settings: dict) -> dict:
    """Materials on the notice arrive. When the last one does, a supplement becomes its target
    kind and its clock starts (I5 补办件, seed 002): ``intake.materials_completed``. For an
    application deemed accepted (C12) the clock already runs: arrival is only recorded."""
    ctx = Context(uow, settings)
    app = uow.get(Application, application_id, "application")
    if app.status == "received":
        raise Conflict("issue the one-time notice first (I3)", {"status": ["received"]})
    if app.status not in ("supplement", "accepted"):
        raise Conflict(f"application is {app.status}", {"status": [app.status]})
    materials = list(dict.fromkeys(materials or []))
    if not materials:
        raise field_error("materials", "name at least one material")
    outstanding = [m for m in app.missing or [] if m not in (app.materials_arrived or [])]
    wrong = [m for m in materials if m not in outstanding]
    if wrong:
        raise field_error("materials", f"not outstanding on the notice: {', '.join(wrong)}")
    app.materials_arrived = list(app.materials_arrived or []) + materials
    if len(materials) < len(outstanding):
        uow.session.flush()
        return shared(contract.Application, full=True).dump(app)
    app.completed_at = ctx.now
    if app.status == "supplement":
        item = uow.get(CatalogueItem, app.item_id, "catalogue item")
        app.status, app.kind = "accepted", app.target_kind
        due = ctx.calendar.add_working_days(ctx.calendar.hall_day(ctx.today), promised_days(item, app.kind, ctx.settings))
        app.promised_date, app.promised_provisional = due.day, due.provisional
        uow.emit("intake.materials_completed", application_id=app.id, completed_at=ctx.now.isoformat(),
                 completed_on=ctx.today.isoformat(), kind=app.target_kind)
    uow.session.flush()
    return shared(contract.Application, full=True).dump(app)


# -- I3: a later request -------------------------------------------------------

def request_material(uow, application_id: str, person_id: str, material: str) -> dict:
    """A clerk asks for a material after the one-time notice. Allowed only for a material on
    that notice (a reminder). Anything else — not on the catalogue item at all, or required but
    not on the first notice — is refused and recorded against the clerk
    (``intake.notice_violation``, scored in S4). The caller commits the record, then refuses."""
    app = uow.get(Application, application_id, "application")
    if app.status in ("returned", "return_pending"):
        raise Conflict(f"application is {app.status}", {"status": [app.status]})
    material = (material or "").strip()
    if not material:
        raise field_error("material", "name the material")
    item = uow.get(CatalogueItem, app.item_id, "catalogue item")
    notice = uow.session.scalar(select(Notice).where(Notice.application_id == app.id,
                                                     Notice.kind == "supplement"))
    if notice is not None and material in notice.missing:
        outstanding = [m for m in app.missing if m not in (app.materials_arrived or [])]
        return {"refused": False, "material": material, "on_notice": True, "outstanding": outstanding}
    names = [m["name"] for m in item.materials]
    reason = "not_in_catalogue" if material not in names else "not_on_first_notice"
    uow.session.add(NoticeViolationRecord(application_id=app.id, person_id=person_id, material=material,
                                          reason=reason, at=uow.now()))
    uow.emit("intake.notice_violation", application_id=app.id, person_id=person_id, material=material,
             reason=reason)
    return {"refused": True, "material": material, "reason": reason}


def refusal(result: dict) -> ValidationFailed:
    problem = {"not_in_catalogue": "not a material of this catalogue item (I3); recorded as a violation",
               "not_on_first_notice": "required but not on the one-time notice (I3); recorded as a violation",
               }[result["reason"]]
    return ValidationFailed(f"material: {problem}", {"material": [problem], "reason": result["reason"]})


def list_violations(uow, person_id: str | None = None) -> list[dict]:
    stmt = select(NoticeViolationRecord).order_by(NoticeViolationRecord.at.desc())
    if person_id:
        stmt = stmt.where(NoticeViolationRecord.person_id == person_id)
    return shared(contract.NoticeViolation, many=True).dump(uow.scalars(stmt))


# -- I5 returns (退回件, 否定报备) -----------------------------------------------------------

def request_return(uow, application_id: str, person_id: str, reason: str, settings: dict) -> dict:
    """The clerk returns an application not yet accepted (clearly against policy, failed
    inspection). An accepted one is a case: it is rejected in ``cases`` (C1)."""
    ctx = Context(uow, settings)
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", "a return needs its written reason")
    app = uow.get(Application, application_id, "application")
    if app.status != "received":
        raise Conflict(f"application is {app.status}: only one not yet accepted is returned here; "
                       "an accepted one is rejected as a case (C1)", {"status": [app.status]})
    item = uow.get(CatalogueItem, app.item_id, "catalogue item")
    notice = _request_return(ctx, app, item, person_id, reason, [])
    return {"application": shared(contract.Application, full=True).dump(app), "notice": notice}


def _request_return(ctx: Context, app: Application, item: CatalogueItem, person_id: str, reason: str,
                    missing_main) -> dict | None:
    """Every return is recorded (否定报备); a major or difficult matter's return waits for a
    superior's sign-off before it takes effect (不得擅自否决)."""
    app.kind = "returned"
    app.return_reason = reason
    app.return_requested_by = person_id
    app.return_requested_at = ctx.now
    app.missing = list(app.missing or [])
    if item.major:
        app.status = "return_pending"
        ctx.uow.session.flush()
        return None
    return _finish_return(ctx, app, item, signed_off_by=None, missing_main=missing_main)


def _finish_return(ctx: Context, app: Application, item: CatalogueItem, signed_off_by, missing_main=()):
    app.status = "returned"
    app.returned_at = ctx.now
    app.signed_off_by = signed_off_by
    notice = Notice(application_id=app.id, kind="return", missing=list(missing_main or []),
                    reason=app.return_reason, issued_at=ctx.now, issued_by=app.return_requested_by)
    ctx.uow.session.add(notice)
    # the return notice carries a number and a query password like a receipt (I5, for C10: the
    # applicant queries it and asks for a review with them); the password is shown here only
    password = receipts.issue(app, ctx.today, keep_number=True)
    ctx.uow.session.flush()
    ctx.uow.emit("intake.application_returned", application_id=app.id, item_code=item.code,
                 handler_person_id=app.handler_person_id, reason=app.return_reason,
                 signed_off_by=signed_off_by, receipt_no=app.receipt_no, returned_by=app.return_requested_by,
                 returned_at=ctx.now.isoformat())
    return {**shared(contract.Notice).dump(notice), "receipt_no": app.receipt_no, "query_password": password}


def sign_off_return(uow, application_id: str, person_id: str, roles, approve: bool, settings: dict,
                    note: str | None = None) -> dict:
    """I5: a superior (section head / deputy / director, a setting) signs off — or refuses —
    the return of a major matter. The one who asked for the return cannot sign it off."""
    ctx = Context(uow, settings)
    allowed = settings["return_signoff_roles"]
    if not any(r in allowed for r in roles or ()):
        raise Forbidden(f"signing off a return needs one of the roles: {', '.join(allowed)}")
    app = uow.get(Application, application_id, "application")
    if app.status != "return_pending":
        raise Conflict(f"application is {app.status}: no return awaits sign-off", {"status": [app.status]})
    if person_id == app.return_requested_by:
        raise Forbidden("the clerk who asked for the return cannot sign it off")
    item = uow.get(CatalogueItem, app.item_id, "catalogue item")
    if approve:
        missing_main = [m["name"] for m in item.materials if m["main"]
                        and m["name"] not in (app.materials_brought or [])
                        and m["name"] not in (app.materials_present or [])]
        notice = _finish_return(ctx, app, item, signed_off_by=person_id, missing_main=missing_main)
        return {"application": shared(contract.Application, full=True).dump(app), "notice": notice}
    # refused: back to received, to be processed (notice or acceptance) by the window
    app.status = "received"
    app.kind = "supplement" if app.missing else app.target_kind
    app.return_reason = f"{app.return_reason} —— 退回未获批准：{note or ''}".strip()
    uow.session.flush()
    return {"application": shared(contract.Application, full=True).dump(app), "notice": None}


def apply_review_change(uow, event: dict) -> bool:
    """``cases.review_changed`` (C10): keep the review the applicant reads in the receipt query.
    A decided review is never overwritten by a late ``pending``. A review that overturns a return
    (退回) reopens the application: back to ``received``, as when a superior refuses to sign a
    return off, so the window takes it up again (the one-time notice or acceptance, I3/I5); its
    notice is due ``supplement_notice_days`` from the reopening (C12), not from the first arrival.
    Idempotent: only a ``returned`` application is reopened, once."""
    app = uow.session.scalar(select(Application).where(Application.receipt_no == event["receipt_no"]))
    if app is None:
        return False
    if app.review_state == "decided" and event["state"] != "decided":
        return False
    app.review_subject, app.review_state = event["subject"], event["state"]
    app.review_outcome, app.review_answer = event.get("outcome"), event.get("answer")
    app.review_due_date, app.review_requested_at = event["due_date"], event["requested_at"]
    app.review_decided_at = event.get("decided_at")
    if (event["subject"], event["state"], event.get("outcome")) == ("return", "decided", "overturned") \
            and app.status == "returned":
        _reopen(Context(uow, RULES.load(uow)), app)
    return True


def _reopen(ctx: Context, app: Application) -> None:
    """C10: the return is overturned on review: the application is received again."""
    app.status = "received"
    app.kind = "supplement" if app.missing else app.target_kind
    app.notice_due_on = ctx.calendar.add_working_days(ctx.today, ctx.settings["supplement_notice_days"]).day
    app.return_reason = f"{app.return_reason} —— 复核撤销退回".strip()
    ctx.uow.session.flush()


def list_returns(uow) -> list[dict]:
    """否定报备: every return (pending or done), for audit."""
    stmt = (select(Application).where(Application.return_requested_by.is_not(None))
            .order_by(Application.return_requested_at.desc()))
    return shared(contract.Return, many=True).dump(uow.scalars(stmt))


# -- reading -------------------------------------------------------------------

def get_application(uow, application_id: str, full: bool) -> dict:
    app = uow.get(Application, application_id, "application")
    notices = uow.scalars(select(Notice).where(Notice.application_id == app.id).order_by(Notice.issued_at))
    return {**shared(contract.Application, full=full).dump(app), "notices": shared(contract.Notice, many=True).dump(notices)}


def list_applications(uow, full: bool, status: str | None = None, limit: int = 200) -> list[dict]:
    stmt = select(Application).order_by(Application.received_at.desc()).limit(limit)
    if status:
        stmt = stmt.where(Application.status == status)
    return shared(contract.Application, full=full, many=True).dump(uow.scalars(stmt))


def tracked_applications(uow, person_id: str) -> list[dict]:
    """I2: applications whose first-asked clerk is this person, until done."""
    stmt = (select(Application).where(Application.first_asked_person_id == person_id,
                                      Application.status != "returned")
            .order_by(Application.received_at))
    out = []
    for a in uow.scalars(stmt):
        if a.case_state in OPEN_CASE_END_STATES or a.case_status_code == "COMPLETED":
            continue
        out.append({"application_id": a.id, "item_code": a.item_code, "status": a.case_state or a.status,
                    "handler_person_id": a.handler_person_id, "window_id": a.window_id,
                    "receipt_no": a.receipt_no,
                    "due_date": a.case_due_date or a.promised_date})
    return shared(contract.TrackedApplication, many=True).dump(out)


# -- status from cases (C13) ---------------------------------------------------------

def apply_deadline_change(uow, event: dict) -> bool:
    """``cases.deadline_changed`` (C2: a provisional deadline firmed up when its year was loaded;
    C3 extension; C11 pause): the applicant's status query shows the new promise date. A change
    older than the last state change applied is left to that change's own due date."""
    app = uow.session.scalar(select(Application).where(Application.case_id == event["case_id"]))
    if app is None:
        app = uow.session.scalar(select(Application).where(Application.receipt_no == event["receipt_no"]))
    if app is None:
        return False
    if app.case_updated_at is not None and event["occurred_at"] < app.case_updated_at:
        return False
    app.case_due_date = event["due_date"]
    app.case_due_provisional = bool(event.get("provisional"))
    return True


@lru_cache(maxsize=None)
def _apply_transition(with_seq: bool, with_due: bool):
    """The conditional UPDATE of ``apply_case_transition`` (built once per shape, issue 9); its
    parameters are the columns' names with ``p_`` before them."""
    # on the table, not the mapped class: SQLAlchemy's ORM-enabled UPDATE path cost 0.6 ms of
    # intake's CPU per transition for nothing this statement needs (its township is in the WHERE)
    t = Application.__table__
    at = bindparam("p_case_updated_at")
    by_time = t.c.case_updated_at.is_(None) | (t.c.case_updated_at <= at)
    newer = by_time if not with_seq else (
        (t.c.case_seq.is_not(None) & (t.c.case_seq < bindparam("p_case_seq")))
        | (t.c.case_seq.is_(None) & by_time))
    return (update(t)
            .where(t.c.id == bindparam("p_id"), t.c.township_id == bindparam("p_township_id"), newer)
            .values({c: bindparam(f"p_{c}") for c in _transition_columns(with_seq, with_due)}))


def _transition_columns(with_seq: bool, with_due: bool) -> list[str]:
    return (["case_id", "case_state", "case_status_code", "case_status_label", "case_updated_at"]
            + (["case_due_date", "case_due_provisional"] if with_due else []) + (["case_seq"] if with_seq else []))


def apply_case_transition(uow, event: dict) -> bool:
    """``cases.case_transitioned``: keep the status the applicant queries. Delivery order is not
    guaranteed and two moves can share an instant (a case is received and accepted at once), so
    events are ordered by the case's transition number ``seq``; an event older than the one
    applied is ignored. Events without ``seq`` (published before it existed) fall back to time.

    One conditional UPDATE (the order check in its WHERE): two of these arrive for every
    application, and reading the row first cost as much as the submission (issue 9)."""
    seq, due = event.get("seq"), event.get("due_date")
    params = {"p_id": event["application_id"], "p_township_id": uow.township_id, "p_case_id": event["case_id"],
              "p_case_state": event["to_state"], "p_case_status_code": event["status_code"],
              "p_case_status_label": event.get("status_label") or receipts.C13_LABELS.get(event["status_code"]),
              "p_case_updated_at": event["occurred_at"]}
    if due is not None:
        params.update(p_case_due_date=due, p_case_due_provisional=bool(event.get("provisional")))
    if seq is not None:
        params["p_case_seq"] = seq
    result = uow.session.execute(_apply_transition(seq is not None, due is not None), params)
    return result.rowcount == 1
