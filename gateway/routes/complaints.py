"""Gateway routes of the complaints area (a mixin of gateway.service.GatewayService):
complaints and petitions (P1–P5), follow-ups of low ratings (P6), public outcomes and online
submission (T1). The complainant's identity is shown by the service only to complaint
officers and the director (P2)."""
from __future__ import annotations

from marshmallow import fields, validate

from services.common.tenancy import COMPLAINT_DESK, IDENTITY_READERS, INVESTIGATORS, LEADERS, STAFF
from services.common.validate import Schema

from services.contracts import complaints as out

from ..api import api, client_address

CHANNELS = ["in_person", "phone", "written", "online"]
CATEGORIES = ["attitude", "argument", "delay", "fee", "bribery", "discipline", "other"]
PHONE = validate.Regexp(r"^\+?[0-9-]{6,20}$")


class ComplainantIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 60), metadata={"example": "张三"})
    phone = fields.String(validate=PHONE, metadata={"example": "13812345678"})
    address = fields.String(validate=validate.Length(1, 200), metadata={"example": "青山镇柳溪村3组"})


class ComplaintIn(Schema):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS), metadata={"example": "in_person"})
    complainant = fields.Nested(ComplainantIn, required=True)
    target_person_id = fields.String(allow_none=True)
    target_window_id = fields.String(allow_none=True)
    target_department_id = fields.String(allow_none=True, metadata={
        "description": "P7: the department whose work the complaint is about"})
    category = fields.String(load_default="other", validate=validate.OneOf(CATEGORIES))
    content = fields.String(required=True, validate=validate.Length(1, 5000),
                            metadata={"example": "窗口工作人员态度生硬，让我来回跑了三趟"})
    complex = fields.Boolean(load_default=False)
    several_units = fields.Boolean(load_default=False)
    major = fields.Boolean(load_default=False, metadata={"description": "major matters must be written (P1)"})


class PublicComplainantIn(ComplainantIn):
    phone = fields.String(required=True, validate=PHONE, metadata={"example": "13812345678"})


class PublicComplaintIn(Schema):
    complainant = fields.Nested(PublicComplainantIn, required=True)
    target_window_id = fields.String(allow_none=True)
    target_person_id = fields.String(allow_none=True)
    category = fields.String(load_default="other", validate=validate.OneOf(CATEGORIES))
    content = fields.String(required=True, validate=validate.Length(1, 5000))


class PetitionIn(Schema):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    complainant = fields.Nested(ComplainantIn, required=True)
    content = fields.String(required=True, validate=validate.Length(1, 5000))
    persons = fields.Integer(load_default=1, validate=validate.Range(1, 10000))
    reception_requested = fields.Boolean(load_default=False)
    target_person_id = fields.String(allow_none=True)
    target_window_id = fields.String(allow_none=True)
    category = fields.String(load_default="other", validate=validate.OneOf(CATEGORIES))


class ComplaintQuery(Schema):
    state = fields.String(validate=validate.OneOf(["open", "concluded", "replied", "closed"]))
    kind = fields.String(validate=validate.OneOf(["complaint", "petition"]))
    overdue = fields.Boolean()


class DelayIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 2000),
                           metadata={"example": "涉及县医保局，需协调后答复"})
    told_via = fields.String(required=True, validate=validate.OneOf(["on_the_spot", "phone", "written"]))


class OutcomeIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["verified", "not_verified"]))
    finding = fields.String(required=True, validate=validate.Length(1, 5000), metadata={"example": "经调查属实"})
    category = fields.String(validate=validate.OneOf(CATEGORIES))


class ReplyIn(Schema):
    form = fields.String(required=True, validate=validate.OneOf(["on_the_spot", "phone", "written"]),
                         metadata={"description": "a written complaint needs a written reply (P3)"})
    summary = fields.String(required=True, validate=validate.Length(1, 5000))


