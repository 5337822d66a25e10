"""The cases service: entrypoints only (DOMAIN C1–C13). Rules live in lifecycle.py,
deadlines.py, posts.py, fees.py, ratings.py, timers.py; settings in rules.py."""
from __future__ import annotations

import logging
from functools import partial

from nameko.rpc import rpc
from sqlalchemy import func, select

from services.common.tenancy import DECIDERS, DESK, LEADERS
from services.common import staffdir
from services.common.db import NATIONAL, Database
from services.common.errors import field_error
from services.common.handlers import CalendarFollower, handle_once, reliable_handler
from services.common.idempotency import command
from services.common.metrics import Metrics
from services.common.recompute import Recomputing, recompute_timer
from services.common.rpc import Rpc
from services.common.service import BaseService
from services.common.sweep import Sweeper, sweep_timer

from . import fees, lifecycle, posts, public, ratings, recompute, reviews, statistics, timers
from .models import Base, Case, Review

log = logging.getLogger(__name__)

CLERKS = DESK
MANAGERS = LEADERS


def _open_cases(uow):
    rows = uow.session.execute(select(Case.township_id, func.count()).where(Case.state.in_(lifecycle.OPEN))
                               .group_by(Case.township_id)).all()
    return rows


def _overdue_cases(uow):
    return uow.session.execute(select(Case.township_id, func.count()).where(
        Case.state.in_(lifecycle.OPEN), Case.overdue_at.is_not(None)).group_by(Case.township_id)).all()


def _provisional(uow):
    return uow.session.execute(select(Case.township_id, func.count()).where(
        Case.state.in_(lifecycle.OPEN), Case.provisional.is_(True)).group_by(Case.township_id)).all()


def _reviews_pending(uow):
    """C10: reviews not yet answered, and those of them past their due day."""
    return uow.session.execute(select(Review.township_id, func.count()).where(Review.state == "pending")
                               .group_by(Review.township_id)).all()


def _reviews_overdue(uow):
    return uow.session.execute(select(Review.township_id, func.count()).where(
        Review.state == "pending", Review.overdue_at.is_not(None)).group_by(Review.township_id)).all()


