"""The lending ledger: items (L1), borrowing (L2), returning with compensation (L3) and the
phone reminders of late loans (L4). Plain functions on a unit of work.

Events carry ids only (no borrower, phone, address or ID number)."""
from __future__ import annotations

import re

from sqlalchemy import select, update

from services.common.tenancy import GATE
from services.common.calendar import load_calendar
from services.common.errors import Conflict, field_error
from services.common.validate import text
from services.contracts import lending as contract, shared

from .models import Compensation, Item, Loan, ReminderTask
from .rules import (
    CONDITIONS,
    ELIGIBILITY,
    KIND_DEFAULTS,
    KINDS,
    RULES,
    check_eligibility,
    CAUSES,
    compensation,
    due_at,
    usage_conditions,
    mask_id,
)

PHONE_RE = re.compile(r"^\+?[0-9-]{6,20}$")
FULL_VIEW_ROLES = GATE  # they call the borrower (L4)


# -- records ---------------------------------------------------------------------------

def loan_record(loan: Loan, item: Item | None, roles=()) -> dict:
    """A loan through its contract: phone and address in full only for the roles that call
    borrowers (L4, P2)."""
    full = any(r in FULL_VIEW_ROLES for r in roles or ())
    return {**shared(contract.Loan, full=full).dump(loan), "item_label": item.label if item else None}


# -- items (L1) ---------------------------------------------------------------------------

def _int(data, name, lo, hi):
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise field_error(name, f"a whole number between {lo} and {hi}")
    return value


def _str(data, name, limit, required=False):
    return text(data, name, limit, required)


def create_item(uow, data: dict) -> dict:
    """L1: an item with its rules; unset rules take the kind's defaults (seed 000 for carts)."""
    kind = data.get("kind")
    if kind not in KINDS:
        raise field_error("kind", f"one of {', '.join(KINDS)}")
    label = _str(data, "label", 60, required=True)
    if uow.session.scalar(select(Item.id).where(Item.label == label)):
        raise Conflict(f"an item labelled {label!r} exists", {"label": ["exists"]})
    values = dict(KIND_DEFAULTS[kind])
    for key in ("eligibility", "deposit_cents", "loan_days", "usage_notes", "max_load_kg"):
        if data.get(key) is not None:
            values[key] = data[key]
    if values["eligibility"] not in ELIGIBILITY:
        raise field_error("eligibility", f"one of {', '.join(ELIGIBILITY)}")
    _int(values, "deposit_cents", 0, 10_000_000)
    _int(values, "loan_days", 0, 90)
    _int(values, "max_load_kg", 1, 1000)
    _str(values, "usage_notes", 500)
    value = _int(data, "replacement_value_cents", 0, 100_000_000)
    if value is None:
        raise field_error("replacement_value_cents", "required (compensation is at replacement value, L3)")
    item = Item(kind=kind, label=label, spec=_str(data, "spec", 60), eligibility=values["eligibility"],
                deposit_cents=values["deposit_cents"], loan_days=values["loan_days"],
                usage_notes=values.get("usage_notes"), max_load_kg=values.get("max_load_kg"),
                replacement_value_cents=value, state="in_stock", created_at=uow.now())
    uow.session.add(item)
    uow.session.flush()
    return shared(contract.Item).dump(item)


def update_item(uow, item_id: str, changes: dict) -> dict:
    item = uow.get(Item, item_id, "item")
    if "eligibility" in changes and changes["eligibility"] not in ELIGIBILITY:
        raise field_error("eligibility", f"one of {', '.join(ELIGIBILITY)}")
    for key, lo, hi in (("deposit_cents", 0, 10_000_000), ("loan_days", 0, 90), ("max_load_kg", 1, 1000),
                        ("replacement_value_cents", 0, 100_000_000)):
        _int(changes, key, lo, hi)
    if "state" in changes:
        if changes["state"] not in ("in_stock", "retired"):
            raise field_error("state", "in_stock or retired")
        if item.state == "lent":
            raise Conflict("the item is lent; take it back first")
    for key in ("eligibility", "deposit_cents", "loan_days", "usage_notes", "max_load_kg",
                "replacement_value_cents", "spec", "state"):
        if key in changes:
            setattr(item, key, changes[key])
    return shared(contract.Item).dump(item)


