"""Gateway routes of issue 12 (a mixin of gateway.service.GatewayService): S2 study sessions
and meetings, S2 monthly home-unit reports, S3 sick-leave certificates and the windows'
scores with what substitutes (顶岗) cost them. Role sets come from services.common.tenancy."""
from __future__ import annotations

from marshmallow import fields, validate

from services.common.tenancy import AUDITORS, DECIDERS, LEADERS, STAFF
from services.common.validate import Schema
from services.contracts import staff as out

from ..api import api
from .staff import CertificateIn, certificate_values, csv_response

#: S2: who schedules sessions and records who came (section heads lead them, leaders too)
SESSION_KEEPERS = list(DECIDERS)
#: S2: who reads the home-unit reports; the leaders send them
REPORT_READERS = list(AUDITORS)
SENDERS = list(LEADERS)
INTERNAL = list(STAFF)


class SessionIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["study", "meeting"]))
    topic = fields.String(required=True, validate=validate.Length(1, 200), metadata={"example": "行政许可法学习"})
    starts_at = fields.AwareDateTime(required=True, metadata={"example": "2025-03-05T15:00:00+08:00"})
    ends_at = fields.AwareDateTime(required=True, metadata={"example": "2025-03-05T17:00:00+08:00"})
    location = fields.String(validate=validate.Length(max=100))


class SessionRecordIn(Schema):
    person_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["present", "late", "early", "absent"]),
                           metadata={"description": "early: left before the end (早退, −1 like late)"})
    excused = fields.Boolean(load_default=False, metadata={"description": "an absence with leave (因故请假)"})
    reason = fields.String(validate=validate.Length(max=500), metadata={"description": "why absent"})


class SessionAttendanceIn(Schema):
    records = fields.List(fields.Nested(SessionRecordIn), required=True, validate=validate.Length(1, 500))


class SessionQuery(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()


class ReportQuery(Schema):
    home_unit = fields.String(validate=validate.Length(1, 100))


class StaffRecordsRoutes:
    # -- S2 study sessions and meetings ------------------------------------------------
    @api("POST", "/meetings", response=out.StudySession, roles=SESSION_KEEPERS, body=SessionIn, status=201,
         tags=["attendance"], summary="Schedule a study session or staff meeting (S2)")
    def session_schedule(self, request, body):
        return 201, self.staff.schedule_session(body["kind"], body["topic"], body["starts_at"].isoformat(),
                                                body["ends_at"].isoformat(), body.get("location"))

    @api("GET", "/meetings", response=out.StudySession(many=True), roles=INTERNAL, query=SessionQuery,
         tags=["attendance"], summary="Study sessions and meetings with who attended (S2, internal T2)")
    def session_list(self, request, query):
        f, t = query.get("from_"), query.get("to")
        return self.staff.list_sessions(f.isoformat() if f else None, t.isoformat() if t else None)

    @api("GET", "/meetings/<string:session_id>", response=out.StudySession, roles=INTERNAL,
         tags=["attendance"], summary="A study session or meeting and who attended (S2)")
    def session_get(self, request, session_id):
        return self.staff.get_session(session_id)

    @api("POST", "/meetings/<string:session_id>/attendance", response=out.StudySession,
         roles=SESSION_KEEPERS, body=SessionAttendanceIn, tags=["attendance"],
         summary="Record who attended, came late, or was absent and why (unexcused absence = absence, late −1; S2)")
    def session_attendance(self, request, session_id, body):
        return self.staff.record_session_attendance(session_id, body["records"])

    # -- S2 monthly home-unit reports ----------------------------------------------------
    @api("GET", "/home-unit-reports/<string:month>", response=out.HomeUnitReports, roles=REPORT_READERS,
         query=ReportQuery, tags=["attendance"],
         summary="Each home unit's people: the month's attendance and scores (S2)")
    def home_unit_reports(self, request, month, query):
        return self.staff.home_unit_reports(month, query.get("home_unit"))

    @api("GET", "/home-unit-reports/<string:month>/csv", roles=REPORT_READERS, query=ReportQuery,
         tags=["attendance"], content_type="text/csv",
         summary="The month's home-unit reports as CSV (UTF-8 with BOM)")
    def home_unit_reports_csv(self, request, month, query):
        return csv_response(self.staff.home_unit_reports_csv(month, query.get("home_unit")),
                            f"home-unit-report-{month}.csv")

    @api("POST", "/home-unit-reports/<string:month>/send", response=out.HomeUnitReportsSent, roles=SENDERS,
         tags=["attendance"],
         summary="Send the month's reports to the home units (once each; the month's days must be closed)")
    def home_unit_reports_send(self, request, month):
        return self.staff.send_home_unit_reports(month)

    # -- S3 certificates, substitutes ----------------------------------------------------------
    @api("POST", "/leaves/<string:leave_id>/certificate", response=out.Leave, roles=INTERNAL, body=CertificateIn,
         tags=["leave"], summary="Record a sick leave's hospital certificate (county level or above; S3)")
    def leave_certificate(self, request, leave_id, body):
        return self.staff.attach_leave_certificate(leave_id, certificate_values(body))

    @api("GET", "/window-scores/<string:quarter>", response=out.WindowScores, roles=INTERNAL, tags=["scoring"],
         summary="Each window's score: its staff's mean composite plus what substitutes standing in cost it (S3, S7)")
    def window_scores(self, request, quarter):
        return self.staff.window_scores(quarter)
