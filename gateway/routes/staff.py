"""Gateway routes of the staff area (a mixin of gateway.service.GatewayService): staff
discipline, DOMAIN S1–S8. Attendance, scores and honours are internal (T2): every route
needs a token of the township; none is public."""
from __future__ import annotations

from marshmallow import fields, validate
from werkzeug.wrappers import Response

from services.common.tenancy import AUDITORS, DECIDERS, LEADERS, STAFF
from services.common.validate import Schema
from services.contracts import staff as out

from ..api import api

HALF = validate.OneOf(["am", "pm"])
QUARTER = validate.Regexp(r"^\d{4}Q[1-4]$")


def csv_response(text: str, filename: str) -> Response:
    """CSV as UTF-8 with a BOM, so Excel opens Chinese correctly."""
    return Response(("\ufeff" + text).encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": f'attachment; filename="{filename}"'})


class MarkIn(Schema):
    person_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["in", "out"]))
    at = fields.AwareDateTime(required=True, metadata={"example": "2025-03-03T08:02:00+08:00"})


class IncidentIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["away", "proxy"]))
    person_id = fields.String(required=True)
    day = fields.Date(required=True)
    half = fields.String(required=True, validate=HALF)
    minutes = fields.Integer(validate=validate.Range(1, 600))
    other_person_id = fields.String(metadata={"description": "proxy: who signed for person_id"})


class ArrangedDutyIn(Schema):
    person_id = fields.String(required=True)
    day = fields.Date(required=True, metadata={"description": "a day the hall is closed (C2a)"})
    note = fields.String(validate=validate.Length(0, 500))


class ArrangedDutyQuery(Schema):
    day = fields.Date()


class ObjectionIn(Schema):
    attendance_day_id = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(1, 1000))


class DecisionIn(Schema):
    accept = fields.Boolean(required=True)


class CertificateIn(Schema):
    issuer = fields.String(required=True, validate=validate.Length(1, 100), metadata={"example": "县人民医院"})
    issuer_level = fields.String(required=True, validate=validate.Length(1, 20),
                                 metadata={"example": "county", "description": "county, city, province or national "
                                                                               "(a setting)"})
    issued_on = fields.Date(required=True)
    document_ref = fields.String(required=True, validate=validate.Length(1, 300),
                                 metadata={"example": "scan/2025/0042.pdf"})


def certificate_values(body) -> dict:
    return {**body, "issued_on": body["issued_on"].isoformat()}


class LeaveIn(Schema):
    starts_at = fields.AwareDateTime(required=True, metadata={"example": "2025-03-03T08:00:00+08:00"})
    ends_at = fields.AwareDateTime(required=True, metadata={"example": "2025-03-03T12:00:00+08:00"})
    reason = fields.String(validate=validate.Length(max=500))
    substitute_person_id = fields.String()
    home_unit_endorsed = fields.Boolean(load_default=False)
    person_id = fields.String(metadata={"description": "a manager requests for someone else"})
    kind = fields.String(load_default="personal", validate=validate.OneOf(["personal", "sick"]))
    certificate = fields.Nested(CertificateIn, metadata={"description": "sick leave: the hospital certificate (S3)"})


class LeaveDecisionIn(Schema):
    approve = fields.Boolean(required=True)
    note = fields.String(validate=validate.Length(max=500))


class RuleIn(Schema):
    points = fields.Integer(validate=validate.Range(-100, 100))
    category = fields.String(validate=validate.Length(1, 20))
    description = fields.String(validate=validate.Length(1, 500))
    active = fields.Boolean()


class ScoreIn(Schema):
    person_id = fields.String(required=True)
    rule_code = fields.String(required=True, metadata={"example": "forbidden_language"})
    reason = fields.String(required=True, validate=validate.Length(1, 500))
    day = fields.Date()


class PeerReviewIn(Schema):
    person_id = fields.String(required=True)
    quarter = fields.String(required=True, validate=QUARTER, metadata={"example": "2025Q1"})
    level = fields.String(required=True, validate=validate.OneOf(["好", "较好", "一般", "差"]))


class FaultIn(Schema):
    person_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.Length(1, 40), metadata={"example": "attitude"})
    severity = fields.String(required=True, validate=validate.OneOf(["minor", "serious", "grave"]))
    facts = fields.String(required=True, validate=validate.Length(1, 2000))
    self_reported = fields.Boolean(load_default=False)
    day = fields.Date()
    notified_on = fields.Date(metadata={"description": "the day the person was notified of the decision "
                                                      "(default today): the appeal period runs from it (S6)"})


class AppealIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class AppealDecisionIn(Schema):
    upheld = fields.Boolean(required=True)
    revised_measure = fields.String(validate=validate.OneOf(["criticism", "public_criticism", "sanction"]))


class FindingIn(Schema):
    person_id = fields.String(required=True)
    rule_code = fields.String(required=True, validate=validate.OneOf(
        ["badge", "dress", "phone", "eating", "empty_post", "untidy"]))
    note = fields.String(validate=validate.Length(max=500))


class PatrolIn(Schema):
    half = fields.String(required=True, validate=HALF)
    day = fields.Date()
    note = fields.String(validate=validate.Length(max=1000))
    findings = fields.List(fields.Nested(FindingIn), load_default=list)


class LeaveQuery(Schema):
    person_id = fields.String()
    state = fields.String(validate=validate.OneOf(["requested", "approved", "rejected", "returned"]))


class PatrolQuery(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()


def _iso(d):
    return d.isoformat() if d is not None else None


class DisciplineRoutes:
    # -- S1 roster ----------------------------------------------------------------
    @api("GET", "/roster", response=out.RosterEntry(many=True), roles=STAFF, tags=["discipline"],
         summary="Staff with window, department, roles, home unit and A/B post (S1)")
    def get_roster(self, request):
        return self.staff.roster()

    # -- S2 attendance ----------------------------------------------------------------
    @api("POST", "/attendance/sign-in", response=out.AttendanceMark, roles=STAFF, status=201, tags=["attendance"],
         summary="Sign in now (S2)")
    def attendance_sign_in(self, request):
        return 201, self.staff.sign_in()

    @api("POST", "/attendance/sign-out", response=out.AttendanceMark, roles=STAFF, status=201, tags=["attendance"],
         summary="Sign out now (S2)")
    def attendance_sign_out(self, request):
        return 201, self.staff.sign_out()

    @api("POST", "/attendance/marks", response=out.AttendanceMark, roles=AUDITORS, body=MarkIn, status=201,
         tags=["attendance"],
         summary="Record a sign-in/out with its time (e.g. from the fingerprint machine)")
    def attendance_mark(self, request, body):
        return 201, self.staff.record_attendance_mark(body["person_id"], body["kind"], body["at"].isoformat())

    @api("POST", "/attendance/incidents", response=out.AttendanceIncident, roles=AUDITORS, body=IncidentIn,
         status=201, tags=["attendance"],
         summary="Record an absence from the post (away, minutes) or a proxy sign-in (代签: both absent)")
    def attendance_incident(self, request, body):
        return 201, self.staff.record_attendance_incident(
            body["kind"], body["person_id"], body["day"].isoformat(), body["half"], body.get("minutes"),
            body.get("other_person_id"))

    @api("POST", "/attendance/arranged-duties", response=out.ArrangedDuty, roles=LEADERS, body=ArrangedDutyIn,
         status=201, tags=["attendance"],
         summary="Arrange a person's work on a closed day: only arranged work is overtime (S4, C2a)")
    def attendance_arrange_duty(self, request, body):
        return 201, self.staff.arrange_duty(body["person_id"], body["day"].isoformat(), body.get("note"))

    @api("GET", "/attendance/arranged-duties", response=out.ArrangedDuty(many=True), roles=STAFF,
         query=ArrangedDutyQuery, tags=["attendance"], summary="Arranged duties on closed days (S4, C2a)")
    def attendance_arranged_duties(self, request, query):
        return self.staff.list_arranged_duties(query["day"].isoformat() if query.get("day") else None)

    @api("POST", "/attendance/days/<string:day>/close", response=out.AttendanceDayClosed, roles=AUDITORS,
         tags=["attendance"],
         summary="Classify a past day's attendance (done nightly by the service too)")
    def attendance_close_day(self, request, day):
        return self.staff.close_attendance_day(day)

    @api("GET", "/attendance/weeks/<string:week_start>", response=out.AttendanceSheet, roles=STAFF,
         tags=["attendance"],
         summary="The weekly attendance sheet (internal, T2)")
    def attendance_week(self, request, week_start):
        return self.staff.weekly_attendance(week_start)

    @api("GET", "/attendance/weeks/<string:week_start>/csv", roles=STAFF, tags=["attendance"],
         summary="The weekly attendance sheet as CSV (UTF-8 with BOM)", content_type="text/csv")
    def attendance_week_csv(self, request, week_start):
        return csv_response(self.staff.weekly_attendance_csv(week_start), f"attendance-{week_start}.csv")

    @api("POST", "/attendance/weeks/<string:week_start>/publish", response=out.AttendancePublication,
         roles=LEADERS, tags=["attendance"],
         summary="Publish the week (objections within 2 working days)")
    def attendance_publish(self, request, week_start):
        return self.staff.publish_attendance_week(week_start)

    @api("POST", "/attendance/objections", response=out.AttendanceObjection, roles=STAFF, body=ObjectionIn,
         status=201, tags=["attendance"],
         summary="Object to one's own attendance record (S2)")
    def attendance_object(self, request, body):
        return 201, self.staff.object_to_attendance(body["attendance_day_id"], body["reason"])

    @api("POST", "/attendance/objections/<string:objection_id>/decision", response=out.AttendanceObjection,
         roles=LEADERS, body=DecisionIn,
         tags=["attendance"], summary="Accept (excuse the record) or reject an objection")
    def attendance_objection_decision(self, request, objection_id, body):
        return self.staff.decide_attendance_objection(objection_id, body["accept"])

    # -- S3 leave ------------------------------------------------------------------------
    @api("POST", "/leaves", response=out.Leave, roles=STAFF, body=LeaveIn, status=201, tags=["leave"],
         summary="Request leave; routed to its approver by length (S3)")
    def leave_request(self, request, body):
        return 201, self.staff.request_leave(
            body["starts_at"].isoformat(), body["ends_at"].isoformat(), body.get("reason"),
            body.get("substitute_person_id"), body["home_unit_endorsed"], body.get("person_id"), body["kind"],
            certificate_values(body["certificate"]) if body.get("certificate") else None)

    @api("GET", "/leaves", response=out.Leave(many=True), roles=STAFF, query=LeaveQuery, tags=["leave"],
         summary="Leaves (clerks: their own)")
    def leave_list(self, request, query):
        return self.staff.list_leaves(query.get("person_id"), query.get("state"))

    @api("POST", "/leaves/<string:leave_id>/decision", response=out.Leave, roles=DECIDERS, body=LeaveDecisionIn,
         tags=["leave"], summary="Approve or reject leave (the approver its length needs)")
    def leave_decide(self, request, leave_id, body):
        return self.staff.decide_leave(leave_id, body["approve"], body.get("note"))

    @api("POST", "/leaves/<string:leave_id>/return", response=out.Leave, roles=STAFF, tags=["leave"],
         summary="Record the return from leave (销假)")
    def leave_return(self, request, leave_id):
        return self.staff.return_from_leave(leave_id)

    # -- S4 scoring ------------------------------------------------------------------------
    @api("GET", "/score-rules", response=out.ScoreRule(many=True), roles=STAFF, tags=["scoring"],
         summary="The scoring rule table (S4)")
    def score_rules(self, request):
        return self.staff.score_rules()

    @api("PUT", "/score-rules/<string:code>", response=out.ScoreRule, roles=LEADERS, body=RuleIn, tags=["scoring"],
         summary="Change or add a scoring rule (rules are data)")
    def score_rule_update(self, request, code, body):
        return self.staff.update_score_rule(code, **body)

    @api("POST", "/scores", response=out.ScoreEntry, roles=AUDITORS, body=ScoreIn, status=201, tags=["scoring"],
         summary="Deduct or credit by hand, with a reason (S4)")
    def score_record(self, request, body):
        return 201, self.staff.record_score(body["person_id"], body["rule_code"], body["reason"], _iso(body.get("day")))

    @api("GET", "/scores/<string:person_id>/<string:quarter>", response=out.ScoreEntry(many=True),
         roles=STAFF, tags=["scoring"],
         summary="A person's deductions and credits in a quarter")
    def score_person(self, request, person_id, quarter):
        return self.staff.person_scores(person_id, quarter)

    @api("POST", "/peer-reviews", response=out.PeerReview, roles=STAFF, body=PeerReviewIn, status=201,
         tags=["scoring"],
         summary="Review a colleague for a quarter (S5 窗口互评)")
    def peer_review(self, request, body):
        return 201, self.staff.submit_peer_review(body["person_id"], body["quarter"], body["level"])

    # -- S5 grades, S7 honours ------------------------------------------------------------------
    @api("GET", "/scoreboard/<string:quarter>", response=out.Scoreboard, roles=STAFF, tags=["scoring"],
         summary="The quarter's scoreboard: composite, grade, veto, flags (S5)")
    def scoreboard(self, request, quarter):
        return self.staff.scoreboard(quarter)

    @api("GET", "/scoreboard/<string:quarter>/csv", roles=STAFF, tags=["scoring"],
         summary="The quarter's scoreboard as CSV (UTF-8 with BOM)", content_type="text/csv")
    def scoreboard_csv(self, request, quarter):
        return csv_response(self.staff.scoreboard_csv(quarter), f"scoreboard-{quarter}.csv")

    @api("POST", "/scoreboard/<string:quarter>/close", response=out.QuarterClosed, roles=LEADERS, tags=["scoring"],
         summary="Record the quarter's return-to-home-unit flags (S5)")
    def scoreboard_close(self, request, quarter):
        return self.staff.close_quarter(quarter)

    @api("GET", "/honours/<string:quarter>", response=out.Honours, roles=STAFF, tags=["scoring"],
         summary="Red-flag window, service model, advanced individuals (S7)")
    def honours(self, request, quarter):
        return self.staff.honours(quarter)

    # -- S2 year tally, S5 year-end board (年终总评) --------------------------------------------------
    @api("GET", "/year-tally/<string:year>", response=out.YearTally, roles=STAFF, tags=["scoring"],
         summary="Leave and absence days per person in a year; the assessment award forfeited (S2)")
    def year_tally(self, request, year):
        return self.staff.year_tally(year)

    @api("GET", "/year-end/<string:year>", response=out.YearEndBoard, roles=STAFF, tags=["scoring"],
         summary="The year-end board (年终总评): quarters, honours +3, veto, 60-point bar, award, returns (S5)")
    def year_end_board(self, request, year):
        return self.staff.year_end_board(year)

    @api("GET", "/year-end/<string:year>/csv", roles=STAFF, tags=["scoring"],
         summary="The year-end board as CSV (UTF-8 with BOM)", content_type="text/csv")
    def year_end_board_csv(self, request, year):
        return csv_response(self.staff.year_end_board_csv(year), f"year-end-{year}.csv")

    @api("POST", "/year-end/<string:year>/close", response=out.YearClosed, roles=LEADERS, tags=["scoring"],
         summary="After the year: record the returns to the home unit (S5)")
    def year_end_close(self, request, year):
        return self.staff.close_year(year)

    # -- S6 accountability ------------------------------------------------------------------------
    @api("POST", "/faults", response=out.AccountabilityCase, roles=AUDITORS, body=FaultIn, status=201,
         tags=["accountability"],
         summary="Record a fault; the ladder gives the measure (S6)")
    def fault_record(self, request, body):
        return 201, self.staff.record_fault(body["person_id"], body["kind"], body["severity"], body["facts"],
                                            body["self_reported"], _iso(body.get("day")),
                                            _iso(body.get("notified_on")))

    @api("GET", "/faults", response=out.AccountabilityCase(many=True), roles=STAFF, tags=["accountability"],
         summary="Faults (clerks: their own)")
    def fault_list(self, request):
        return self.staff.list_faults()

    @api("POST", "/faults/<string:case_id>/appeal", response=out.AccountabilityCase, roles=STAFF,
         body=AppealIn, tags=["accountability"],
         summary="Appeal one's own measure within 30 days (复核)")
    def fault_appeal(self, request, case_id, body):
        return self.staff.appeal_fault(case_id, body["reason"])

    @api("POST", "/faults/<string:case_id>/appeal-decision", response=out.AccountabilityCase, roles=LEADERS,
         body=AppealDecisionIn,
         tags=["accountability"], summary="Decide an appeal")
    def fault_appeal_decision(self, request, case_id, body):
        return self.staff.decide_fault_appeal(case_id, body["upheld"], body.get("revised_measure"))

    @api("GET", "/home-unit-notices", response=out.HomeUnitNotice(many=True), roles=AUDITORS,
         tags=["accountability"],
         summary="Notices to home units and returns (S5, S6)")
    def home_unit_notices(self, request):
        return self.staff.home_unit_notices()

    # -- S8 patrols ------------------------------------------------------------------------------
    @api("POST", "/patrols", response=out.Patrol, roles=AUDITORS, body=PatrolIn, status=201,
         tags=["patrols"],
         summary="Record a morning or afternoon inspection and its findings (S8)")
    def patrol_record(self, request, body):
        return 201, self.staff.record_patrol(body["half"], body["findings"], _iso(body.get("day")), body.get("note"))

    @api("GET", "/patrols", response=out.Patrol(many=True), roles=STAFF, query=PatrolQuery,
         tags=["patrols"], summary="Inspection records")
    def patrol_list(self, request, query):
        return self.staff.list_patrols(_iso(query.get("from_")), _iso(query.get("to")))