class ReceptionIn(Schema):
    note = fields.String(validate=validate.Length(max=2000))


class NoteIn(Schema):
    note = fields.String(required=True, validate=validate.Length(1, 2000), metadata={"example": "已电话回访"})


class RectificationIn(Schema):
    rectification = fields.String(required=True, validate=validate.Length(1, 2000))


class FollowUpQuery(Schema):
    state = fields.String(validate=validate.OneOf(["open", "closed"]))


class MonthsQuery(Schema):
    months = fields.Integer(load_default=12, validate=validate.Range(1, 24))


class DutyDayIn(Schema):
    day = fields.Date(required=True, metadata={"example": "2026-12-01"})
    person_id = fields.String(required=True, validate=validate.Length(1, 32))


class DutyRosterIn(Schema):
    days = fields.List(fields.Nested(DutyDayIn), required=True, validate=validate.Length(max=31),
                       metadata={"description": "one leader a day (P5)"})


class ForwardIn(Schema):
    department_id = fields.String(validate=validate.Length(1, 32), metadata={
        "description": "default: the complaint's department, else its window's"})
    instructions = fields.String(validate=validate.Length(max=5000), metadata={"example": "请核实后五个工作日内答复"})


class ForwardAnswerIn(Schema):
    answer = fields.String(required=True, validate=validate.Length(1, 5000),
                           metadata={"example": "经核实已为群众补办，并对相关人员批评教育"})


class ForwardCheckIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["accepted", "returned"]))
    note = fields.String(validate=validate.Length(max=5000),
                         metadata={"description": "required when returned: what is missing"})


class ForwardingQuery(Schema):
    state = fields.String(validate=validate.OneOf(["forwarded", "answered", "accepted", "returned"]))


class UpwardReportIn(Schema):
    summary = fields.String(required=True, validate=validate.Length(1, 5000))
    reference = fields.String(validate=validate.Length(max=100), metadata={"example": "青纪报〔2026〕3号"})
    reported_to = fields.String(validate=validate.Length(1, 100),
                                metadata={"description": "default: the township's discipline_body setting"})


