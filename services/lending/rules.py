"""Lending rules as data (DOMAIN L1–L5, seed 000) and the pure arithmetic behind them:
due time, end-of-day overdue in local time, eligibility, compensation, ID masking and the
handover reconciliation. No database here; table-tested."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from services.common.calendar import WorkingCalendar
from services.common.privacy import mask_id_number
from services.common.tenancy import GATE, LEADERS
from services.common.clock import DEFAULT_TZ
from services.common.errors import ValidationFailed, field_error
from services.common.settings import Rule, RuleBook, integer, timezone_name

KINDS = ("cart", "umbrella", "reading_glasses", "wheelchair", "first_aid_kit", "other")
ELIGIBILITY = ("registered_resident", "anyone")
CONDITIONS = ("good", "worn", "damaged", "lost")
CAUSES = ("borrower", "wear", "other")  # L3: damage or loss caused by the borrower (人为), ordinary wear, other
ID_TYPES = ("resident_id_card", "household_register", "residence_permit", "passport", "other")
LENDERS = GATE  # seed 000 4.1.2 门岗安管人员
MANAGERS = LEADERS

# L1 defaults by kind (seed 000 for carts); each is a field of the item, changeable per item.
KIND_DEFAULTS = {
    "cart": {"eligibility": "registered_resident", "loan_days": 0, "deposit_cents": 0, "max_load_kg": 25,
             "usage_notes": "仅限本社区内使用，载重不超过25公斤，当日归还"},
    "umbrella": {"eligibility": "anyone", "loan_days": 0, "deposit_cents": 0},
    "reading_glasses": {"eligibility": "anyone", "loan_days": 0, "deposit_cents": 0,
                        "usage_notes": "限中心内及当日使用"},
    "wheelchair": {"eligibility": "anyone", "loan_days": 0, "deposit_cents": 0},
    "first_aid_kit": {"eligibility": "anyone", "loan_days": 0, "deposit_cents": 0},
    "other": {"eligibility": "anyone", "loan_days": 0, "deposit_cents": 0},
}

HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MMDD = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
RESIDENT_ID = re.compile(r"^[0-9]{17}[0-9Xx]$")


RULES = RuleBook({
    "timezone": Rule(DEFAULT_TZ, timezone_name, "the township's time zone: 'end of day' is local (L4)"),
    "closing_time": Rule("17:30", lambda v: isinstance(v, str) and bool(HHMM.match(v)),
                         "HH:MM local: a same-day loan is due back by closing time (L1)"),
    "summer_closing_time": Rule("18:00", lambda v: isinstance(v, str) and bool(HHMM.match(v)),
                                "HH:MM local: closing time in summer hours (L1, S2 夏令时)"),
    "summer_from": Rule("05-01", lambda v: isinstance(v, str) and bool(MMDD.match(v)), "first day (MM-DD) of summer hours"),
    "summer_to": Rule("09-30", lambda v: isinstance(v, str) and bool(MMDD.match(v)), "last day (MM-DD) of summer hours"),
    "reminder_escalate_after_minutes": Rule(
        60, integer(5, 24 * 60), "L4: a phone reminder not done within N minutes goes to the security manager"),
})


def tz(rules: dict) -> ZoneInfo:
    return ZoneInfo(rules["timezone"])


def closing_time(day, rules: dict) -> time:
    """The hall's closing time on ``day``: summer hours (default 05-01 … 09-30) close later."""
    key = day.strftime("%m-%d")
    lo, hi = rules["summer_from"], rules["summer_to"]
    summer = lo <= key <= hi if lo <= hi else (key >= lo or key <= hi)
    hh, mm = (int(x) for x in (rules["summer_closing_time"] if summer else rules["closing_time"]).split(":"))
    return time(hh, mm)


def due_at(lent_at: datetime, loan_days: int, rules: dict, calendar=None) -> datetime:
    """L1: a same-day loan is due at closing time (summer hours included) of the day lent; lent
    after closing or on a day the hall is closed (C2a) → the next working day's closing time. A
    loan of N days is due at closing N days later, rolled over to a working day. UTC."""
    calendar = calendar or WorkingCalendar()
    zone = tz(rules)
    local = lent_at.astimezone(zone)
    day = local.date()
    if loan_days == 0:
        open_now = calendar.is_working_day(day) and local.time() < closing_time(day, rules)
        due_day = day if open_now else calendar.next_working_day(day)
    else:
        due_day = calendar.hall_day(day + timedelta(days=loan_days))
    return datetime.combine(due_day, closing_time(due_day, rules), tzinfo=zone).astimezone(timezone.utc)


def is_overdue(due: datetime, now: datetime, rules: dict) -> bool:
    """L4: not back by the end of the due day, in the township's local time."""
    zone = tz(rules)
    return now.astimezone(zone).date() > due.astimezone(zone).date()


