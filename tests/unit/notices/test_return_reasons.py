"""S5/S6 → N1: a return to the home unit tells the directors why — two public criticisms, two
unfit quarters, an unfit year (年终考核不称职) or a disciplinary sanction — by the cause staff gives."""
from __future__ import annotations

import pytest

from services.notices.routing import home_unit_notified

from .test_notices import event, units  # noqa: F401  (the fixture)


@pytest.mark.parametrize("kind, cause, says", [
    ("return", "public_criticism:2025", "一年内两次通报批评"),
    ("return", "unfit:2025Q2", "连续两个季度考核不称职"),
    ("return", "unfit_year:2025", "年终考核不称职"),
    ("return", "sanction:4f1c", "受纪律处分"),
    ("notice", "late:2026-03", "同类违规一月三次"),
])
def test_the_directors_are_told_why(units, kind, cause, says):  # noqa: F811
    with units("town-a") as uow:
        plan = home_unit_notified(uow, event("staff.home_unit_notified", person_id="clerk_a", home_unit="县民政局",
                                             kind=kind, cause=cause))
    assert says in plan.body and plan.recipients() == {"dir": True, "clerk_a": False}