def list_items(uow, kind: str | None = None, state: str | None = None) -> list[dict]:
    stmt = select(Item).order_by(Item.kind, Item.label)
    if kind:
        stmt = stmt.where(Item.kind == kind)
    if state:
        stmt = stmt.where(Item.state == state)
    return shared(contract.Item, many=True).dump(uow.scalars(stmt))


# -- borrowing (L2) ---------------------------------------------------------------------------

def lend(uow, item_id: str, data: dict, guard_id: str | None, roles=()) -> dict:
    """L2: eligibility checked, ID shown (type + masked number recorded), purpose stated; phone,
    address, time and signature recorded; an item already lent is a 409; the other posts are
    told by ``lending.item_lent`` (seed 000 4.2.3)."""
    rules = RULES.load(uow)
    item = uow.get(Item, item_id, "item")
    name = _str(data, "borrower_name", 60, required=True)
    phone = _str(data, "phone", 30, required=True)
    if not PHONE_RE.match(phone):
        raise field_error("phone", "a phone number (digits, '-', optional '+')")
    address = _str(data, "address", 200, required=True)
    purpose = _str(data, "purpose", 200, required=True)
    signature = _str(data, "signature", 200, required=True)
    masked = mask_id(data.get("id_type"), _str(data, "id_number", 30, required=True))
    registered = data.get("registered_resident", False)
    if not isinstance(registered, bool):
        raise field_error("registered_resident", "true or false")
    if item.state != "in_stock":
        raise Conflict(f"{item.label} is not available ({item.state})", {"item_id": [item.state]})
    check_eligibility(item.eligibility, registered)
    # L1: the usage conditions (in the community only, ≤ 25 kg …) are shown and acknowledged
    conditions = usage_conditions(item.usage_notes, item.max_load_kg)
    if conditions and data.get("conditions_acknowledged") is not True:
        raise field_error("conditions_acknowledged", f"the borrower must acknowledge the conditions: {conditions}")
    now = uow.now()
    cal = load_calendar(uow.session, uow.common, uow.township_id)
    loan = Loan(item_id=item.id, borrower_name=name, registered_resident=registered,
                id_type=data["id_type"], id_number_masked=masked, phone=phone, address=address,
                purpose=purpose, signature=signature, lent_at=now, lent_by=guard_id,
                due_at=due_at(now, item.loan_days, rules, cal), deposit_cents=item.deposit_cents, state="out",
                conditions=conditions, conditions_acknowledged_at=now if conditions else None)
    uow.session.add(loan)
    uow.session.flush()
    # the item changes hands only if nobody lent it meanwhile (two posts at once: one wins)
    won = uow.session.execute(
        update(Item).where(Item.id == item.id, Item.state == "in_stock")
        .values(state="lent", current_loan_id=loan.id).execution_options(synchronize_session=False)
    ).rowcount == 1
    if not won:
        raise Conflict(f"{item.label} was just lent by another post", {"item_id": ["lent"]})
    uow.session.refresh(item)
    uow.emit("lending.item_lent", loan_id=loan.id, item_id=item.id, item_name=item.label,
             due_at=loan.due_at.isoformat(), lent_by=loan.lent_by)
    return loan_record(loan, item, roles)


# -- returning (L3) ----------------------------------------------------------------------------

