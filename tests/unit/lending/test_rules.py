"""L1–L5 rules, table-driven: due time and end of day in the township's local time,
eligibility, compensation at replacement value, ID masking, handover reconciliation."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.common.errors import ValidationFailed
from services.lending.rules import (
    RULES, check_eligibility, compensation, due_at, is_overdue, mask_id, reconcile, usage_conditions,
)

R = RULES.defaults()
UTC = timezone.utc


@pytest.mark.parametrize("lent_at, loan_days, rules, due", [
    # same-day cart lent at 10:00 Shanghai → due 17:30 Shanghai = 09:30 UTC
    (datetime(2025, 3, 3, 2, 0, tzinfo=UTC), 0, R, datetime(2025, 3, 3, 9, 30, tzinfo=UTC)),
    # lent 07:30 Shanghai on 4 Mar, which is still 3 Mar in UTC: due the *local* day
    (datetime(2025, 3, 3, 23, 30, tzinfo=UTC), 0, R, datetime(2025, 3, 4, 9, 30, tzinfo=UTC)),
    # a wheelchair lent for 3 days
    (datetime(2025, 3, 3, 2, 0, tzinfo=UTC), 3, R, datetime(2025, 3, 6, 9, 30, tzinfo=UTC)),
    # closing time is a setting
    (datetime(2025, 3, 3, 2, 0, tzinfo=UTC), 0, dict(R, closing_time="18:00"), datetime(2025, 3, 3, 10, 0, tzinfo=UTC)),
    # another township's time zone
    (datetime(2025, 3, 3, 2, 0, tzinfo=UTC), 0, dict(R, timezone="Asia/Urumqi"), datetime(2025, 3, 3, 11, 30, tzinfo=UTC)),
    # L1: lent after closing (19:00 Mon 3 Mar) → the next working day's closing, not 17:30 that day
    (datetime(2025, 3, 3, 11, 0, tzinfo=UTC), 0, R, datetime(2025, 3, 4, 9, 30, tzinfo=UTC)),
    (datetime(2025, 3, 3, 9, 29, tzinfo=UTC), 0, R, datetime(2025, 3, 3, 9, 30, tzinfo=UTC)),   # 17:29: today
    (datetime(2025, 3, 3, 9, 30, tzinfo=UTC), 0, R, datetime(2025, 3, 4, 9, 30, tzinfo=UTC)),   # 17:30: closed
    # lent after closing on Friday 7 Mar → Monday 10 Mar
    (datetime(2025, 3, 7, 11, 0, tzinfo=UTC), 0, R, datetime(2025, 3, 10, 9, 30, tzinfo=UTC)),
    # lent on Saturday 8 Mar (the hall closed, C2a) → Monday's closing
    (datetime(2025, 3, 8, 2, 0, tzinfo=UTC), 0, R, datetime(2025, 3, 10, 9, 30, tzinfo=UTC)),
    # lent on 30 Sep 2025 after closing: National Day → the next working day is Thu 9 Oct
    (datetime(2025, 9, 30, 11, 0, tzinfo=UTC), 0, R, datetime(2025, 10, 9, 9, 30, tzinfo=UTC)),
    # summer hours (05-01 … 09-30): closing 18:00, so 17:45 is still the same day
    (datetime(2025, 6, 3, 9, 45, tzinfo=UTC), 0, R, datetime(2025, 6, 3, 10, 0, tzinfo=UTC)),
    (datetime(2025, 4, 30, 9, 45, tzinfo=UTC), 0, R, datetime(2025, 5, 6, 10, 0, tzinfo=UTC)),  # 17:45 on 30 Apr: after closing; May Day off → Tue 6 May, summer
    (datetime(2025, 9, 30, 2, 0, tzinfo=UTC), 0, R, datetime(2025, 9, 30, 10, 0, tzinfo=UTC)),  # last summer day
    (datetime(2025, 10, 9, 2, 0, tzinfo=UTC), 0, R, datetime(2025, 10, 9, 9, 30, tzinfo=UTC)),  # winter again
    # a loan of N days due on a closed day rolls over to the next working day
    (datetime(2025, 3, 5, 2, 0, tzinfo=UTC), 3, R, datetime(2025, 3, 10, 9, 30, tzinfo=UTC)),  # Sat 8 → Mon 10
])
def test_due_at_closing_time_local(lent_at, loan_days, rules, due):
    assert due_at(lent_at, loan_days, rules) == due


DUE = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)  # 17:30 on Mon 3 Mar in Shanghai


@pytest.mark.parametrize("now, rules, overdue", [
    (datetime(2025, 3, 3, 9, 31, tzinfo=UTC), R, False),   # after closing, but the day is not over
    (datetime(2025, 3, 3, 15, 59, tzinfo=UTC), R, False),  # 23:59 Shanghai
    (datetime(2025, 3, 3, 16, 0, tzinfo=UTC), R, True),    # 00:00 on 4 Mar Shanghai, still 3 Mar in UTC
    (datetime(2025, 3, 3, 23, 59, tzinfo=UTC), R, True),
    # in Urumqi (UTC+6) the due day ends two hours later
    (datetime(2025, 3, 3, 17, 0, tzinfo=UTC), dict(R, timezone="Asia/Urumqi"), False),
    (datetime(2025, 3, 3, 18, 0, tzinfo=UTC), dict(R, timezone="Asia/Urumqi"), True),
])
def test_overdue_at_end_of_local_day(now, rules, overdue):
    assert is_overdue(DUE, now, rules) is overdue


@pytest.mark.parametrize("eligibility, resident, ok", [
    ("registered_resident", True, True),
    ("registered_resident", False, False),   # seed 000 4.1.1: 其它人员谢绝使用
    ("anyone", False, True),
    ("anyone", True, True),
])
def test_eligibility(eligibility, resident, ok):
    if ok:
        check_eligibility(eligibility, resident)
    else:
        with pytest.raises(ValidationFailed) as err:
            check_eligibility(eligibility, resident)
        assert "registered_resident" in err.value.details


@pytest.mark.parametrize("condition, cause, value, deposit, amount, applied, refund, balance", [
    ("good", None, 30000, 0, 0, 0, 0, 0),
    ("good", None, 30000, 5000, 0, 0, 5000, 0),            # deposit back in full
    ("damaged", "borrower", 30000, 0, 30000, 0, 0, 30000),  # 人为损坏: 按原价赔偿
    ("lost", "borrower", 30000, 0, 30000, 0, 0, 30000),
    ("lost", "borrower", 150000, 50000, 150000, 50000, 0, 100000),  # wheelchair: deposit applied first
    ("damaged", "borrower", 3000, 5000, 3000, 3000, 2000, 0),  # deposit larger than the value: the rest refunded
    ("worn", "wear", 30000, 0, 0, 0, 0, 0),                 # L3: ordinary wear is recorded, not charged
    ("worn", None, 30000, 5000, 0, 0, 5000, 0),
    ("damaged", "wear", 30000, 0, 0, 0, 0, 0),              # a tyre worn through: not the borrower's doing
    ("lost", "other", 30000, 5000, 0, 0, 5000, 0),          # e.g. stolen from the centre's own yard
])
def test_compensation_only_for_damage_or_loss_the_borrower_caused(condition, cause, value, deposit, amount, applied,
                                                                 refund, balance):
    s = compensation(condition, value, deposit, cause)
    assert (s.amount_cents, s.deposit_applied_cents, s.deposit_refund_cents, s.balance_due_cents) == \
        (amount, applied, refund, balance)


def test_unknown_condition_is_refused():
    with pytest.raises(ValidationFailed) as err:
        compensation("wet", 100, 0)
    assert "condition" in err.value.details


@pytest.mark.parametrize("condition", ["damaged", "lost"])
def test_damage_or_loss_needs_its_cause(condition):
    with pytest.raises(ValidationFailed) as err:
        compensation(condition, 100, 0, None)
    assert "cause" in err.value.details


@pytest.mark.parametrize("notes, kg, text", [
    ("仅限本社区内使用，载重不超过25公斤，当日归还", 25, "仅限本社区内使用，载重不超过25公斤，当日归还"),
    ("仅限本社区内使用", 25, "仅限本社区内使用；载重不超过25公斤"),
    (None, 25, "载重不超过25公斤"),
    ("限中心内及当日使用", None, "限中心内及当日使用"),
    (None, None, None), ("  ", None, None),
])
def test_the_usage_conditions_shown_to_the_borrower(notes, kg, text):
    assert usage_conditions(notes, kg) == text


@pytest.mark.parametrize("id_type, number, masked", [
    ("resident_id_card", "110101199003071234", "110***********1234"),
    ("resident_id_card", "11010119900307123X", "110***********123X"),
    ("passport", "E12345678", "E****5678"),
])
def test_id_number_is_masked(id_type, number, masked):
    assert mask_id(id_type, number) == masked


@pytest.mark.parametrize("id_type, number, field", [
    ("resident_id_card", "12345", "id_number"),
    ("library_card", "110101199003071234", "id_type"),
    ("passport", "E1", "id_number"),
])
def test_bad_id_is_refused(id_type, number, field):
    with pytest.raises(ValidationFailed) as err:
        mask_id(id_type, number)
    assert field in err.value.details


STOCK = {"c1": "便民服务车1号", "c2": "便民服务车2号"}
LENT = {"c3": ("便民服务车3号", "张三")}


@pytest.mark.parametrize("stated_stock, stated_lent, problems", [
    (["c1", "c2"], [{"item_id": "c3", "borrower_name": "张三"}], {}),
    (["c1"], [{"item_id": "c3", "borrower_name": "张三"}],
     {"in_stock": ["便民服务车2号: in stock by the ledger, not stated"]}),
    (["c1", "c2", "c3"], [],
     {"in_stock": ["便民服务车3号: stated in stock but lent to 张三 by the ledger"]}),
    (["c1", "c2"], [{"item_id": "c3", "borrower_name": "李四"}],
     {"lent": ["便民服务车3号: stated lent to 李四, the ledger says 张三"]}),
    (["c1", "c2"], [],
     {"lent": ["便民服务车3号: lent to 张三 by the ledger, not stated"]}),
    (["c1"], [{"item_id": "c2", "borrower_name": "王五"}, {"item_id": "c3", "borrower_name": "张三"}],
     {"in_stock": ["便民服务车2号: in stock by the ledger, stated as lent to 王五"]}),
])
def test_handover_reconciliation_names_every_difference(stated_stock, stated_lent, problems):
    assert reconcile(STOCK, LENT, stated_stock, stated_lent) == problems
