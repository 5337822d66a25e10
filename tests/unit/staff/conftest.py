"""Unit-test support for staff discipline: a SQLite database with staff's tables and a unit
of work on a frozen clock (no broker; the outbox is a table we can read)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.common.clock import FrozenClock
from services.staff import organisation as org
from services.staff.models import Base
from tests.support.units import UnitsOfWork

SH = ZoneInfo("Asia/Shanghai")


def local(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=SH)


class World:
    def __init__(self, path):
        self.units = UnitsOfWork(Base, "staff", FrozenClock(local(2025, 3, 3, 9)), f"sqlite:///{path}")
        self.engine, self.clock = self.units.engine, self.units.clock
        self.township_id = None
        self.people = {}

    def uow(self, township_id="default"):
        return self.units(self.township_id if township_id == "default" else township_id)

    def at(self, *args):
        self.clock.set(local(*args))

    def windows_served(self, since, worked_on, people=("a", "b", "c", "d")):
        """S7: backdate every window's opening to ``since`` (a local datetime) and sign ``people``
        in at 08:00 on ``worked_on`` (a date) — what a window needs to be honoured for a quarter."""
        from services.staff import attendance
        from services.staff.models import Window
        with self.uow() as uow:
            for w in uow.scalars(select(Window)):
                w.created_at = since
            for key in people:
                attendance.record_mark(uow, self.people["director"], self.people[key], "in",
                                       local(worked_on.year, worked_on.month, worked_on.day, 8).isoformat())

    def events(self, event_type):
        with self.uow() as uow:
            rows = uow.session.execute(select(uow.common.outbox.c.payload).where(
                uow.common.outbox.c.event_type == event_type)).scalars()
            return list(rows)


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path / "staff.db")
    with w.uow(None) as uow:
        made = org.create_township(uow, "qs", "青山镇", {"name": "周主任"})
        w.township_id = made["township"]["id"]
        w.people["director"] = made["director"]["id"]
        dept = org.create_department(uow, "民政办")
        win = org.create_window(uow, 1, "民政", dept["id"])
        win2 = org.create_window(uow, 2, "计生", dept["id"])
        w.windows = {"civil": win["id"], "health": win2["id"]}
        for key, roles, window, badge in [
            ("a", ["clerk"], win["id"], "B01"), ("b", ["clerk"], win["id"], "B02"),
            ("c", ["clerk"], win2["id"], "B03"), ("d", ["clerk"], win2["id"], "B04"),
            ("head", ["section_head"], None, "H01"), ("deputy", ["deputy_director"], None, "D01"),
            ("inspector", ["inspector"], None, "I01"),
        ]:
            w.people[key] = org.create_person(uow, key.upper(), roles, window_id=window, badge_no=badge,
                                              home_unit="民政办", phone="13800001234")["id"]
        org.set_ab_pair(uow, win["id"], w.people["a"], w.people["b"])
    return w