class CasesService(CalendarFollower, BaseService):
    name = "cases"
    db = Database(Base)
    rules = lifecycle.RULES
    staff = Rpc("staff")  # bounded by the caller's deadline (services/common/rpc.py)
    sweeper = Sweeper()
    recomputing = Recomputing(recompute.Recomputer)  # the timer below: recompute.py
    metrics = Metrics(gauges={
        "cases_open": ("Open (undecided) cases", _open_cases),
        "cases_overdue": ("Open cases past their promise date (C5)", _overdue_cases),
        "cases_reviews_pending": ("Reviews (复核, C10) asked for and not yet answered", _reviews_pending),
        "cases_reviews_overdue": ("Reviews (复核, C10) past their due day and not yet answered", _reviews_overdue),
        "cases_provisional_deadlines": ("Open cases whose deadline rests on a year without calendar data (C2): "
                                        "the operator must load it", _provisional),
        "cases_deadline_recompute_pending": ("1 while a township's deadlines wait to be recomputed after a "
                                             "calendar change", recompute.pending),
    })

    # -- events in ---------------------------------------------------------------
    @reliable_handler("intake", "application_accepted")
    def on_application_accepted(self, body):
        """C1: the case opens, with its window and holder from the copy of staff's organisation;
        what the copy lacks is asked of staff (with no unit of work open) and the case opened
        again (services/common/staffdir.first_from_copy)."""
        def run(checked):
            return handle_once(self, "intake.application_accepted", body,
                               partial(self._open_case, checked=checked))

        staffdir.first_from_copy(run, lambda: self._fill_organisation(body))

    @staticmethod
    def _open_case(uow, event, checked):
        if checked and not posts.knows(uow, event.get("window_id"), event.get("handler_person_id")):
            raise staffdir.CopyLacks()
        return lifecycle.open_case(uow, event)

    @reliable_handler("intake", "materials_completed")
    def on_materials_completed(self, body):
        handle_once(self, "intake.materials_completed", body, lifecycle.materials_completed)

    @reliable_handler("intake", "application_returned")
    def on_application_returned(self, body):
        """C10: a returned application may be reviewed: keep its number and who returned it."""
        handle_once(self, "intake.application_returned", body, reviews.record_return)

    @reliable_handler("staff", "organisation_changed")
    def on_organisation_changed(self, body):
        handle_once(self, "staff.organisation_changed", body, posts.apply_org_change)

    @reliable_handler("staff", "leave_approved")
    def on_leave_approved(self, body):
        handle_once(self, "staff.leave_approved", body, posts.record_leave)

    @reliable_handler("staff", "absence_recorded")
    def on_absence_recorded(self, body):
        handle_once(self, "staff.absence_recorded", body, posts.record_absence)

    @reliable_handler("staff", "removed_from_window")
    def on_removed_from_window(self, body):
        handle_once(self, "staff.removed_from_window", body, posts.record_removal)

    @reliable_handler("staff", "returned")
    def on_returned(self, body):
        handle_once(self, "staff.returned", body, posts.record_return)

    def calendar_changed(self, uow, event):
        """CalendarFollower's hook: the running deadlines of the scope's townships must be
        recomputed (C2, provisional → firm); recorded here, done in chunks by the timer below."""
        recompute.mark(uow, None if event["scope"] == NATIONAL else event["scope"])

    @recompute_timer
    def recompute_deadlines(self):
        return self.recomputing()

    def _fill_organisation(self, body):
        """The copy lacks the case's window or township: ask staff before the handler's unit of
        work opens (services/common/staffdir; best effort, C7)."""
        if not isinstance(body, dict) or not body.get("township_id"):
            return
        # staff away: the case still opens, with the accepting clerk
        staffdir.ensure(self.db, self.staff, body["township_id"],
                        knows=lambda uow: posts.knows(uow, body.get("window_id"), body.get("handler_person_id")),
                        store=posts.apply_snapshot)

    # -- timers ------------------------------------------------------------------
    @sweep_timer
    def sweep(self):
        return self.sweeper(timers.sweep)

    # -- queries -------------------------------------------------------------------
    @rpc
    def get_case(self, case_id):
        with self.db(self.caller.township) as uow:
            return lifecycle.case_record(lifecycle.get_case(uow, case_id), full=True, uow=uow)

    @rpc
    def find_case(self, receipt_no):
        """By receipt number (intake's public status query calls this after checking the password)."""
        with self.db(self.caller.township) as uow:
            return lifecycle.case_record(lifecycle.find_by_receipt(uow, receipt_no), full=True, uow=uow)

    @rpc
    def list_cases(self, state=None, overdue=None, holder=None, limit=100, past_target=None):
        with self.db(self.caller.township) as uow:
            return lifecycle.list_cases(uow, state, overdue, holder, limit, past_target)

    # -- commands ------------------------------------------------------------------
    @command
    def review(self, case_id, opinion, note=None):
        caller = self.caller.require(*CLERKS)
        with self.db(caller.township) as uow:
            return lifecycle.review(uow, case_id, caller.person_id, caller.roles, opinion, note)

    @command
    def record_opinion(self, case_id, department, opinion, note=None):
        caller = self.caller.require(*CLERKS)
        with self.db(caller.township) as uow:
            return lifecycle.record_opinion(uow, case_id, caller.person_id, department, opinion, note)

    @command
    def decide(self, case_id, outcome, reason=None):
        caller = self.caller.require(*DECIDERS)
        with self.db(caller.township) as uow:
            return lifecycle.decide(uow, case_id, caller.person_id, caller.roles, outcome, reason)

    @command
    def deliver(self, case_id, note=None):
        caller = self.caller.require(*CLERKS)
        with self.db(caller.township) as uow:
            return lifecycle.deliver(uow, case_id, caller.person_id, note)

    @command
    def withdraw(self, case_id, reason):
        caller = self.caller.require(*CLERKS)
        with self.db(caller.township) as uow:
            return lifecycle.withdraw(uow, case_id, caller.person_id, reason)

    @command
    def extend(self, case_id, days, reason):
        caller = self.caller.require(*DECIDERS)
        with self.db(caller.township) as uow:
            return lifecycle.extend(uow, case_id, caller.person_id, caller.roles, days, reason)

    @command
    def start_pause(self, case_id, procedure, reason=None):
        caller = self.caller.require(*CLERKS)
        with self.db(caller.township) as uow:
            return lifecycle.start_pause(uow, case_id, caller.person_id, procedure, reason)

    @command
    def end_pause(self, case_id, reason=None):
        caller = self.caller.require(*CLERKS)
        with self.db(caller.township) as uow:
            return lifecycle.end_pause(uow, case_id, caller.person_id, reason)

    @command
    def forward(self, case_id, note=None):
        caller = self.caller.require(*CLERKS)
        with self.db(caller.township) as uow:
            return lifecycle.forward(uow, case_id, caller.person_id, note)

    @command
    def record_upper_answer(self, case_id, answer):
        caller = self.caller.require(*CLERKS)
        with self.db(caller.township) as uow:
            return lifecycle.record_upper_answer(uow, case_id, caller.person_id, answer)

    @command
    def explain_silence(self, case_id, explanation):
        caller = self.caller.require(*CLERKS)
        with self.db(caller.township) as uow:
            return lifecycle.explain_silence(uow, case_id, caller.person_id, explanation)

    @command
    def collect_fee(self, case_id, amount_cents):
        caller = self.caller.require(*CLERKS)
        # C8: the fee window and the caller's window come from the copy of staff's organisation;
        # what it lacks is asked of staff before the unit of work opens (services/common/staffdir)
        staffdir.ensure(self.db, self.staff, caller.township,
                        knows=lambda uow: fees.knows_fee_window(uow, caller.person_id), store=posts.apply_snapshot)
        with self.db(caller.township) as uow:
            result = fees.collect_fee(uow, case_id, caller.person_id, amount_cents)
        if result.refusal is not None:  # the violation is committed; the charge is refused
            raise result.refusal
        return result.record

    @command
    def rate(self, rating=None, case_id=None, receipt_no=None, comment=None, channel=None):
        """C9: the applicant's rating. Intake's public route calls this (after checking the
        receipt number and password) with a public context; a clerk enters a paper rating."""
        caller = self.caller
        if rating is None:
            raise field_error("rating", "required")
        clerk = caller.has(*CLERKS)
        channel = channel or ("paper" if clerk else "online")
        with self.db(caller.township) as uow:
            return ratings.rate(uow, rating, case_id, receipt_no, comment,
                                caller.person_id if clerk else None, channel)

    # -- review of a rejection or a return (复核, C10) ------------------------------------
    @command
    def request_review(self, reason=None, receipt_no=None, case_id=None):
        """C10: a clerk files the applicant's request at a window; the gateway's public route
        calls this with a public context after intake has checked the number and password."""
        caller = self.caller
        clerk = caller.has(*CLERKS)
        with self.db(caller.township) as uow:
            review = reviews.request(uow, reason, receipt_no=receipt_no, case_id=case_id,
                                     channel="window" if clerk else "online",
                                     filed_by=caller.person_id if clerk else None)
            return reviews.record(review) if clerk else reviews.public_record(review)

    @command
    def decide_review(self, review_id, outcome, answer):
        caller = self.caller.require(*DECIDERS)
        with self.db(caller.township) as uow:
            return reviews.record(reviews.decide(uow, review_id, caller.person_id, caller.roles, outcome, answer))

    @rpc
    def list_reviews(self, state=None, overdue=None, limit=100):
        with self.db(self.caller.township) as uow:
            return reviews.listing(uow, state, overdue, limit)

    @rpc
    def get_review(self, review_id):
        with self.db(self.caller.township) as uow:
            return reviews.get(uow, review_id)

    @command
    def request_reconsideration(self, case_id, reason):
        """C10 at a window, by the case's id (POST /cases/{id}/reconsideration)."""
        caller = self.caller.require(*CLERKS)
        with self.db(caller.township) as uow:
            reviews.request(uow, reason, case_id=case_id, channel="window", filed_by=caller.person_id)
            return lifecycle.case_record(lifecycle.get_case(uow, case_id))

    @command
    def decide_reconsideration(self, case_id, outcome, reason):
        caller = self.caller.require(*DECIDERS)
        with self.db(caller.township) as uow:
            review = reviews.case_review(uow, case_id)
            reviews.decide(uow, review.id, caller.person_id, caller.roles, outcome, reason)
            return lifecycle.case_record(lifecycle.get_case(uow, case_id))

    @rpc
    def statistics(self, month=None, day=None, per_person=False):
        """T1: a month's (or a day's) figures per township and window; per person only for
        the roles of ``statistics.PERSON_DETAIL_ROLES``. Public callers get the published ones."""
        caller = self.caller
        if per_person:
            caller.require(*statistics.PERSON_DETAIL_ROLES)
        with self.db(caller.township) as uow:
            return statistics.statistics(uow, month, day, bool(per_person))

    @rpc
    def public_timeline(self, receipt_no):
        """I4: the status timeline of a receipt's case; the gateway calls it only after intake
        has checked the receipt number and password."""
        with self.db(self.caller.township) as uow:
            return public.timeline(uow, str(receipt_no))


SERVICE = CasesService