class ComplaintsRoutes:
    # -- P5 leader on duty ------------------------------------------------------------------
    @api("PUT", "/duty-rosters/<string:month>", response=out.DutyRoster, roles=COMPLAINT_DESK, body=DutyRosterIn,
         tags=["complaints"], summary="Arrange a month's leader duty roster (P5; one leader a day)")
    def set_duty_roster(self, request, month, body):
        return self.complaints.set_duty_roster(month, [
            {"day": d["day"].isoformat(), "person_id": d["person_id"]} for d in body["days"]])

    @api("POST", "/duty-rosters/<string:month>/publish", response=out.DutyRoster, roles=COMPLAINT_DESK,
         tags=["complaints"],
         summary="Publish (公示) a month's duty roster: due by the end of the month before (P5)")
    def publish_duty_roster(self, request, month):
        return self.complaints.publish_duty_roster(month)

    @api("GET", "/duty-rosters/<string:month>", response=out.DutyRoster, roles=STAFF,
         tags=["complaints"], summary="A month's leader duty roster (P5)")
    def get_duty_roster(self, request, month):
        return self.complaints.get_duty_roster(month)

    @api("GET", "/public/townships/<string:code>/leader-on-duty", response=out.LeaderOnDuty, public=True,
         tags=["public"], summary="Today's township leader on duty at the centre, and the month's roster (P5, T1)")
    def public_leader_on_duty(self, request, code):
        self.public_township(code)
        return self.complaints.leader_on_duty()

    # -- P7 forwarding -----------------------------------------------------------------------
    @api("POST", "/complaints/<string:complaint_id>/forwardings", response=out.Forwarding, roles=IDENTITY_READERS,
         body=ForwardIn, status=201, tags=["complaints"],
         summary="Forward a complaint to the department whose work it is about, with a deadline (P7)")
    def forward_complaint(self, request, complaint_id, body):
        return 201, self.complaints.forward(complaint_id, **body)

    @api("GET", "/complaints/<string:complaint_id>/forwardings", response=out.Forwarding(many=True), roles=STAFF,
         tags=["complaints"], summary="A complaint's forwardings (P7)")
    def complaint_forwardings(self, request, complaint_id):
        return self.complaints.complaint_forwardings(complaint_id)

    @api("GET", "/forwardings", response=out.Forwarding(many=True), roles=STAFF, query=ForwardingQuery,
         tags=["complaints"], summary="Forwarded complaints: all for complaint staff, the caller's department's "
                                      "for its people (P7; no complainant identity, P2)")
    def list_forwardings(self, request, query):
        return self.complaints.list_forwardings(**query)

    @api("GET", "/forwardings/<string:forwarding_id>", response=out.Forwarding, roles=STAFF, tags=["complaints"])
    def get_forwarding(self, request, forwarding_id):
        return self.complaints.get_forwarding(forwarding_id)

    @api("POST", "/forwardings/<string:forwarding_id>/answer", response=out.Forwarding, roles=STAFF,
         body=ForwardAnswerIn, tags=["complaints"],
         summary="The department's answer (its people, or the complaint office on its behalf) (P7)")
    def answer_forwarding(self, request, forwarding_id, body):
        return self.complaints.answer_forwarding(forwarding_id, body["answer"])

    @api("POST", "/forwardings/<string:forwarding_id>/check", response=out.Forwarding, roles=IDENTITY_READERS,
         body=ForwardCheckIn, tags=["complaints"],
         summary="The centre checks the answer: accepted (passed on with the reply) or returned (P7)")
    def check_forwarding(self, request, forwarding_id, body):
        return self.complaints.check_forwarding(forwarding_id, body["decision"], body.get("note"))

    @api("POST", "/complaints/<string:complaint_id>/upward-reports", response=out.UpwardReport, roles=COMPLAINT_DESK,
         body=UpwardReportIn, status=201, tags=["complaints"],
         summary="Report a major complaint to the discipline inspection body above, on record (P7)")
    def report_upward(self, request, complaint_id, body):
        return 201, self.complaints.report_upward(complaint_id, **body)

    @api("GET", "/complaints/<string:complaint_id>/upward-reports", response=out.UpwardReport(many=True),
         roles=COMPLAINT_DESK, tags=["complaints"], summary="A complaint's reports upward (P7)")
    def upward_reports(self, request, complaint_id):
        return self.complaints.upward_reports(complaint_id)

    # -- complaints and petitions (P1–P5) -------------------------------------------------
    @api("POST", "/complaints", response=out.Complaint, roles=COMPLAINT_DESK, body=ComplaintIn, status=201,
         tags=["complaints"],
         summary="Record a complaint (P1); its deadline follows P3")
    def record_complaint(self, request, body):
        return 201, self.complaints.record_complaint(**body)

    @api("POST", "/petitions", response=out.Complaint, roles=COMPLAINT_DESK, body=PetitionIn, status=201,
         tags=["complaints"],
         summary="Record a petition (信访, P5)")
    def record_petition(self, request, body):
        return 201, self.complaints.record_petition(**body)

    @api("GET", "/complaints", response=out.Complaint(many=True), roles=STAFF, query=ComplaintQuery,
         tags=["complaints"],
         summary="Complaints the caller may read (the accused see no complainant identity, P2)")
    def list_complaints(self, request, query):
        return self.complaints.list_complaints(**query)

    @api("GET", "/complaints/<string:complaint_id>", response=out.Complaint, roles=STAFF, tags=["complaints"],
         summary="One complaint (identity only for complaint officers and the director, P2)")
    def get_complaint(self, request, complaint_id):
        return self.complaints.get_complaint(complaint_id)

    @api("POST", "/complaints/<string:complaint_id>/delay", response=out.Complaint, roles=INVESTIGATORS, body=DelayIn,
         tags=["complaints"], summary="The deadline cannot be met: the complainant was told why (P3)")
    def explain_complaint_delay(self, request, complaint_id, body):
        return self.complaints.explain_delay(complaint_id, **body)

    @api("POST", "/complaints/<string:complaint_id>/outcome", response=out.Complaint, roles=INVESTIGATORS,
         body=OutcomeIn,
         tags=["complaints"], summary="Investigation outcome: verified or not verified (P4)")
    def conclude_complaint(self, request, complaint_id, body):
        return self.complaints.conclude(complaint_id, **body)

    @api("POST", "/complaints/<string:complaint_id>/reply", response=out.Complaint, roles=INVESTIGATORS, body=ReplyIn,
         tags=["complaints"], summary="The complainant is told the outcome (P4; written if written, P3)")
    def reply_complaint(self, request, complaint_id, body):
        return self.complaints.reply(complaint_id, **body)

    @api("POST", "/complaints/<string:complaint_id>/close", response=out.Complaint, roles=STAFF, tags=["complaints"],
         summary="Close (roles from the township's close_roles setting, default complaint officer or director)")
    def close_complaint(self, request, complaint_id):
        return self.complaints.close(complaint_id)

    @api("POST", "/complaints/<string:complaint_id>/reception", response=out.Complaint, roles=LEADERS,
         body=ReceptionIn, tags=["complaints"], summary="A leader received the petitioners (P5)")
    def record_reception(self, request, complaint_id, body):
        return self.complaints.record_reception(complaint_id, body.get("note"))

    # -- follow-ups (P6) ----------------------------------------------------------------
    @api("GET", "/follow-ups", response=out.FollowUp(many=True), roles=COMPLAINT_DESK, query=FollowUpQuery,
         tags=["complaints"],
         summary="Follow-ups of low ratings (P6)")
    def list_follow_ups(self, request, query):
        return self.complaints.list_follow_ups(**query)

    @api("GET", "/follow-ups/<string:follow_up_id>", response=out.FollowUp, roles=COMPLAINT_DESK,
         tags=["complaints"])
    def get_follow_up(self, request, follow_up_id):
        return self.complaints.get_follow_up(follow_up_id)

    @api("POST", "/follow-ups/<string:follow_up_id>/callback", response=out.FollowUp, roles=COMPLAINT_DESK,
         body=NoteIn,
         tags=["complaints"], summary="The applicant was called back (C9)")
    def follow_up_callback(self, request, follow_up_id, body):
        return self.complaints.record_callback(follow_up_id, body["note"])

    @api("POST", "/follow-ups/<string:follow_up_id>/rectification", response=out.FollowUp, roles=COMPLAINT_DESK,
         body=RectificationIn, tags=["complaints"], summary="Rectified; closes the follow-up (C9)")
    def follow_up_rectification(self, request, follow_up_id, body):
        return self.complaints.record_rectification(follow_up_id, body["rectification"])

    # -- public (T1) ------------------------------------------------------------------------
    @api("GET", "/public/townships/<string:code>/complaints/outcomes", response=out.PublicOutcomes,
         public=True, query=MonthsQuery,
         tags=["public"], summary="Anonymised complaint outcomes and counts per month (T1)")
    def public_complaint_outcomes(self, request, code, query):
        self.public_township(code)
        return self.complaints.public_outcomes(query["months"])

    @api("POST", "/public/townships/<string:code>/complaints", response=out.PublicComplaintReceipt,
         public=True, body=PublicComplaintIn,
         status=201, tags=["public"], errors=(429,),
         summary="Complain online, without an account (P1, channel online)")
    def public_submit_complaint(self, request, code, body):
        self.public_township(code)
        return 201, self.complaints.submit_public_complaint(client=client_address(request), **body)
