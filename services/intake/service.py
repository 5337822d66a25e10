"""The intake service: entrypoints only. Rules live in catalogue.py (I1), inquiries.py (I2),
applications.py (I3–I5, C12) and receipts.py (I4)."""
from __future__ import annotations

import logging
from functools import partial

from nameko.rpc import rpc

from services.common.tenancy import (AGENT_OVERSEERS, AGENT_WATCH, AGENT_WITHDRAWERS, AGENTS, DESK, LEADERS,
                                     REVIEWERS, STAFF)
from services.common.db import NATIONAL, Database
from services.common.errors import NotFound, TooManyAttempts
from services.common.handlers import (
    CalendarFollower,
    TownshipTimezoneFollower,
    handle_once,
    reliable_handler,
)
from services.common.idempotency import command
from services.common.metrics import Metrics
from services.common.recompute import Recomputing, recompute_timer
from services.common.service import BaseService
from services.common.sweep import Sweeper, sweep_timer

from . import applications as apps
from . import agents, catalogue, inquiries, organisation, receipts, recompute, sweep
from .models import AgentCollection, Application, Base
from .rules import RULES

log = logging.getLogger(__name__)

MANAGERS = LEADERS


def _pending_gauge(status):
    def fn(uow):
        from sqlalchemy import func, select

        rows = uow.session.execute(select(Application.township_id, func.count())
                                   .where(Application.status == status).group_by(Application.township_id))
        return [(t, n) for t, n in rows]
    return fn


def _agents_overdue(uow):
    """I6: collections announced overdue (past their deadline) and not yet brought to the centre."""
    from sqlalchemy import func, select

    rows = uow.session.execute(select(AgentCollection.township_id, func.count())
                               .where(AgentCollection.status == "collected", AgentCollection.overdue_at.is_not(None))
                               .group_by(AgentCollection.township_id))
    return [(t, n) for t, n in rows]


