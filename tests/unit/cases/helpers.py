"""A unit of work on an in-memory SQLite database (no broker), and event builders."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo


from services.common import events
from services.common.clock import FrozenClock
from services.cases import lifecycle, posts
from services.cases.models import Base
from tests.support.units import UnitsOfWork

SH = ZoneInfo("Asia/Shanghai")
T1, T2 = "town-a", "town-b"


def at(y, m, d, hh=10, mm=0) -> datetime:
    """A local (Shanghai) moment, as an aware datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=SH)


class World(UnitsOfWork):
    """The cases service's database in memory, a frozen clock, and units of work on it —
    the same ``UnitOfWork`` the service uses; ``unit_of_work`` matches ``Database``'s, so the
    timer sweeps run on it unchanged."""

    def __init__(self, now: datetime):
        super().__init__(Base, "cases", FrozenClock(now))

    def __call__(self, township_id=T1):
        return self.unit_of_work(township_id)

    def events(self, event_type=None, **match):
        return [e for e in self.emitted if (event_type is None or e["event_type"] == event_type)
                and all(e.get(k) == v for k, v in match.items())]

    # -- organisation ------------------------------------------------------------------
    def org(self, township_id=T1, window="w1", a="clerk-a", b="clerk-b", reviewer2="clerk-c", prefix=""):
        with self(township_id) as uow:
            for entity, ident, data in [
                ("township", township_id, {"id": township_id, "timezone": "Asia/Shanghai"}),
                ("window", window, {"id": window, "number": 1, "a_person_id": a, "b_person_id": b}),
                ("person", a, {"window_id": window, "roles": ["clerk"]}),
                ("person", b, {"window_id": window, "roles": ["clerk"]}),
                ("person", reviewer2, {"window_id": "other", "roles": ["clerk"]}),
                ("person", prefix + "head", {"roles": ["section_head"]}),
                ("person", prefix + "deputy", {"roles": ["deputy_director"]}),
                ("person", prefix + "boss", {"roles": ["director"]}),
                # C8: the township's fee window and its cashier
                ("window", prefix + "wfee", {"id": prefix + "wfee", "number": 9, "name": "收费", "fee_window": True}),
                ("person", prefix + "cashier", {"window_id": prefix + "wfee", "roles": ["clerk"]}),
            ]:
                posts.apply_org_change(uow, {"entity": entity, "entity_id": ident, "action": "created",
                                             "data": data, "township_id": township_id})

    # -- cases -----------------------------------------------------------------------------
    def accept(self, township_id=T1, kind="promised", days=3, accepted_at=None, accepted_on=None, **extra):
        accepted_at = accepted_at or self.clock.now()
        body = events.build(
            "intake.application_accepted", township_id, self.clock.now(),
            application_id=extra.pop("application_id", f"app-{len(self.emitted)}-{kind}"),
            receipt_no=extra.pop("receipt_no", f"R{len(self.emitted):06d}"),
            item_code="MZ-001", item_version=1, item_name="低保申请", kind=kind,
            window_id=extra.pop("window_id", "w1"), handler_person_id=extra.pop("handler", "clerk-a"),
            accepted_at=accepted_at.isoformat(),
            accepted_on=(accepted_on or accepted_at.astimezone(SH).date()).isoformat(),
            promised_days=days, **extra)
        event = events.parse("intake.application_accepted", body)
        with self(township_id) as uow:
            case = lifecycle.open_case(uow, event)
            return case.id

    def complete(self, case_app_id, completed_at, kind="promised", township_id=T1, completed_on=None):
        body = events.build("intake.materials_completed", township_id, self.clock.now(),
                            application_id=case_app_id, completed_at=completed_at.isoformat(),
                            completed_on=(completed_on or completed_at.astimezone(SH).date()).isoformat(),
                            kind=kind)
        with self(township_id) as uow:
            return lifecycle.materials_completed(uow, events.parse("intake.materials_completed", body))

    def case(self, case_id, township_id=T1) -> dict:
        with self(township_id) as uow:
            return lifecycle.case_record(lifecycle.get_case(uow, case_id), full=True, uow=uow)

    def do(self, fn, *args, township_id=T1, **kwargs):
        with self(township_id) as uow:
            return fn(uow, *args, **kwargs)

    def move_to(self, moment: datetime):
        self.clock.set(moment)


def day(s: str) -> date:
    return date.fromisoformat(s)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


