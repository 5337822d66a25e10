"""T1: verified complaints counted per window for a local month (joined with cases' figures in
the gateway): the window named, else the named person's window; the month it was verified in;
not-verified and other townships' complaints never counted; no complainant anywhere (P2)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.complaints import handling, statistics
from services.complaints.models import PersonCopy, WindowCopy

from .conftest import T

OFFICER = handling.Viewer("p-officer", ["complaint_officer"])
BASE = {"channel": "in_person", "category": "attitude", "content": "态度生硬",
        "complainant": {"name": "张三丰", "phone": "13812345678"}}


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def complaint(units, township=T, outcome="verified", at=None, **target):
    with units.unit_of_work(township) as uow:
        cid = handling.record_complaint(uow, {**BASE, **target}, "p-officer").id
    if outcome:
        clock = units.clock
        saved = clock.at
        clock.at = at or saved
        try:
            with units.unit_of_work(township) as uow:
                handling.conclude(uow, cid, outcome, "查明属实" if outcome == "verified" else "查无实据",
                                  "p-officer", OFFICER)
        finally:
            clock.at = saved
    return cid


@pytest.fixture
def month(units):
    with units.unit_of_work("township-b") as uow:
        uow.session.add_all([WindowCopy(id="w-b", number=1, name="民政"),
                             PersonCopy(id="p-b", name="赵六", window_id="w-b", roles=["clerk"])])
    complaint(units, target_window_id="w-civil", target_person_id="p-clerk")            # window named
    complaint(units, target_person_id="p-other")                                        # person's window
    complaint(units, target_person_id="p-clerk-b")                                      # person's window
    complaint(units, target_window_id="w-civil", outcome="not_verified")                # not verified
    complaint(units, target_window_id="w-civil", outcome=None)                          # still open
    complaint(units, target_window_id="w-land", at=utc(2025, 3, 31, 15, 30))            # 23:30 31 Mar local
    complaint(units, target_window_id="w-land", at=utc(2025, 3, 31, 16, 30))            # 00:30 1 Apr local
    complaint(units, township="township-b", target_window_id="w-b", target_person_id="p-b")
    return units


@pytest.mark.parametrize("month_asked, total, windows, people", [
    ("2025-03", 4, {"w-civil": 2, "w-land": 2}, {"p-clerk": 1, "p-other": 1, "p-clerk-b": 1}),
    ("2025-04", 1, {"w-land": 1}, {}),
    ("2025-02", 0, {}, {}),
])
def test_verified_complaints_per_window_and_person(month, month_asked, total, windows, people):
    with month() as uow:
        got = statistics.verified_counts(uow, month_asked, per_person=True)
    assert (got["month"], got["total"], got["windows"], got["people"]) == (month_asked, total, windows, people)


def test_another_township_counts_only_its_own_and_the_default_month_is_the_local_one(month):
    with month.unit_of_work("township-b") as uow:
        got = statistics.verified_counts(uow)
    assert got == {"month": "2025-03", "total": 1, "windows": {"w-b": 1}}
    assert "张三丰" not in str(got) and "13812345678" not in str(got)
