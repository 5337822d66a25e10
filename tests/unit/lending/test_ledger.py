"""The lending ledger on a real (in-memory) unit of work: L2 borrowing (409 when lent,
eligibility, nothing half-written), L3 compensation, L4 overdue once + escalation, L5 handover
refused unless it reconciles, L6 the CSV register."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.lending import handover, ledger, register, sweep
from services.lending.models import Loan, ReminderTask

BORROWER = {"borrower_name": "张三", "registered_resident": True, "id_type": "resident_id_card",
            "id_number": "110101199003071234", "phone": "13812345678", "address": "青山镇柳溪村3组",
            "purpose": "搬运化肥", "signature": "张三", "conditions_acknowledged": True}
GUARD = ("guard",)


def make(units, **data):
    with units() as uow:
        return ledger.create_item(uow, {"kind": "cart", "label": "便民服务车1号",
                                        "replacement_value_cents": 30000, **data})


def lend(units, item_id, **changes):
    with units() as uow:
        return ledger.lend(uow, item_id, {**BORROWER, **changes}, "p-guard1", GUARD)


def test_cart_defaults_come_from_seed_000(units):
    cart = make(units)
    assert (cart["eligibility"], cart["loan_days"], cart["deposit_cents"], cart["max_load_kg"]) == \
        ("registered_resident", 0, 0, 25)
    assert "25公斤" in cart["usage_notes"]


def test_lend_records_masked_id_and_emits_no_personal_data(units):
    cart = make(units)
    loan = lend(units, cart["id"])
    assert loan["id_number"] == "110***********1234" and loan["phone"] == "13812345678"
    assert loan["due_at"] == "2025-03-03T09:30:00+00:00"
    with units() as uow:
        assert "110101199003071234" not in repr(uow.session.get(Loan, loan["id"]).__dict__)
        assert ledger.get_loan(uow, loan["id"], ("director",))["phone"] == "138****5678"
    [event] = units.outbox("lending.item_lent")
    assert event["item_id"] == cart["id"] and "13812345678" not in repr(event) and "张三" not in repr(event)


def test_an_item_cannot_be_lent_twice(units):
    cart = make(units)
    lend(units, cart["id"])
    with pytest.raises(Conflict):
        lend(units, cart["id"], borrower_name="李四")
    with units() as uow:
        assert uow.session.query(Loan).count() == 1


@pytest.mark.parametrize("changes, field", [
    ({"registered_resident": False}, "registered_resident"),
    ({"phone": "call me"}, "phone"),
    ({"id_number": "123"}, "id_number"),
    ({"purpose": ""}, "purpose"),
    ({"signature": None}, "signature"),
    ({"address": "  "}, "address"),
])
def test_bad_loans_are_refused_with_the_field_and_nothing_written(units, changes, field):
    cart = make(units)
    with pytest.raises(ValidationFailed) as err:
        lend(units, cart["id"], **changes)
    assert field in err.value.details
    with units() as uow:
        assert uow.session.query(Loan).count() == 0
        assert ledger.list_items(uow)[0]["state"] == "in_stock"
    assert units.outbox() == []


def test_another_townships_item_is_not_found(units):
    cart = make(units)
    with pytest.raises(NotFound):
        with units("township-b") as uow:
            ledger.lend(uow, cart["id"], BORROWER, "p-guard", GUARD)


@pytest.mark.parametrize("condition, cause, item_state, balance", [
    ("good", None, "in_stock", None), ("damaged", "borrower", "in_stock", 30000), ("lost", "borrower", "lost", 30000),
    ("worn", None, "in_stock", None),           # L3: ordinary wear recorded, not charged (no compensation)
    ("damaged", "wear", "in_stock", 0),         # damage not of the borrower's making: recorded, 0 due
    ("lost", "other", "lost", 0)])
def test_return_records_condition_cause_and_compensation(units, condition, cause, item_state, balance):
    cart = make(units)
    loan = lend(units, cart["id"])
    with units() as uow:
        out = ledger.take_back(uow, loan["id"], condition, "轮子坏了" if condition != "good" else None,
                               "p-guard2", GUARD, cause)
    assert out["loan"]["condition"] == condition and out["loan"]["returned_at"]
    assert out["loan"]["damage_cause"] == ("wear" if condition == "worn" else cause)
    assert (out["compensation"]["balance_due_cents"] if out["compensation"] else None) == balance
    with units() as uow:
        assert ledger.list_items(uow)[0]["state"] == item_state
        with pytest.raises(Conflict):
            ledger.take_back(uow, loan["id"], "good", None, "p-guard2", GUARD)
    assert units.outbox("lending.item_returned")[0]["condition"] == condition


def test_lending_a_cart_needs_its_conditions_acknowledged(units):
    cart = make(units)
    with pytest.raises(ValidationFailed) as err:
        with units() as uow:
            ledger.lend(uow, cart["id"], {**BORROWER, "conditions_acknowledged": False}, "p-guard", GUARD)
    assert "conditions_acknowledged" in err.value.details and "25公斤" in err.value.message
    loan = lend(units, cart["id"])
    assert "25公斤" in loan["conditions"] and loan["conditions_acknowledged_at"]


def test_damage_without_its_cause_is_refused(units):
    cart = make(units)
    loan = lend(units, cart["id"])
    with pytest.raises(ValidationFailed) as err:
        with units() as uow:
            ledger.take_back(uow, loan["id"], "damaged", "轮子坏了", "p-guard2", GUARD)
    assert "cause" in err.value.details


def test_damage_needs_a_note(units):
    cart = make(units)
    loan = lend(units, cart["id"])
    with pytest.raises(ValidationFailed) as err:
        with units() as uow:
            ledger.take_back(uow, loan["id"], "damaged", None, "p-guard2", GUARD)
    assert "note" in err.value.details


def test_overdue_once_then_reminder_escalated_once(units, clock):
    cart = make(units)
    loan = lend(units, cart["id"])
    with units() as uow:
        handover.record_handover(uow, "p-guard1", "p-guard2", [], [{"item_id": cart["id"], "borrower_name": "张三"}])
    clock.set(datetime(2025, 3, 3, 15, 59, tzinfo=timezone.utc))  # 23:59 local
    assert sweep.sweep(units.sweep_run()) == {"overdue": 0, "escalated": 0}
    clock.set(datetime(2025, 3, 3, 16, 0, tzinfo=timezone.utc))   # midnight local, same UTC day
    assert sweep.sweep(units.sweep_run()) == {"overdue": 1, "escalated": 0}
    assert sweep.sweep(units.sweep_run()) == {"overdue": 0, "escalated": 0}
    [event] = units.outbox("lending.loan_overdue")
    assert event["loan_id"] == loan["id"]
    with units() as uow:
        [task] = uow.session.query(ReminderTask).all()
        assert task.assigned_person_id == "p-guard2"  # the guard on duty after the handover
    clock.move(minutes=61)
    assert sweep.sweep(units.sweep_run()) == {"overdue": 0, "escalated": 1}
    assert sweep.sweep(units.sweep_run()) == {"overdue": 0, "escalated": 0}
    assert len(units.outbox("lending.reminder_escalated")) == 1
    with units() as uow:
        done = ledger.complete_task(uow, task.id, "已电话联系，明早归还", "p-security")
    assert done["state"] == "done"


def test_handover_refused_unless_it_reconciles(units):
    c1 = make(units)
    c2 = make(units, label="便民服务车2号")
    lend(units, c2["id"])
    with pytest.raises(ValidationFailed) as err:
        with units() as uow:
            handover.record_handover(uow, "p-guard1", "p-guard2", [c1["id"], c2["id"]], [])
    assert err.value.details == {"in_stock": ["便民服务车2号: stated in stock but lent to 张三 by the ledger"]}
    with units() as uow:
        assert handover.list_handovers(uow) == []
        rec = handover.record_handover(uow, "p-guard1", "p-guard2", [c1["id"]],
                                       [{"item_id": c2["id"], "borrower_name": "张三"}])
    assert rec["lent"][0]["borrower_name"] == "张三" and rec["in_stock"] == [c1["id"]]


def test_register_csv_has_bom_header_and_rows(units):
    cart = make(units)
    loan = lend(units, cart["id"])
    with units() as uow:
        ledger.take_back(uow, loan["id"], "good", None, "p-guard2", GUARD)
        text = register.export_csv(uow, date(2025, 3, 1), date(2025, 3, 31), None, GUARD)
        masked = register.export_csv(uow, date(2025, 3, 1), date(2025, 3, 31), None, ("director",))
        empty = register.export_csv(uow, date(2025, 4, 1), date(2025, 4, 30), None, GUARD)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == register.HEADER
    assert rows[1][1:5] == ["便民服务车", "便民服务车1号", "张三", "居民身份证"]
    assert rows[1][5] == "110***********1234" and rows[1][6] == "13812345678"
    assert rows[1][9] == "2025-03-03 10:00" and rows[1][13] == "完好"
    # L1: the conditions the borrower acknowledged are printed on the register
    assert "载重不超过25公斤" in rows[1][11] and "2025-03-03 10:00 确认" in rows[1][11]
    assert "13812345678" not in masked and "138****5678" in masked and "柳溪村" not in masked
    assert len(list(csv.reader(io.StringIO(empty.lstrip("\ufeff"))))) == 1
    with pytest.raises(ValidationFailed):
        with units() as uow:
            register.export_csv(uow, date(2025, 3, 31), date(2025, 3, 1), None, GUARD)
