"""The staff service: entrypoints only. Rules live in organisation.py and the discipline
modules."""
from __future__ import annotations

import logging
from datetime import date

from nameko.rpc import rpc
from sqlalchemy import select

from services.common.tenancy import AUDITORS, DECIDERS, LEADERS, OPERATOR, STAFF
from services.common.clock import DEFAULT_TZ
from services.common.db import NATIONAL, Database
from services.common.errors import Forbidden
from services.common.handlers import handle_once, reliable_handler
from services.common.idempotency import command
from services.common.metrics import Metrics
from services.common.service import BaseService
from services.common.sweep import Sweeper, sweep_timer
from services.contracts.staff import Leave as LeaveOut, Township as TownshipOut

from . import accountability, accounts, attendance, grades, honours, leave, patrols, roster, scoring, sweep
from . import noticeladder, yearend, yeartally
from . import certificates, home_reports, meetings, window_charges
from . import organisation as org
from .models import Base
from .rules import RULES
from services.contracts import shared

log = logging.getLogger(__name__)

MANAGERS = LEADERS
INSPECTORS = AUDITORS
#: T2: attendance, scores and honours are internal — any staff role of the township.
INTERNAL = STAFF
LEAVE_DECIDERS = DECIDERS
#: S2: who schedules study sessions and meetings and records who came (section heads lead them)
SESSION_KEEPERS = DECIDERS
#: S2: who reads the monthly home-unit reports (the leaders send them)
REPORT_READERS = AUDITORS


def _open_attendance_days(uow):
    """C2: days left open because their year had no calendar data, per township."""
    from sqlalchemy import func

    from .models import AttendanceClosure

    return uow.session.execute(select(AttendanceClosure.township_id, func.count()).where(
        AttendanceClosure.state == "open").group_by(AttendanceClosure.township_id)).all()


