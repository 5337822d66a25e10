"""Reading staff's organisation one way (services/common/staffdir.py; issue 10): the service's
own copy first; what it lacks from staff by a bounded RPC asked with no unit of work open."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from services.common import staffdir
from services.common.db import Database, in_unit_of_work, make_base
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
