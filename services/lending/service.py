"""The lending service: entrypoints only (DOMAIN L1–L6). Rules live in rules.py, ledger.py,
handover.py, register.py and sweep.py."""
from __future__ import annotations

from datetime import date

from nameko.rpc import rpc

from services.common import staffdir
from services.common.db import Database
from services.common.errors import field_error
from services.common.handlers import CalendarFollower, TownshipTimezoneFollower
from services.common.idempotency import command
from services.common.metrics import Metrics
from services.common.rpc import Rpc
from services.common.service import BaseService
from services.common.sweep import Sweeper, sweep_timer
from services.common.tenancy import GATE_VIEWERS

from . import handover, ledger, register, sweep
from .models import Base
from .rules import KINDS, LENDERS, MANAGERS, RULES

VIEWERS = GATE_VIEWERS




class LendingService(CalendarFollower, TownshipTimezoneFollower, BaseService):
    name = "lending"
    db = Database(Base)
    staff = Rpc("staff")  # bounded by the caller's deadline (services/common/rpc.py)
    sweeper = Sweeper()
    rules = RULES
    metrics = Metrics(gauges={
        "lending_items_lent": ("Items lent out now", sweep.lent_counts),
        "lending_loans_overdue": ("Loans not back by the end of their due day (L4)", sweep.overdue_counts),
    })

    # -- items (L1) ----------------------------------------------------------------
    @command
    def create_item(self, **data):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return ledger.create_item(uow, data)

    @command
    def update_item(self, item_id, **changes):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return ledger.update_item(uow, item_id, changes)

    @rpc
    def list_items(self, kind=None, state=None):
        with self.db(self.caller.township) as uow:
            return ledger.list_items(uow, kind, state)

    # -- loans (L2, L3) ----------------------------------------------------------------
    @command
    def lend(self, item_id, **data):
        caller = self.caller.require(*LENDERS)
        with self.db(caller.township) as uow:
            return ledger.lend(uow, item_id, data, caller.person_id, caller.roles)

    @command
    def take_back(self, loan_id, condition, note=None, cause=None):
        caller = self.caller.require(*LENDERS)
        with self.db(caller.township) as uow:
            return ledger.take_back(uow, loan_id, condition, note, caller.person_id, caller.roles, cause)

    @rpc
    def list_loans(self, state=None):
        caller = self.caller.require(*VIEWERS)
        with self.db(caller.township) as uow:
            return ledger.list_loans(uow, state, caller.roles)

    @rpc
    def get_loan(self, loan_id):
        caller = self.caller.require(*VIEWERS)
        with self.db(caller.township) as uow:
            return ledger.get_loan(uow, loan_id, caller.roles)

    # -- reminders (L4) --------------------------------------------------------------------
    @rpc
    def list_reminders(self, state=None):
        caller = self.caller.require(*VIEWERS)
        with self.db(caller.township) as uow:
            return ledger.list_tasks(uow, state)

    @command
    def complete_reminder(self, task_id, note):
        caller = self.caller.require(*LENDERS)
        with self.db(caller.township) as uow:
            return ledger.complete_task(uow, task_id, note, caller.person_id)

    # -- handover (L5) -----------------------------------------------------------------------
    @command
    def record_handover(self, to_person_id, in_stock, lent, note=None):
        caller = self.caller.require(*LENDERS)
        with self.db(caller.township) as uow:
            return handover.record_handover(uow, caller.person_id, to_person_id, in_stock, lent, note)

    @rpc
    def ledger_state(self):
        """What a handover must state: in stock and lent to whom, by the ledger."""
        caller = self.caller.require(*VIEWERS)
        with self.db(caller.township) as uow:
            in_stock, lent = handover.ledger(uow)
            return {"in_stock": [{"item_id": k, "label": v} for k, v in sorted(in_stock.items(), key=lambda kv: kv[1])],
                    "lent": [{"item_id": k, "label": v[0], "borrower_name": v[1]}
                             for k, v in sorted(lent.items(), key=lambda kv: kv[1][0])]}

    @rpc
    def list_handovers(self):
        caller = self.caller.require(*VIEWERS)
        with self.db(caller.township) as uow:
            return handover.list_handovers(uow)

    # -- register (L6) ---------------------------------------------------------------------------
    @rpc
    def export_register(self, start, end, kind=None):
        caller = self.caller.require(*VIEWERS)
        if kind is not None and kind not in KINDS:
            raise field_error("kind", f"one of {', '.join(KINDS)}")
        try:
            start_day, end_day = date.fromisoformat(start), date.fromisoformat(end)
        except (TypeError, ValueError):
            raise field_error("from", "ISO dates (YYYY-MM-DD) for from and to") from None
        names = self._staff_names(caller.township)  # asked before the transaction opens
        with self.db(caller.township) as uow:
            return register.export_csv(uow, start_day, end_day, kind, caller.roles, names)

    def _staff_names(self, township_id) -> dict:
        """Names of the township's people: lending keeps no copy of the organisation, so it asks
        staff (services/common/staffdir: bounded, outside any transaction; ids if it is away)."""
        snapshot = staffdir.snapshot(self.staff, township_id)
        return {p["id"]: p["name"] for p in snapshot["people"]} if snapshot else {}

    # -- timers (L4) -------------------------------------------------------------------------------
    @sweep_timer
    def sweep_overdue(self):
        return self.sweeper(sweep.sweep)


SERVICE = LendingService