class StaffService(BaseService):
    name = "staff"
    db = Database(Base)
    sweeper = Sweeper()
    rules = RULES
    metrics = Metrics(gauges={
        "staff_attendance_days_open": ("Attendance days left open because their year has no calendar data (C2): "
                                       "the operator must load it", _open_attendance_days),
    })

    # -- townships (operator) ---------------------------------------------
    @command
    def create_township(self, code, name, director, timezone=DEFAULT_TZ):
        self.caller.require(*OPERATOR)
        with self.db() as uow:
            return org.create_township(uow, code, name, director, timezone)

    @rpc
    def list_townships(self):
        self.caller.require(*OPERATOR)
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
            return shared(TownshipOut).dump(org.get_township(uow, township_id))

    # -- organisation (director) ------------------------------------------
    @command
    def create_department(self, name):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return org.create_department(uow, name)

    @command
    def create_window(self, number, name, department_id=None, fee_window=False):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return org.create_window(uow, number, name, department_id, bool(fee_window))

    @command
    def set_fee_window(self, window_id):
        """C8: mark the township's one fee window."""
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return org.set_fee_window(uow, window_id)

    @command
    def create_person(self, name, roles, window_id=None, department_id=None, phone=None,
                      badge_no=None, home_unit=None):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return org.create_person(uow, name, roles, window_id, department_id, phone, badge_no, home_unit)

    @command
    def update_person(self, person_id, **changes):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return org.update_person(uow, person_id, **changes)

    @command
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

    # -- accounts, sessions, API keys (DOMAIN "Accounts") --------------------
    # Opening an account, activation, sign-in and a password change are plain @rpc, not
    # @command: a command's result (and arguments) are recorded for replays, and these carry a
    # one-time code or a password; each is safe to repeat anyway (a new code, the same password).
    @command
    def set_township_suspended(self, township_id, suspended):
        self.caller.require(*OPERATOR)
        with self.db() as uow:
            return accounts.set_township_suspended(uow, org.get_township(uow, township_id), suspended)

    @rpc
    def create_account(self, person_id, username):
        """A manager opens a person's account: returns the one-time activation code."""
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return accounts.create_person_account(uow, person_id, username, by=caller.person_id)

    @rpc
    def create_director_account(self, township_id, person_id, username):
        """Operator: the account of a new township's first director (POST /townships)."""
        self.caller.require(*OPERATOR)
        with self.db(township_id) as uow:
            return accounts.create_person_account(uow, person_id, username)

    @rpc
    def create_operator(self, username):
        self.caller.require(*OPERATOR)
        with self.db() as uow:
            return accounts.create_operator(uow, username, by=self.caller.account_id)

    @rpc
    def activate_account(self, username, code, password):
        """Public: set the password with the activation code."""
        with self.db() as uow:
            return accounts.activate(uow, username, code, password)

    @rpc
    def start_session(self, username, password):
        """Public: the record of a short-lived access token (the gateway signs it)."""
        return accounts.sign_in(self.db, username, password)

    @command
    def end_sessions(self):
        """Sign-out: every session of the caller's account ends."""
        with self.db() as uow:
            return accounts.sign_out(uow, self._account())

    @rpc
    def change_password(self, old_password, new_password):
        with self.db() as uow:
            return accounts.change_password(uow, self._account(), old_password, new_password)

    @command
    def create_api_key(self, name, roles, days):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return accounts.create_key(uow, name, roles, days, by=caller.person_id)

    @rpc
    def list_api_keys(self):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return accounts.list_keys(uow)

    @command
    def revoke_api_key(self, key_id):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return accounts.revoke_key(uow, key_id)

    @rpc
    def access_snapshot(self, stamp=None):
        """Internal (gateways): every account's and township's version, ids and integers only
        (or ``unchanged`` when the caller's stamp is current)."""
        with self.db() as uow:
            return accounts.access_snapshot(uow, stamp)

    def _account(self) -> str:
        account_id = self.caller.account_id
        if not account_id:
            raise Forbidden("this needs a signed-in account")
        return account_id

    # -- calendar -----------------------------------------------------------
    @command
    def change_calendar(self, days=(), cleared=(), loaded_year=None, national=False):
        caller = self.caller
        if national:
            caller.require(*OPERATOR)
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


    # == staff discipline (S1–S8) ===========================================
    def _me(self, *roles):
        caller = self.caller.require(*(roles or INTERNAL))
        if not caller.person_id:
            raise Forbidden("this needs a person's token")
        return caller

    # -- S1 roster ------------------------------------------------------------
    @rpc
    def roster(self):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return roster.roster(uow, full=caller.has(*MANAGERS))

    # -- S2 attendance -------------------------------------------------------------
    @command
    def sign_in(self):
        caller = self._me()
        with self.db(caller.township) as uow:
            return attendance.sign(uow, caller.person_id, "in")

    @command
    def sign_out(self):
        caller = self._me()
        with self.db(caller.township) as uow:
            return attendance.sign(uow, caller.person_id, "out")

    @command
    def record_attendance_mark(self, person_id, kind, at):
        caller = self.caller.require(*INSPECTORS)
        with self.db(caller.township) as uow:
            return attendance.record_mark(uow, caller.person_id, person_id, kind, at)

    @command
    def record_attendance_incident(self, kind, person_id, day, half, minutes=None, other_person_id=None):
        caller = self.caller.require(*INSPECTORS)
        with self.db(caller.township) as uow:
            return attendance.record_incident(uow, caller.person_id, kind, person_id, day, half, minutes,
                                              other_person_id)

    @command
    def arrange_duty(self, person_id, day, note=None):
        """S4/C2a: the director arranges work on a closed day (only that is overtime)."""
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return attendance.arrange_duty(uow, caller.person_id, person_id, day, note)

    @rpc
    def list_arranged_duties(self, day=None):
        caller = self.caller.require(*STAFF)
        with self.db(caller.township) as uow:
            return attendance.arranged_duties(uow, day)

    @command
    def close_attendance_day(self, day):
        caller = self.caller.require(*INSPECTORS)
        with self.db(caller.township) as uow:
            return attendance.close_day(uow, day)

    @rpc
    def weekly_attendance(self, week_start):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return attendance.weekly_sheet(uow, week_start)

    @rpc
    def weekly_attendance_csv(self, week_start):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return attendance.weekly_csv(uow, week_start)

    @command
    def publish_attendance_week(self, week_start):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return attendance.publish_week(uow, week_start)

    @command
    def object_to_attendance(self, attendance_day_id, reason):
        caller = self._me()
        with self.db(caller.township) as uow:
            return attendance.object_to(uow, caller.person_id, attendance_day_id, reason)

    @command
    def decide_attendance_objection(self, objection_id, accept):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return attendance.decide_objection(uow, caller.person_id, objection_id, bool(accept))

    @reliable_handler("staff", "calendar_changed")
    def on_calendar_changed(self, body):
        """C2: a year loaded (or a day changed) settles the attendance days left open — in each
        township the change concerns (national: all of them), one transaction per township;
        each day is claimed, so a redelivery settles nothing twice."""
        from services.common import events

        event = events.parse("staff.calendar_changed", body)
        self._settle_open_days(None if event["scope"] == NATIONAL else event["scope"])

    def _settle_open_days(self, township_id=None):
        from .models import AttendanceClosure

        with self.db() as uow:
            stmt = select(AttendanceClosure.township_id).where(AttendanceClosure.state == "open").distinct()
            if township_id:
                stmt = stmt.where(AttendanceClosure.township_id == township_id)
            townships = list(uow.session.scalars(stmt))
        settled = {}
        for tid in townships:
            with self.db(tid) as uow:
                settled[tid] = attendance.settle_open_days(uow)["settled"]
        return settled

    @rpc
    def open_attendance_days(self):
        """C2: the days of this township left open for want of calendar data."""
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return [d.isoformat() for d in attendance.open_days(uow)]

    @sweep_timer
    def close_attendance_days(self):
        """Close yesterday (and up to a week of missed days) in every township, once (S2)."""
        return self.sweeper(sweep.sweep)

    # -- S3 leave --------------------------------------------------------------------
    @command
    def request_leave(self, starts_at, ends_at, reason=None, substitute_person_id=None,
                      home_unit_endorsed=False, person_id=None, kind="personal", certificate=None):
        caller = self._me()
        if person_id and person_id != caller.person_id:
            caller.require(*LEAVE_DECIDERS)
        with self.db(caller.township) as uow:
            return leave.request_leave(uow, caller.person_id, person_id or caller.person_id, starts_at, ends_at,
                                       reason, substitute_person_id, home_unit_endorsed, kind, certificate)

    @command
    def decide_leave(self, leave_id, approve, note=None):
        caller = self.caller.require(*LEAVE_DECIDERS)
        with self.db(caller.township) as uow:
            return leave.decide_leave(uow, caller.person_id, caller.roles, leave_id, bool(approve), note)

    @command
    def return_from_leave(self, leave_id):
        caller = self._me()
        with self.db(caller.township) as uow:
            return leave.return_from_leave(uow, caller.person_id, caller.roles, leave_id)

    @rpc
    def list_leaves(self, person_id=None, state=None):
        caller = self.caller.require(*INTERNAL)
        if not caller.has(*LEAVE_DECIDERS):
            person_id = caller.person_id  # clerks see their own
        with self.db(caller.township) as uow:
            return leave.list_leaves(uow, person_id, state)

    # -- S4 scoring --------------------------------------------------------------------
    @rpc
    def score_rules(self):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return scoring.list_rules(uow)

    @command
    def update_score_rule(self, code, points=None, category=None, description=None, active=None):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return scoring.update_rule(uow, code, points, category, description, active)

    @command
    def record_score(self, person_id, rule_code, reason, day=None):
        caller = self.caller.require(*INSPECTORS)
        with self.db(caller.township) as uow:
            return noticeladder.record_score(uow, caller.person_id, person_id, rule_code, reason, day)

    @rpc
    def person_scores(self, person_id, quarter):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return scoring.person_entries(uow, person_id, quarter)

    @reliable_handler("cases", "case_overdue")
    def on_case_overdue(self, body):
        handle_once(self, "cases.case_overdue", body, scoring.on_case_overdue)

    @reliable_handler("intake", "notice_violation")
    def on_notice_violation(self, body):
        handle_once(self, "intake.notice_violation", body, noticeladder.on_notice_violation)  # S4 and S6

    @reliable_handler("cases", "fee_violation")
    def on_fee_violation(self, body):
        handle_once(self, "cases.fee_violation", body, scoring.on_fee_violation)

    @reliable_handler("complaints", "complaint_verified")
    def on_complaint_verified(self, body):
        handle_once(self, "complaints.complaint_verified", body, scoring.on_complaint_verified)

    @reliable_handler("cases", "rating_submitted")
    def on_rating_submitted(self, body):
        handle_once(self, "cases.rating_submitted", body, scoring.on_rating_submitted)

    @reliable_handler("staff", "patrol_finding")
    def on_patrol_finding(self, body):
        handle_once(self, "staff.patrol_finding", body, scoring.on_patrol_finding)

    # -- S5 grades, S7 honours ------------------------------------------------------------
    @command
    def submit_peer_review(self, person_id, quarter, level):
        caller = self._me()
        with self.db(caller.township) as uow:
            return grades.submit_peer_review(uow, caller.person_id, person_id, quarter, level)

    @rpc
    def scoreboard(self, quarter):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return grades.scoreboard(uow, quarter)

    @rpc
    def scoreboard_csv(self, quarter):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return grades.scoreboard_csv(uow, quarter)

    @command
    def close_quarter(self, quarter):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return grades.close_quarter(uow, quarter)

    @rpc
    def honours(self, quarter):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return honours.honours(uow, quarter)

    # -- S2 year tally, S5 year-end (年终总评) ---------------------------------------------------
    @rpc
    def year_tally(self, year):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return yeartally.tally(uow, year)

    @rpc
    def year_end_board(self, year):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return yearend.board(uow, year)

    @rpc
    def year_end_board_csv(self, year):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return yearend.board_csv(uow, year)

    @command
    def close_year(self, year):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return yearend.close_year(uow, year)

    @rpc
    def public_red_flag(self):
        """T1: the last finished quarter's red-flag window, public (the hall's display)."""
        with self.db(self.caller.township) as uow:
            return honours.published_red_flag(uow)

    # -- S6 accountability ---------------------------------------------------------------
    @command
    def record_fault(self, person_id, kind, severity, facts, self_reported=False, day=None, notified_on=None):
        caller = self.caller.require(*INSPECTORS)
        with self.db(caller.township) as uow:
            return accountability.record_fault(uow, caller.person_id, person_id, kind, severity, facts,
                                               self_reported, day, notified_on)

    @rpc
    def list_faults(self, person_id=None):
        caller = self.caller.require(*INTERNAL)
        if not caller.has(*INSPECTORS):
            person_id = caller.person_id
        with self.db(caller.township) as uow:
            return accountability.list_cases(uow, person_id)

    @command
    def appeal_fault(self, case_id, reason):
        caller = self._me()
        with self.db(caller.township) as uow:
            return accountability.appeal(uow, caller.person_id, case_id, reason)

    @command
    def decide_fault_appeal(self, case_id, upheld, revised_measure=None):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return accountability.decide_appeal(uow, case_id, bool(upheld), revised_measure)

    @rpc
    def home_unit_notices(self):
        caller = self.caller.require(*INSPECTORS)
        with self.db(caller.township) as uow:
            return accountability.list_notices(uow)

    # -- S8 patrols --------------------------------------------------------------------------
    @command
    def record_patrol(self, half, findings, day=None, note=None):
        caller = self._me(*INSPECTORS)
        with self.db(caller.township) as uow:
            return patrols.record_patrol(uow, caller.person_id, half, findings, day, note)

    @rpc
    def list_patrols(self, day_from=None, day_to=None):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return patrols.list_patrols(uow, day_from, day_to)

    # -- issue 12: S3 certificates and substitutes, S2 sessions and home-unit reports -----------
    @command
    def attach_leave_certificate(self, leave_id, certificate):
        caller = self._me()
        with self.db(caller.township) as uow:
            return shared(LeaveOut).dump(certificates.attach_to(uow, caller.person_id, caller.roles, leave_id, certificate))

    @rpc
    def window_scores(self, quarter):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return window_charges.window_scores(uow, quarter)

    @command
    def schedule_session(self, kind, topic, starts_at, ends_at, location=None):
        caller = self.caller.require(*SESSION_KEEPERS)
        with self.db(caller.township) as uow:
            return meetings.schedule(uow, caller.person_id, kind, topic, starts_at, ends_at, location)

    @command
    def record_session_attendance(self, session_id, records):
        caller = self.caller.require(*SESSION_KEEPERS)
        with self.db(caller.township) as uow:
            return meetings.record_attendance(uow, caller.person_id, session_id, records)

    @rpc
    def get_session(self, session_id):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return meetings.get_session(uow, session_id)

    @rpc
    def list_sessions(self, day_from=None, day_to=None):
        caller = self.caller.require(*INTERNAL)
        with self.db(caller.township) as uow:
            return meetings.list_sessions(uow, day_from, day_to)

    @rpc
    def home_unit_reports(self, month, home_unit=None):
        caller = self.caller.require(*REPORT_READERS)
        with self.db(caller.township) as uow:
            return home_reports.month_reports(uow, month, home_unit)

    @rpc
    def home_unit_reports_csv(self, month, home_unit=None):
        caller = self.caller.require(*REPORT_READERS)
        with self.db(caller.township) as uow:
            return home_reports.month_csv(uow, month, home_unit)

    @command
    def send_home_unit_reports(self, month):
        caller = self.caller.require(*MANAGERS)
        with self.db(caller.township) as uow:
            return home_reports.send(uow, month, caller.person_id)


SERVICE = StaffService