def take_back(uow, loan_id: str, condition: str, note: str | None, guard_id: str | None, roles=(),
              cause: str | None = None) -> dict:
    """L3: time, condition (good / worn / damaged / lost) and, for damage or loss, its cause
    recorded; damage or loss caused by the borrower → compensation at the original price (deposit
    applied first); ordinary wear, or damage not of the borrower's making, is not charged;
    ``lending.item_returned``."""
    loan = uow.get(Loan, loan_id, "loan")
    if condition not in CONDITIONS:
        raise field_error("condition", f"one of {', '.join(CONDITIONS)}")
    note = _str({"note": note}, "note", 1000)
    if condition != "good" and not note:
        raise field_error("note", "describe the wear, the damage or the loss")
    if condition == "worn":
        cause = cause or "wear"
    if condition in ("damaged", "lost", "worn") and cause not in CAUSES:
        raise field_error("cause", f"damage or loss needs its cause: one of {', '.join(CAUSES)}")
    if condition == "good":
        cause = None
    if loan.state != "out":
        raise Conflict("this loan is already returned", {"state": [loan.state]})
    item = uow.get(Item, loan.item_id, "item")
    loan.state, loan.returned_at, loan.received_by = "returned", uow.now(), guard_id
    loan.condition, loan.return_note, loan.damage_cause = condition, note, cause
    item.current_loan_id = None
    item.state = "lost" if condition == "lost" else "in_stock"
    result = {"loan": None, "compensation": None}
    if condition in ("damaged", "lost"):
        s = compensation(condition, item.replacement_value_cents, loan.deposit_cents, cause)
        comp = Compensation(loan_id=loan.id, item_id=item.id, condition=condition, amount_cents=s.amount_cents,
                            deposit_applied_cents=s.deposit_applied_cents,
                            deposit_refund_cents=s.deposit_refund_cents, balance_due_cents=s.balance_due_cents,
                            state="due" if s.balance_due_cents else "settled", created_at=uow.now())
        uow.session.add(comp)
        uow.session.flush()
        result["compensation"] = shared(contract.Compensation).dump(comp)
    # the reminder of a late loan is over once it is back
    uow.session.execute(
        update(ReminderTask).where(ReminderTask.loan_id == loan.id, ReminderTask.state != "done")
        .values(state="done", done_at=uow.now(), done_by=guard_id, note="returned")
        .execution_options(synchronize_session=False)
    )
    uow.emit("lending.item_returned", loan_id=loan.id, item_id=item.id, condition=condition)
    result["loan"] = loan_record(loan, item, roles)
    return result


def list_loans(uow, state: str | None = None, roles=()) -> list[dict]:
    stmt = select(Loan, Item).join(Item, Item.id == Loan.item_id).order_by(Loan.lent_at.desc())
    if state == "overdue":
        stmt = stmt.where(Loan.state == "out", Loan.overdue_at.is_not(None))
    elif state:
        stmt = stmt.where(Loan.state == state)
    return [loan_record(loan, item, roles) for loan, item in uow.session.execute(stmt.limit(1000)).all()]


def get_loan(uow, loan_id: str, roles=()) -> dict:
    loan = uow.get(Loan, loan_id, "loan")
    item = uow.session.get(Item, loan.item_id)
    comp = uow.session.scalar(select(Compensation).where(Compensation.loan_id == loan.id))
    rec = loan_record(loan, item, roles)
    rec["compensation"] = shared(contract.Compensation).dump(comp) if comp else None
    return rec


# -- reminders (L4) ------------------------------------------------------------------------------

def list_tasks(uow, state: str | None = None) -> list[dict]:
    stmt = select(ReminderTask).order_by(ReminderTask.created_at)
    if state:
        stmt = stmt.where(ReminderTask.state == state)
    return shared(contract.ReminderTask, many=True).dump(uow.scalars(stmt))


def complete_task(uow, task_id: str, note: str, by: str | None) -> dict:
    """The phone reminder was made (电话催收), recorded with what the borrower said."""
    task = uow.get(ReminderTask, task_id, "reminder task")
    note = _str({"note": note}, "note", 1000, required=True)
    if task.state == "done":
        raise Conflict("the reminder is already done")
    task.state, task.done_at, task.done_by, task.note = "done", uow.now(), by, note
    return shared(contract.ReminderTask).dump(task)
