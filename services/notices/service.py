"""The notices service: entrypoints only (DOMAIN N1). Who must know is decided in routing.py,
inboxes and escalation live in inbox.py, outside channels in delivery.py."""
from __future__ import annotations

from nameko.rpc import rpc

from services.common import staffdir
from services.common.db import NATIONAL, Database
from services.common.errors import field_error
from services.common.handlers import CalendarFollower, TownshipTimezoneFollower, handle_once, reliable_handler
from services.common.idempotency import command
from services.common.metrics import Metrics
from services.common.privacy import WITHHELD
from services.common.recompute import Recomputing, recompute_timer
from services.common.rpc import Rpc
from services.common.service import BaseService
from services.common.sweep import Sweeper, sweep_timer
from services.common.tenancy import LEADERS, STAFF

from . import delivery, inbox, orgcopy, recompute, routing, sweep
from .models import Base
from .rules import RULES


def hide_secret(settings: dict) -> dict:
    return {**settings, "webhook_secret": WITHHELD if settings.get("webhook_secret") else ""}


class NoticesService(CalendarFollower, TownshipTimezoneFollower, BaseService):
    name = "notices"
    db = Database(Base)
    staff = Rpc("staff")  # bounded (services/common/rpc.py); asked only outside a transaction
    sweeper = Sweeper()
    recomputing = Recomputing(recompute.Recomputer)
    rules = RULES
    metrics = Metrics(gauges={
        "notices_sent": ("Notices put in inboxes (N1)", inbox.sent_counts),
        "notices_unacknowledged": ("Notices that need an answer and have none", inbox.unacknowledged_counts),
        "notices_overdue": ("Notices not acknowledged within the N1 period", inbox.overdue_counts),
        "notice_deliveries_failed": ("Outside deliveries given up after their last attempt", delivery.failed_counts),
        "notice_deliveries_retrying": ("Outside deliveries waiting for a retry", delivery.retrying_counts),
        "notices_ack_recompute_pending": ("1 while a township's acknowledgement deadlines wait to be recomputed "
                                          "after a calendar change", recompute.pending),
    })

    # -- inbox (N1) --------------------------------------------------------------------
    @rpc
    def my_notices(self, page=1, per_page=20, unread=False):
        caller = self.caller.require(*STAFF)
        if not caller.person_id:
            raise field_error("person", "an inbox belongs to a person of the township")
        with self.db(caller.township) as uow:
            return inbox.inbox(uow, caller.person_id, int(page), int(per_page), bool(unread))

    @command
    def mark_read(self, notice_id):
        caller = self.caller.require(*STAFF)
        with self.db(caller.township) as uow:
            return inbox.mark_read(uow, notice_id, caller.person_id)

    @command
    def acknowledge(self, notice_id, note=None):
        caller = self.caller.require(*STAFF)
        with self.db(caller.township) as uow:
            return inbox.acknowledge(uow, notice_id, caller.person_id, note)

    @rpc
    def pending(self, overdue=False):
        """The director's view: unacknowledged (``overdue``: past their period) notices."""
        caller = self.caller.require(*LEADERS)
        with self.db(caller.township) as uow:
            return inbox.pending(uow, bool(overdue))

    # -- settings: the webhook's secret is never read back ------------------------------------
    @rpc
    def get_settings(self):
        with self.db(self.caller.township) as uow:
            return {"settings": hide_secret(self.rules.load(uow)), "rules": self.rules.describe()}

    @command
    def update_settings(self, changes):
        self.caller.require(*LEADERS)
        with self.db(self.caller.township) as uow:
            return {"settings": hide_secret(self.rules.update(uow, changes)), "rules": self.rules.describe()}

    # -- the organisation copy --------------------------------------------------------------
    @reliable_handler("staff", "organisation_changed")
    def on_organisation_changed(self, body):
        handle_once(self, "staff.organisation_changed", body, orgcopy.apply_organisation_change)

    # -- the calendar: open acknowledgement deadlines follow it (N1 period in working days, C2) --
    def calendar_changed(self, uow, event):
        """CalendarFollower's hook: recorded here, recomputed in chunks by the timer below."""
        recompute.mark(uow, None if event["scope"] == NATIONAL else event["scope"])

    @recompute_timer
    def recompute_ack_deadlines(self):
        return self.recomputing()

    # -- the events behind N1 (routing.ROUTES) ---------------------------------------------------
    def _notify(self, event_type, body):
        """Recipients are chosen from the copy; people an event names that the copy does not
        know yet (their event still on its way) are asked of staff first, with no transaction
        open (services/common/staffdir)."""
        township = body.get("township_id") if isinstance(body, dict) else None
        named = routing.named_people(body)
        if township:
            staffdir.ensure(self.db, self.staff, township, store=orgcopy.apply_snapshot,
                            knows=lambda uow: orgcopy.knows(uow, named))
        handle_once(self, event_type, body, lambda uow, ev: inbox.notify(uow, event_type, ev) and None)

    @reliable_handler("cases", "case_reminder")
    def on_case_reminder(self, body):
        self._notify("cases.case_reminder", body)

    @reliable_handler("cases", "case_overdue")
    def on_case_overdue(self, body):
        self._notify("cases.case_overdue", body)

    @reliable_handler("cases", "handler_unavailable")
    def on_handler_unavailable(self, body):
        self._notify("cases.handler_unavailable", body)

    @reliable_handler("cases", "escalation_silent")
    def on_escalation_silent(self, body):
        self._notify("cases.escalation_silent", body)

    @reliable_handler("cases", "immediate_target_missed")
    def on_immediate_target_missed(self, body):
        self._notify("cases.immediate_target_missed", body)

    @reliable_handler("cases", "review_reminder")
    def on_review_reminder(self, body):
        self._notify("cases.review_reminder", body)

    @reliable_handler("intake", "application_accepted")
    def on_application_accepted(self, body):
        if isinstance(body, dict) and body.get("deemed_accepted") is False:
            return  # only C12's deemed acceptance is told; nothing to record for the others
        self._notify("intake.application_accepted", body)

    @reliable_handler("complaints", "leadership_alerted")
    def on_leadership_alerted(self, body):
        self._notify("complaints.leadership_alerted", body)

    @reliable_handler("complaints", "overdue")
    def on_complaint_overdue(self, body):
        self._notify("complaints.overdue", body)

    @reliable_handler("complaints", "duty_roster_missing")
    def on_duty_roster_missing(self, body):
        self._notify("complaints.duty_roster_missing", body)

    @reliable_handler("complaints", "reception_booked")
    def on_reception_booked(self, body):
        self._notify("complaints.reception_booked", body)

    @reliable_handler("complaints", "complaint_forwarded")
    def on_complaint_forwarded(self, body):
        self._notify("complaints.complaint_forwarded", body)

    @reliable_handler("complaints", "forwarding_answered")
    def on_forwarding_answered(self, body):
        self._notify("complaints.forwarding_answered", body)

    @reliable_handler("complaints", "forwarding_overdue")
    def on_forwarding_overdue(self, body):
        self._notify("complaints.forwarding_overdue", body)

    @reliable_handler("lending", "item_lent")
    def on_item_lent(self, body):
        self._notify("lending.item_lent", body)

    @reliable_handler("lending", "loan_overdue")
    def on_loan_overdue(self, body):
        self._notify("lending.loan_overdue", body)

    @reliable_handler("lending", "reminder_escalated")
    def on_reminder_escalated(self, body):
        self._notify("lending.reminder_escalated", body)

    @reliable_handler("staff", "home_unit_notified")
    def on_home_unit_notified(self, body):
        self._notify("staff.home_unit_notified", body)

    @reliable_handler("staff", "removed_from_window")
    def on_removed_from_window(self, body):
        self._notify("staff.removed_from_window", body)

    @reliable_handler("staff", "week_published")
    def on_week_published(self, body):
        self._notify("staff.week_published", body)

    @reliable_handler("intake", "agent_submission_reminder")
    def on_agent_submission_reminder(self, body):
        self._notify("intake.agent_submission_reminder", body)

    @reliable_handler("intake", "agent_submission_overdue")
    def on_agent_submission_overdue(self, body):
        self._notify("intake.agent_submission_overdue", body)

    @reliable_handler("staff", "home_unit_report_sent")
    def on_home_unit_report_sent(self, body):
        self._notify("staff.home_unit_report_sent", body)

    # -- escalation and outside deliveries -----------------------------------------------------
    @sweep_timer
    def sweep(self):
        return self.sweeper(sweep.sweep)


SERVICE = NoticesService
