"""The complaints service: entrypoints only (DOMAIN P1–P6, T1). Rules live in handling.py,
followups.py, sweep.py, public.py and rules.py."""
from __future__ import annotations

from nameko.rpc import rpc

from services.common.tenancy import COMPLAINT_DESK, LEADERS, STAFF
from services.common import staffdir
from services.common.db import Database
from services.common.handlers import (
    CalendarFollower,
    TownshipTimezoneFollower,
    handle_once,
    reliable_handler,
)
from services.common.idempotency import command
from services.common.metrics import Metrics
from services.common.rpc import Rpc
from services.common.service import BaseService
from services.common.sweep import Sweeper, sweep_timer
from services.contracts.complaints import PublicComplaintReceipt

from . import duty, followups, forwarding, handling, orgcopy, public, statistics, sweep
from .models import Base
from .rules import IDENTITY_ROLES, INVESTIGATOR_ROLES, READ_ALL_ROLES, ROSTER_ROLES, RULES
from services.contracts import shared

RECORDERS = COMPLAINT_DESK
FOLLOW_UP_ROLES = COMPLAINT_DESK


class ComplaintsService(CalendarFollower, TownshipTimezoneFollower, BaseService):
    name = "complaints"
    db = Database(Base)
    sweeper = Sweeper()
    rules = RULES
    staff = Rpc("staff")  # bounded by the caller's deadline (services/common/rpc.py)
    metrics = Metrics(gauges={
        "complaints_open": ("Open complaints and petitions (not closed)", sweep.open_counts),
        "complaints_overdue": ("Open complaints and petitions past their deadline", sweep.overdue_counts),
        "follow_ups_open": ("Open follow-ups of low ratings (P6)", sweep.open_follow_up_counts),
    })

    # -- helpers (not entrypoints) ------------------------------------------------
    def _unit(self, data=None):
        """The caller's unit of work, opened once the copy of staff's organisation has what the
        call needs — the target a complaint names, the caller (P2: whose complaints they may
        see) — asked of staff before the transaction opens (services/common/staffdir)."""
        caller = self.caller
        people, windows, departments = [], [], []
        if isinstance(data, dict):
            people.append(data.get("target_person_id"))
            windows.append(data.get("target_window_id"))
            departments += [data.get("target_department_id"), data.get("department_id")]
            people += [d.get("person_id") for d in data.get("days") or [] if isinstance(d, dict)]
        if caller.person_id and not caller.has(*READ_ALL_ROLES):
            people.append(caller.person_id)
        people = [p for p in people if isinstance(p, str)]
        windows = [w for w in windows if isinstance(w, str)]
        departments = [d for d in departments if isinstance(d, str)]
        if any(people) or any(windows) or any(departments):
            staffdir.ensure(self.db, self.staff, caller.township, required=True,
                            knows=lambda uow: orgcopy.knows(uow, people, windows, departments),
                            store=orgcopy.apply_snapshot)
        return self.db(caller.township)

    def _viewer(self, uow):
        caller = self.caller
        return handling.viewer_for(uow, caller.person_id, caller.roles)

    # -- complaints (P1–P4) ----------------------------------------------------------
    @command
    def record_complaint(self, **data):
        caller = self.caller.require(*RECORDERS)
        with self._unit(data) as uow:
            c = handling.record_complaint(uow, data, caller.person_id)
            return handling.complaint_record(c, self._viewer(uow))

    @command
    def submit_public_complaint(self, client=None, **data):
        """T1 / P1: the public complains online (no account); answers the number only.
        ``client``: the caller's address as the gateway saw it, for the throttle."""
        township = self.caller.township
        data = dict(data, channel="online")
        with self._unit(data) as uow:
            handling.throttle_public(uow, client, RULES.load(uow))
            c = handling.record_complaint(uow, data, None)
            return shared(PublicComplaintReceipt).dump(c)

    @command
    def record_petition(self, **data):
        caller = self.caller.require(*RECORDERS)
        with self._unit(data) as uow:
            c = handling.record_petition(uow, data, caller.person_id)
            return handling.complaint_record(c, self._viewer(uow))

    @rpc
    def get_complaint(self, complaint_id):
        with self._unit() as uow:
            return handling.view(uow, complaint_id, self._viewer(uow))

    @rpc
    def list_complaints(self, state=None, kind=None, overdue=None):
        with self._unit() as uow:
            return handling.list_for(uow, self._viewer(uow), state, kind, overdue)

    @command
    def explain_delay(self, complaint_id, reason, told_via):
        caller = self.caller.require(*INVESTIGATOR_ROLES)
        with self._unit() as uow:
            return handling.explain_delay(uow, complaint_id, reason, told_via, caller.person_id, self._viewer(uow))

    @command
    def conclude(self, complaint_id, outcome, finding, category=None):
        caller = self.caller.require(*INVESTIGATOR_ROLES)
        with self._unit() as uow:
            return handling.conclude(uow, complaint_id, outcome, finding, caller.person_id,
                                     self._viewer(uow), category)

    @command
    def reply(self, complaint_id, form, summary):
        caller = self.caller.require(*INVESTIGATOR_ROLES)
        with self._unit() as uow:
            return handling.reply(uow, complaint_id, form, summary, caller.person_id, self._viewer(uow))

    @command
    def close(self, complaint_id):
        caller = self.caller
        with self._unit() as uow:
            return handling.close(uow, complaint_id, caller.person_id, caller.roles, self._viewer(uow))

    @command
    def record_reception(self, complaint_id, note=None):
        caller = self.caller.require(*LEADERS)
        with self._unit() as uow:
            return handling.record_reception(uow, complaint_id, caller.person_id, note, self._viewer(uow))

    # -- P5 leader on duty -------------------------------------------------------------------
    @command
    def set_duty_roster(self, month, days):
        caller = self.caller.require(*ROSTER_ROLES)
        with self._unit({"days": days}) as uow:
            return duty.set_roster(uow, month, days, caller.person_id)

    @command
    def publish_duty_roster(self, month):
        caller = self.caller.require(*ROSTER_ROLES)
        with self._unit() as uow:
            return duty.publish(uow, month, caller.person_id)

    @rpc
    def get_duty_roster(self, month):
        self.caller.require(*STAFF)
        with self._unit() as uow:
            return duty.get_roster(uow, month)

    @rpc
    def leader_on_duty(self):
        """T1 / P5: public — today's leader on duty and this month's published roster."""
        with self.db(self.caller.township) as uow:
            return duty.public_today(uow)

    # -- P7 forwarding -----------------------------------------------------------------------
    @command
    def forward(self, complaint_id, department_id=None, instructions=None):
        caller = self.caller.require(*IDENTITY_ROLES)
        with self._unit({"department_id": department_id}) as uow:
            return forwarding.forward(uow, complaint_id, department_id, instructions, caller.person_id,
                                      self._viewer(uow))

    @rpc
    def list_forwardings(self, state=None):
        with self._unit() as uow:
            return forwarding.list_for(uow, self._viewer(uow), state)

    @rpc
    def complaint_forwardings(self, complaint_id):
        with self._unit() as uow:
            return forwarding.list_for_complaint(uow, complaint_id, self._viewer(uow))

    @rpc
    def get_forwarding(self, forwarding_id):
        with self._unit() as uow:
            return forwarding.get(uow, forwarding_id, self._viewer(uow))

    @command
    def answer_forwarding(self, forwarding_id, answer):
        caller = self.caller.require(*STAFF)
        with self._unit() as uow:
            return forwarding.answer(uow, forwarding_id, answer, caller.person_id, self._viewer(uow))

    @command
    def check_forwarding(self, forwarding_id, decision, note=None):
        caller = self.caller.require(*IDENTITY_ROLES)
        with self._unit() as uow:
            return forwarding.check(uow, forwarding_id, decision, note, caller.person_id, self._viewer(uow))

    @command
    def report_upward(self, complaint_id, **data):
        caller = self.caller.require(*RECORDERS)
        with self._unit() as uow:
            return forwarding.report_upward(uow, complaint_id, data, caller.person_id, self._viewer(uow))

    @rpc
    def upward_reports(self, complaint_id):
        self.caller.require(*RECORDERS)
        with self._unit() as uow:
            return forwarding.upward_reports(uow, complaint_id, self._viewer(uow))

    # -- follow-ups (P6) ---------------------------------------------------------------
    @rpc
    def list_follow_ups(self, state=None):
        caller = self.caller.require(*FOLLOW_UP_ROLES)
        with self.db(caller.township) as uow:
            return followups.list_follow_ups(uow, state)

    @rpc
    def get_follow_up(self, follow_up_id):
        caller = self.caller.require(*FOLLOW_UP_ROLES)
        with self.db(caller.township) as uow:
            return followups.get_follow_up(uow, follow_up_id)

    @command
    def record_callback(self, follow_up_id, note):
        caller = self.caller.require(*FOLLOW_UP_ROLES)
        with self.db(caller.township) as uow:
            return followups.record_callback(uow, follow_up_id, note)

    @command
    def record_rectification(self, follow_up_id, rectification):
        caller = self.caller.require(*FOLLOW_UP_ROLES)
        with self.db(caller.township) as uow:
            return followups.record_rectification(uow, follow_up_id, rectification, caller.person_id)

    # -- public (T1) ----------------------------------------------------------------------
    @rpc
    def public_outcomes(self, months=12):
        with self.db(self.caller.township) as uow:
            return public.outcomes(uow, months)

    @rpc
    def verified_counts(self, month=None, per_person=False):
        """T1: verified complaints of a month per window (per person for READ_ALL_ROLES)."""
        caller = self.caller
        if per_person:
            caller.require(*READ_ALL_ROLES)
        with self.db(caller.township) as uow:
            return statistics.verified_counts(uow, month, bool(per_person))

    # -- events ---------------------------------------------------------------------------
    @reliable_handler("cases", "rating_submitted")
    def on_rating_submitted(self, body):
        handle_once(self, "cases.rating_submitted", body, followups.on_rating)

    @reliable_handler("intake", "agent_rated")
    def on_agent_rated(self, body):
        """I6 / P6: a village agent rated 1–2 is followed up like a window."""
        handle_once(self, "intake.agent_rated", body, followups.on_agent_rating)

    @reliable_handler("staff", "organisation_changed")
    def on_organisation_changed(self, body):
        handle_once(self, "staff.organisation_changed", body, orgcopy.apply_organisation_change)

    # -- timers -----------------------------------------------------------------------------
    @sweep_timer
    def sweep_overdue(self):
        return self.sweeper(sweep.sweep)


SERVICE = ComplaintsService