def check_eligibility(eligibility: str, registered_resident: bool) -> None:
    """L1 / seed 000 4.1.1: carts only for registered residents (本小区业主)."""
    if eligibility == "registered_resident" and not registered_resident:
        raise field_error("registered_resident", "this item is lent to registered residents only (L1)")


def mask_id(id_type: str, number: str) -> str:
    """L2: the ID was shown; only its type and a masked number are recorded (110***********1234)."""
    number = (number or "").strip().replace(" ", "")
    if id_type not in ID_TYPES:
        raise field_error("id_type", f"one of {', '.join(ID_TYPES)}")
    if id_type == "resident_id_card" and not RESIDENT_ID.match(number):
        raise field_error("id_number", "an 18-character resident ID number")
    if not 5 <= len(number) <= 30:
        raise field_error("id_number", "5–30 characters")
    return mask_id_number(number)


@dataclass(frozen=True)
class Settlement:
    amount_cents: int
    deposit_applied_cents: int
    deposit_refund_cents: int
    balance_due_cents: int


def compensation(condition: str, replacement_value_cents: int, deposit_cents: int,
                 cause: str | None = None) -> Settlement:
    """L3 / seed 000 4.2.2: damage or loss caused by the borrower (人为损坏或丢失) is compensated
    at the original price (按原价赔偿); ordinary wear, or damage and loss not of the borrower's
    making, is recorded and not charged. A deposit taken is applied first, the rest refunded."""
    if condition not in CONDITIONS:
        raise field_error("condition", f"one of {', '.join(CONDITIONS)}")
    if condition in ("damaged", "lost") and cause not in CAUSES:
        raise field_error("cause", f"damage or loss needs its cause: one of {', '.join(CAUSES)}")
    charged = condition in ("damaged", "lost") and cause == "borrower"
    amount = replacement_value_cents if charged else 0
    applied = min(amount, deposit_cents)
    return Settlement(amount, applied, deposit_cents - applied, amount - applied)


def usage_conditions(usage_notes: str | None, max_load_kg: int | None) -> str | None:
    """L1: the conditions shown to the borrower and acknowledged at lending (e.g. in the
    community only, ≤ 25 kg), as printed on the register."""
    parts = [usage_notes.strip()] if usage_notes and usage_notes.strip() else []
    if max_load_kg and not any(f"{max_load_kg}" in p for p in parts):
        parts.append(f"载重不超过{max_load_kg}公斤")
    return "；".join(parts) or None


def reconcile(ledger_in_stock: dict, ledger_lent: dict, stated_in_stock, stated_lent) -> dict:
    """L5: the handover's statement against the ledger.

    ``ledger_in_stock``: {item_id: label}; ``ledger_lent``: {item_id: (label, borrower_name)};
    ``stated_in_stock``: item ids; ``stated_lent``: [{item_id, borrower_name}].
    Returns {} when they agree, else {"in_stock": [...], "lent": [...]} naming each difference."""
    problems: dict[str, list[str]] = {}
    stated_stock = set(stated_in_stock)
    stated_out = {entry["item_id"]: (entry.get("borrower_name") or "").strip() for entry in stated_lent}

    def label(item_id):
        if item_id in ledger_in_stock:
            return ledger_in_stock[item_id]
        if item_id in ledger_lent:
            return ledger_lent[item_id][0]
        return item_id

    for item_id in sorted(set(ledger_in_stock) - stated_stock):
        where = f"stated as lent to {stated_out[item_id]}" if item_id in stated_out else "not stated"
        problems.setdefault("in_stock", []).append(f"{label(item_id)}: in stock by the ledger, {where}")
    for item_id in sorted(stated_stock - set(ledger_in_stock)):
        if item_id in ledger_lent:
            why = f"lent to {ledger_lent[item_id][1]} by the ledger"
        else:
            why = "not an item in stock here"
        problems.setdefault("in_stock", []).append(f"{label(item_id)}: stated in stock but {why}")
    for item_id, (item_label, borrower) in sorted(ledger_lent.items()):
        if item_id not in stated_out:
            if item_id not in stated_stock:
                problems.setdefault("lent", []).append(f"{item_label}: lent to {borrower} by the ledger, not stated")
        elif stated_out[item_id] != borrower:
            problems.setdefault("lent", []).append(
                f"{item_label}: stated lent to {stated_out[item_id] or '(nobody)'}, the ledger says {borrower}")
    for item_id in sorted(set(stated_out) - set(ledger_lent)):
        if item_id not in ledger_in_stock:
            problems.setdefault("lent", []).append(f"{label(item_id)}: stated lent but no open loan in the ledger")
        elif item_id not in stated_stock:
            pass  # already named under in_stock
    return problems


def refuse_unless_reconciled(problems: dict) -> None:
    if problems:
        count = sum(len(v) for v in problems.values())
        raise ValidationFailed(f"the handover does not reconcile with the ledger ({count} differences)", problems)