class IntakeService(CalendarFollower, TownshipTimezoneFollower, BaseService):
    name = "intake"
    db = Database(Base)
    sweeper = Sweeper()
    recomputing = Recomputing(recompute.Recomputer)  # agents' deadlines after a calendar change (C2)
    rules = RULES
    metrics = Metrics(gauges={
        "intake_supplements_open": ("Supplement applications awaiting materials (I5)", _pending_gauge("supplement")),
        "intake_received_unprocessed": ("Received applications without their notice yet (C12)",
                                        _pending_gauge("received")),
        "intake_returns_awaiting_signoff": ("Returns of major matters awaiting sign-off (I5)",
                                            _pending_gauge("return_pending")),
        "intake_agent_collections_overdue": ("Village agents' collections past their deadline, not brought (I6)",
                                             _agents_overdue),
        "intake_agent_recompute_pending": ("1 while a township's agent deadlines wait to be recomputed after a "
                                           "calendar change (I6, C2)", recompute.pending),
    })

    # -- I1 catalogue -------------------------------------------------------
    @command
    def create_item(self, data):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return catalogue.create_item(uow, caller.person_id, data)

    @command
    def change_item(self, code, changes):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return catalogue.change_item(uow, caller.person_id, code, changes)

    @rpc
    def get_item(self, code, version=None):
        caller = self.caller.require(*STAFF)
        with self.db(caller.township) as uow:
            return catalogue.get_item(uow, code, version)

    @rpc
    def list_items(self):
        caller = self.caller.require(*STAFF)
        with self.db(caller.township) as uow:
            return catalogue.list_items(uow)

    @rpc
    def public_catalogue(self):
        """Public (T1): the township comes from the gateway's resolution of the path's code."""
        with self.db(self.caller.township) as uow:
            return catalogue.public_catalogue(uow)

    @rpc
    def public_notices(self):
        """Public (T1): service promises and the query / rating / complaint channels."""
        with self.db(self.caller.township) as uow:
            settings = RULES.load(uow)
            return {"promises": settings["service_promises"], "channels": settings["receipt_channels"]}

    @rpc
    def public_item(self, code):
        with self.db(self.caller.township) as uow:
            return catalogue.public_item(uow, code)

    # -- I2 inquiries ---------------------------------------------------------
    @command
    def log_inquiry(self, data):
        caller = self.caller.require(*STAFF)
        with self.db(caller.township) as uow:
            return inquiries.log_inquiry(uow, caller.person_id, data)

    @command
    def resolve_inquiry(self, inquiry_id, outcome):
        caller = self.caller.require(*STAFF)
        with self.db(caller.township) as uow:
            return inquiries.resolve(uow, inquiry_id, caller.person_id, outcome)

    @rpc
    def list_inquiries(self, status=None, window_id=None, mine=False):
        caller = self.caller.require(*STAFF)
        with self.db(caller.township) as uow:
            return inquiries.list_inquiries(uow, status, window_id, caller.person_id if mine else None)

    @rpc
    def tracking(self):
        """督办 (I2): what the caller was first asked about and is not yet done."""
        caller = self.caller.require(*STAFF)
        with self.db(caller.township) as uow:
            return {"inquiries": inquiries.tracking(uow, caller.person_id),
                    "applications": apps.tracked_applications(uow, caller.person_id)}

    # -- I3–I5 applications -----------------------------------------------------
    @command
    def submit_application(self, data):
        caller = self.caller.require(*DESK)
        with self.db(caller.township) as uow:
            return apps.submit(uow, caller.person_id, data, RULES.load(uow), partial(organisation.names, uow))

    @command
    def issue_notice(self, application_id):
        caller = self.caller.require(*DESK)
        with self.db(caller.township) as uow:
            return apps.issue_notice(uow, application_id, caller.person_id, RULES.load(uow),
                                     self._names(uow, caller.person_id, application_id))

    @command
    def record_arrival(self, application_id, materials):
        caller = self.caller.require(*DESK)
        with self.db(caller.township) as uow:
            return apps.record_arrival(uow, application_id, caller.person_id, materials, RULES.load(uow))

    @command
    def request_material(self, application_id, material):
        """I3: a refused request is still recorded (committed) before the 422 answers."""
        caller = self.caller.require(*DESK)
        with self.db(caller.township) as uow:
            result = apps.request_material(uow, application_id, caller.person_id, material)
        if result["refused"]:
            raise apps.refusal(result)
        return result

    @command
    def return_application(self, application_id, reason):
        caller = self.caller.require(*DESK)
        with self.db(caller.township) as uow:
            return apps.request_return(uow, application_id, caller.person_id, reason, RULES.load(uow))

    @command
    def sign_off_return(self, application_id, approve=True, note=None):
        caller = self.caller.require(*DESK)
        with self.db(caller.township) as uow:
            return apps.sign_off_return(uow, application_id, caller.person_id, caller.roles, bool(approve),
                                        RULES.load(uow), note)

    @rpc
    def get_application(self, application_id):
        caller = self.caller.require(*STAFF)
        with self.db(caller.township) as uow:
            return apps.get_application(uow, application_id, self._full(uow, caller))

    @rpc
    def list_applications(self, status=None):
        caller = self.caller.require(*STAFF)
        with self.db(caller.township) as uow:
            return apps.list_applications(uow, self._full(uow, caller), status)

    @rpc
    def list_returns(self):
        """否定报备: every return, for audit."""
        caller = self.caller.require(*REVIEWERS)
        with self.db(caller.township) as uow:
            return apps.list_returns(uow)

    @rpc
    def list_violations(self, person_id=None):
        caller = self.caller.require(*REVIEWERS)
        with self.db(caller.township) as uow:
            return apps.list_violations(uow, person_id)

    # -- I6 village agents ---------------------------------------------------------------
    @command
    def register_agent(self, data):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return agents.register(uow, caller.person_id, data)

    @command
    def remove_agent(self, agent_id, data):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return agents.remove(uow, caller.person_id, agent_id, data)

    @rpc
    def list_agents(self):
        caller = self.caller.require(*STAFF)
        with self.db(caller.township) as uow:
            return agents.list_agents(uow)

    @command
    def record_collection(self, data):
        caller = self.caller.require(*AGENTS)
        with self.db(caller.township) as uow:
            return agents.record_collection(uow, caller.person_id, data, RULES.load(uow))

    @rpc
    def list_collections(self, status=None, overdue=False):
        """An agent sees their own collections; the desk, leaders and the inspector every one."""
        caller = self.caller.require(*AGENT_WATCH)
        own = not caller.has(*AGENT_OVERSEERS)
        with self.db(caller.township) as uow:
            return agents.list_collections(uow, RULES.load(uow), self._full(uow, caller) or own,
                                           caller.person_id if own else None, status, bool(overdue))

    @command
    def withdraw_collection(self, collection_id, data):
        """I6: the agent withdraws their own collection, the desk any, before it is received."""
        caller = self.caller.require(*AGENT_WITHDRAWERS)
        own = not caller.has(*DESK)
        with self.db(caller.township) as uow:
            return agents.withdraw(uow, collection_id, caller.person_id, data, RULES.load(uow),
                                   self._full(uow, caller) or own, own)

    @command
    def rate_agent(self, rating=None, comment=None, application_id=None, receipt_no=None):
        """I6: the applicant's rating of the agent. The public route calls this after intake
        checked the receipt number and password; a clerk enters a paper rating by application."""
        caller = self.caller
        if application_id:
            caller.require(*DESK)
        with self.db(caller.township) as uow:
            return agents.rate(uow, rating, comment, application_id=application_id,
                               receipt_no=None if application_id else receipt_no,
                               channel="paper" if application_id else "online")

    @rpc
    def agent_scoreboard(self, month=None):
        caller = self.caller.require(*STAFF)
        with self.db(caller.township) as uow:
            return agents.scoreboard(uow, month, RULES.load(uow))

    @rpc
    def agent_scoreboard_csv(self, month=None):
        caller = self.caller.require(*STAFF)
        with self.db(caller.township) as uow:
            return agents.scoreboard_csv(agents.scoreboard(uow, month, RULES.load(uow)))

    # -- I4 public receipt query ----------------------------------------------------
    @rpc
    def query_receipt(self, receipt_no, password, client=None):
        """Public: status by receipt number and password. No match and a wrong password answer
        the same; the failure is committed before the 404 (the limit is shared)."""
        with self.db(self.caller.township) as uow:
            outcome, status = receipts.query(uow, str(receipt_no), str(password or ""), client, RULES.load(uow))
        if outcome == receipts.LIMITED:
            raise TooManyAttempts("too many wrong receipt queries; try again later")
        if outcome is None:
            raise NotFound(receipts.NO_MATCH)
        return status

    # -- C12 sweep ------------------------------------------------------------------
    @sweep_timer
    def sweep_deemed_acceptance(self):
        """C12: a received application whose supplement notice is overdue is accepted from
        the day its materials arrived. Each row is claimed, so instances never do it twice."""
        return self.sweeper(sweep.sweep)

    # -- the calendar: agents' submission deadlines follow it (I6 period in working days, C2) --
    def calendar_changed(self, uow, event):
        """CalendarFollower's hook: recorded here, recomputed in chunks by the timer below."""
        recompute.mark(uow, None if event["scope"] == NATIONAL else event["scope"])

    @recompute_timer
    def recompute_agent_deadlines(self):
        return self.recomputing()

    # -- events -------------------------------------------------------------------------
    @reliable_handler("cases", "case_transitioned")
    def on_case_transitioned(self, body):
        # ordered by the transition's seq, a second delivery changes nothing: no record needed
        # (an event from before seq existed is ordered by time only, and is recorded)
        ordered = isinstance(body, dict) and body.get("seq") is not None
        handle_once(self, "cases.case_transitioned", body, apps.apply_case_transition, record=not ordered)

    @reliable_handler("cases", "review_changed")
    def on_review_changed(self, body):
        handle_once(self, "cases.review_changed", body, apps.apply_review_change)

    @reliable_handler("cases", "deadline_changed")
    def on_deadline_changed(self, body):
        handle_once(self, "cases.deadline_changed", body, apps.apply_deadline_change)

    @reliable_handler("staff", "organisation_changed")
    def on_organisation_changed(self, body):
        handle_once(self, "staff.organisation_changed", body, organisation.apply_change)

    # -- helpers ------------------------------------------------------------------------
    @staticmethod
    def _full(uow, caller) -> bool:
        return caller.has(*RULES.load(uow)["personal_data_roles"])

    @staticmethod
    def _names(uow, person_id, application_id) -> dict:
        ids = [person_id]
        app = uow.session.get(Application, application_id)
        ids += [app.window_id, app.handler_person_id] if app else []
        return organisation.names(uow, ids)


SERVICE = IntakeService
