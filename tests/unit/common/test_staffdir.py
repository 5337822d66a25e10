"""Reading staff's organisation one way (services/common/staffdir.py; issue 10): the service's
own copy first; what it lacks from staff by a bounded RPC asked with no unit of work open."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from services.common import staffdir
from services.common.db import Database, TenantScoped, in_unit_of_work, make_base
from services.common.errors import ServiceUnavailable

SNAPSHOT = {"township": {"id": "t1"}, "windows": [{"id": "w1"}], "people": [{"id": "p1", "name": "张三"}]}


class Reply:
    def __init__(self, value):
        self.value = value

    def result(self):
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


class FakeStaff:
    """``organisation_snapshot`` as a nameko proxy method; records whether a unit was open."""

    def __init__(self, answer=SNAPSHOT):
        self.answer = answer
        self.calls: list[tuple[str, bool]] = []
        outer = self

        class Method:
            service_name = "staff"

            def call_async(self, township_id):
                outer.calls.append((township_id, in_unit_of_work()))
                return Reply(outer.answer)
        self.organisation_snapshot = Method()


@pytest.fixture
def db():
    provider = Database(make_base(), relay=False)
    provider.container = SimpleNamespace(config={"DATABASE_URL": "sqlite://"}, service_name="svc",
                                         dependencies=[])
    provider.setup()
    yield provider
    provider.engine.dispose()


def open_unit(db):
    return lambda township_id=None: db.unit_of_work(township_id)


def test_what_the_copy_knows_is_not_asked_of_staff(db):
    staff = FakeStaff()
    assert staffdir.ensure(open_unit(db), staff, "t1", knows=lambda uow: True, store=pytest.fail)
    assert staff.calls == []


def test_what_the_copy_lacks_is_asked_with_no_unit_open_then_stored(db):
    staff, stored = FakeStaff(), []

    def store(uow, snapshot):
        stored.append((uow.township_id, snapshot, in_unit_of_work()))
    assert staffdir.ensure(open_unit(db), staff, "t1", knows=lambda uow: False, store=store)
    assert staff.calls == [("t1", False)]  # never inside an open transaction
    assert stored == [("t1", SNAPSHOT, True)]


def test_asking_staff_inside_an_open_unit_of_work_is_refused(db):
    staff = FakeStaff()
    with db.unit_of_work("t1"):
        assert in_unit_of_work()
        with pytest.raises(staffdir.AskedInsideTransaction):
            staffdir.snapshot(staff, "t1")
    assert not in_unit_of_work() and staff.calls == []


@pytest.mark.parametrize("required", [True, False])
def test_staff_away_is_an_error_only_where_the_answer_is_required(db, required):
    staff = FakeStaff(ServiceUnavailable.of("staff", "no reply"))
    if required:
        with pytest.raises(ServiceUnavailable):
            staffdir.ensure(open_unit(db), staff, "t1", knows=lambda uow: False, store=pytest.fail, required=True)
    else:  # best effort (a case still opens with the accepting clerk): nothing stored, False
        assert staffdir.ensure(open_unit(db), staff, "t1", knows=lambda uow: False, store=pytest.fail) is False


@pytest.mark.parametrize("copy_knows, asked, runs", [
    (True, [], [True]),                     # the usual case: one unit of work, staff not asked
    (False, [("t1", False)], [True, False]),  # rolled back, staff asked with none open, run again
])
def test_work_that_checks_the_copy_in_its_own_unit_asks_staff_only_when_it_lacks(db, copy_knows, asked, runs):
    staff, ran, written = FakeStaff(), [], []

    def run(checked):
        ran.append(checked)
        with db.unit_of_work("t1"):
            written.append(checked)  # stands for an effect the rollback must undo
            if checked and not copy_knows:
                written.pop()
                raise staffdir.CopyLacks()
        return "done"

    def fill():
        staffdir.ensure(open_unit(db), staff, "t1", knows=lambda uow: False, store=lambda uow, snap: None)

    assert staffdir.first_from_copy(run, fill) == "done"
    assert ran == runs and staff.calls == asked and written == [runs[-1]]


# -- keeping a copy: one upsert for every service's copy of staff's people ----------------------

@pytest.mark.parametrize("data,action,expected", [
    ({"name": "张三", "roles": ["clerk"], "window_id": "w1", "active": True}, "created",
     {"name": "张三", "roles": ["clerk"], "window_id": "w1", "active": True}),
    ({"name": None, "roles": None}, "updated", {"name": "", "roles": [], "window_id": None, "active": True}),
    ({"name": "李四", "roles": ["guard"], "active": False}, "updated",
     {"name": "李四", "roles": ["guard"], "window_id": None, "active": False}),
    ({"name": "王五", "roles": ["director"], "active": True}, "deactivated",  # the action wins
     {"name": "王五", "roles": ["director"], "window_id": None, "active": False}),
])
def test_a_person_of_staffs_events_as_a_copy_keeps_it(data, action, expected):
    assert staffdir.person_values(data, action) == expected


def test_extra_fields_are_kept_as_given_and_nothing_else_is():
    data = {"name": "张三", "home_unit": "县民政局", "phone": "13907310011", "id_number": "430123195811020027"}
    values = staffdir.person_values(data, extra=("home_unit",))
    assert values["home_unit"] == "县民政局" and "phone" not in values and "id_number" not in values


CopyBase = make_base()


class PersonCopy(TenantScoped, CopyBase):
    __tablename__ = "people_copy_test"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(60), default="")
    roles: Mapped[list] = mapped_column(JSON, default=list)
    window_id: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


def test_upsert_copy_creates_in_the_units_township_then_updates_idempotently():
    from datetime import datetime, timezone

    from services.common.clock import FrozenClock
    from tests.support.units import UnitsOfWork

    Copy = PersonCopy
    units = UnitsOfWork(CopyBase, "test", FrozenClock(datetime(2026, 3, 4, tzinfo=timezone.utc)))
    event = {"name": "张三", "roles": ["clerk"], "window_id": "w1"}
    for _ in range(2):  # an event delivered twice
        with units("t1") as uow:
            staffdir.upsert_copy(uow, Copy, "p1", staffdir.person_values(event, "created"))
    with units("t1") as uow:
        staffdir.upsert_copy(uow, Copy, "p1", staffdir.person_values(event, "deactivated"))
    with units("t1") as uow:
        rows = uow.session.query(Copy).all()
        assert [(r.id, r.township_id, r.name, r.roles, r.window_id, r.active) for r in rows] == [
            ("p1", "t1", "张三", ["clerk"], "w1", False)]
    with units("t2") as uow:
        assert uow.find(Copy, "p1") is None  # another township's copy never shows it
