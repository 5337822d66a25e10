"""The staff service: entrypoints only. Rules live in organisation.py and the discipline
modules."""
from __future__ import annotations

from datetime import date

from nameko.rpc import rpc

from services.common.db import NATIONAL, Database
from services.common.errors import Forbidden
from services.common.service import BaseService

from . import organisation as org
from .models import Base

MANAGERS = ("director", "deputy_director")


class StaffService(BaseService):
    name = "staff"
    db = Database(Base)

    # -- townships (operator) ---------------------------------------------
    @rpc
    def create_township(self, code, name, director, timezone="Asia/Shanghai"):
        self.caller.require("operator")
        with self.db() as uow:
            return org.create_township(uow, code, name, director, timezone)

    @rpc
    def list_townships(self):
        self.caller.require("operator")
        with self.db() as uow:
            return org.list_townships(uow)

    @rpc
    def resolve_township(self, code):
        """Public: a township's id and name by its code (the gateway's public paths)."""
        with self.db() as uow:
            return org.resolve_township(uow, code)

    @rpc
    def get_township(self, township_id):
        with self.db() as uow:
            return org.township_record(org.get_township(uow, township_id))

    # -- organisation (director) ------------------------------------------
    @rpc
    def create_department(self, name):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return org.create_department(uow, name)

    @rpc
    def create_window(self, number, name, department_id=None):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return org.create_window(uow, number, name, department_id)

    @rpc
    def create_person(self, name, roles, window_id=None, department_id=None, phone=None,
                      badge_no=None, home_unit=None):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return org.create_person(uow, name, roles, window_id, department_id, phone, badge_no, home_unit)

    @rpc
    def update_person(self, person_id, **changes):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return org.update_person(uow, person_id, **changes)

    @rpc
    def set_ab_pair(self, window_id, a_person_id, b_person_id):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return org.set_ab_pair(uow, window_id, a_person_id, b_person_id)

    @rpc
    def list_windows(self):
        with self.db(self.caller.township) as uow:
            return org.list_windows(uow)

    @rpc
    def list_departments(self):
        with self.db(self.caller.township) as uow:
            return org.list_departments(uow)

    @rpc
    def list_people(self):
        caller = self.caller
        with self.db(caller.township) as uow:
            return org.list_people(uow, full=caller.has(*MANAGERS))

    @rpc
    def get_person(self, person_id):
        caller = self.caller
        with self.db(caller.township) as uow:
            return org.get_person(uow, person_id, full=caller.has(*MANAGERS) or caller.person_id == person_id)

    @rpc
    def staff_on_duty(self):
        with self.db(self.caller.township) as uow:
            return org.staff_on_duty(uow)

    @rpc
    def organisation_snapshot(self, township_id):
        """Internal: a township's organisation as other services copy it (township explicit,
        for event handlers and sweeps that have no caller context)."""
        with self.db(township_id) as uow:
            return org.organisation_snapshot(uow)

    # -- tokens -------------------------------------------------------------
    @rpc
    def issue_token(self, person_id=None, days=30, label=None):
        """A director issues a token for a person of the township; the operator tool issues
        operator tokens (person_id None) with the platform's own credentials."""
        caller = self.caller
        if person_id is None:
            caller.require("operator")
            with self.db() as uow:
                return org.issue_token(uow, None, days, label=label)
        if caller.has("operator") and caller.township_id is None:
            raise Forbidden("operators issue tokens inside a township only through its director")
        caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return org.issue_token(uow, person_id, days, label=label)

    @rpc
    def bootstrap_token(self, township_id, person_id, days=30):
        """Operator: the first token of a new township's director."""
        self.caller.require("operator")
        with self.db(township_id) as uow:
            return org.issue_token(uow, person_id, days, label="bootstrap")

    @rpc
    def revoke_token(self, jti):
        caller = self.caller
        if caller.has("operator"):
            with self.db() as uow:
                return org.revoke_token(uow, jti, None)
        caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return org.revoke_token(uow, jti, caller.township)

    @rpc
    def revoked_tokens(self):
        with self.db() as uow:
            return org.revoked_tokens(uow)

    # -- calendar -----------------------------------------------------------
    @rpc
    def change_calendar(self, days=(), cleared=(), loaded_year=None, national=False):
        caller = self.caller
        if national:
            caller.require("operator")
            scope = NATIONAL
        else:
            caller.require(*MANAGERS)
            scope = caller.township
        with self.db(None if national else scope) as uow:
            return org.change_calendar(uow, scope, days, cleared, loaded_year)

    @rpc
    def calendar_day(self, day):
        with self.db(self.caller.township_id) as uow:
            return org.calendar_answer(uow, self.caller.township_id, date.fromisoformat(day))


SERVICE = StaffService
