"""Gateway routes of the intake area (a mixin of gateway.service.GatewayService):
catalogue (I1), inquiries (I2), applications, notices and returns (I3–I5, C12), receipts and
the public status query (I4)."""
from __future__ import annotations

from marshmallow import fields, validate

from services.common.tenancy import DESK, LEADERS, REVIEWERS, STAFF
from services.common.validate import Schema
from services.contracts import cases as cases_out
from services.contracts import intake as out
from services.contracts import intake_input as intake_schemas

from ..api import api, client_address


ITEM_EXAMPLE = {
    "code": "MZ-002", "name": "城乡低保申请", "legal_basis": "《社会救助暂行办法》第九条至第十一条",
    "window_id": "<window id>", "department_id": "<department id>",
    "materials": [{"name": "低保申请书", "main": True}, {"name": "居民身份证", "main": True},
                  {"name": "户口簿复印件", "main": False}, {"name": "家庭收入证明", "main": False}],
    "procedure": "申请—受理—入户调查—民主评议—公示—审批", "default_kind": "promised", "promised_days": 5,
    "fee_cents": 0, "departments": [], "tacit_approval": False, "level": "township", "major": True,
}
APPLICATION_EXAMPLE = {
    "item_code": "MZ-002",
    "applicant": {"name": "李秀兰", "phone": "13812345678", "id_no": "110101199003071234"},
    "materials_brought": ["低保申请书", "居民身份证"], "materials_present": [],
    "first_asked_person_id": None, "proxy": True, "agent_person_id": "<village agent id>",
    "mandate_no": "QS-DL-2025-001",
}


class IntakeItemIn(intake_schemas.ItemIn):
    """A catalogue item (I1)."""


class IntakeApplicationIn(intake_schemas.ApplicationIn):
    """An application as the clerk receives it (I3–I5)."""


class IntakeInquiryIn(intake_schemas.InquiryIn):
    """An inquiry logged by the first-asked person (I2)."""


class IntakeItemPatch(intake_schemas.ItemIn):
    """Any of the item's fields; the change makes a new version (I1)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class IntakeItemQuery(Schema):
    version = fields.Integer(validate=validate.Range(1, 100000))


class IntakeInquiryQuery(Schema):
    status = fields.String(validate=validate.OneOf(("answered", "referred", "done")))
    window_id = fields.String()
    mine = fields.Boolean(load_default=False)


class IntakeResolutionIn(Schema):
    outcome = fields.String(required=True, validate=validate.Length(1, 5000), metadata={"example": "已由国土窗口受理并告知进度"})


class IntakeApplicationQuery(Schema):
    status = fields.String(validate=validate.OneOf(("received", "supplement", "accepted", "return_pending",
                                                    "returned")))


class IntakeArrivalIn(Schema):
    materials = fields.List(fields.String(validate=validate.Length(1, 200)), required=True,
                            validate=validate.Length(min=1), metadata={"example": ["户口簿复印件"]})


class IntakeMaterialRequestIn(Schema):
    material = fields.String(required=True, validate=validate.Length(1, 200), metadata={"example": "家庭收入证明"})


class IntakeReturnIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 2000),
                           metadata={"example": "经入户核查，家庭人均收入高于本地低保标准"})


class IntakeSignOffIn(Schema):
    approve = fields.Boolean(required=True, metadata={"example": True})
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class IntakeViolationQuery(Schema):
    person_id = fields.String()


class IntakeReceiptQueryIn(Schema):
    password = fields.String(required=True, validate=validate.Length(1, 64), metadata={"example": "K7M3Q9XA2B"})


class PublicRatingIn(IntakeReceiptQueryIn):
    rating = fields.Integer(required=True, validate=validate.Range(1, 5),
                            metadata={"example": 5, "description": "5 非常满意 … 1 非常不满意"})
    comment = fields.String(validate=validate.Length(max=1000))


class IntakeRoutes:
    # -- public (I1, I4, T1) ---------------------------------------------------------
    @api("GET", "/public/townships/<string:code>/catalogue", response=out.PublicCatalogueItem(many=True),
         public=True, tags=["public", "intake"],
         summary="The township's published service catalogue (办事指南, I1/T1)")
    def public_catalogue(self, request, code):
        self.public_township(code)
        return self.intake.public_catalogue()

    @api("GET", "/public/townships/<string:code>/catalogue/<string:item_code>",
         response=out.PublicCatalogueItem, public=True,
         tags=["public", "intake"], summary="One published catalogue item (I1)")
    def public_catalogue_item(self, request, code, item_code):
        self.public_township(code)
        return self.intake.public_item(item_code)

    @api("POST", "/public/townships/<string:code>/receipts/<string:number>", response=out.PublicStatus,
         public=True, body=IntakeReceiptQueryIn,
         errors=(429,),
         tags=["public", "intake"], example={"password": "K7M3Q9XA2B"},
         summary="Status of an application by receipt number and query password (I4)",
         description="No login. The password travels in the body, never in the URL. A wrong password "
                     "and an unknown number both answer 404 with the same message; after too many "
                     "wrong tries per number or per client address (settings) the answer is 429.")
    def public_receipt_status(self, request, code, number, body):
        self.public_township(code)
        return self.intake.query_receipt(number, body["password"], client_address(request))

    @api("POST", "/public/townships/<string:code>/receipts/<string:number>/rating", response=cases_out.Rating,
         public=True,
         body=PublicRatingIn, status=201, tags=["public", "cases"], errors=(409, 429),
         example={"rating": 5, "comment": "办事效率高"},
         summary="The applicant rates the service 1–5 after delivery (好差评, C9)",
         description="No login: receipt number and query password, checked (and limited) exactly as "
                     "the status query. A rating of 1 or 2 opens a follow-up in complaints.")
    def public_rating(self, request, code, number, body):
        self.public_township(code)
        self.intake.query_receipt(number, body["password"], client_address(request))
        return 201, self.cases.rate(rating=body["rating"], receipt_no=number,
                                    comment=body.get("comment"), channel="online")

    # -- catalogue (I1) ----------------------------------------------------------
    @api("POST", "/intake/items", response=out.CatalogueItem, roles=LEADERS, body=IntakeItemIn, status=201,
         tags=["intake"],
         example=ITEM_EXAMPLE, summary="Create a catalogue item (version 1)")
    def create_item(self, request, body):
        return 201, self.intake.create_item(body)

    @api("PATCH", "/intake/items/<string:code>", response=out.CatalogueItem, roles=LEADERS,
         body=IntakeItemPatch, tags=["intake"],
         example={"promised_days": 3}, summary="Change an item: makes a new version (I1)")
    def change_item(self, request, code, body):
        return self.intake.change_item(code, body)

    @api("GET", "/intake/items", response=out.CatalogueItem(many=True), roles=STAFF, tags=["intake"],
         summary="Current versions of every item")
    def list_items(self, request):
        return self.intake.list_items()

    @api("GET", "/intake/items/<string:code>", response=out.CatalogueItem, roles=STAFF, query=IntakeItemQuery,
         tags=["intake"],
         summary="An item, current or a given version")
    def get_item(self, request, code, query):
        return self.intake.get_item(code, query.get("version"))

    # -- inquiries (I2) ------------------------------------------------------------
    @api("POST", "/intake/inquiries", response=out.Inquiry, roles=STAFF, body=IntakeInquiryIn, status=201,
         tags=["intake"],
         example={"topic": "宅基地审批需要多久？", "refer_to_window_id": "<国土 window id>"},
         summary="Log an inquiry as the first-asked person (首问责任制): answer it or refer it")
    def log_inquiry(self, request, body):
        return 201, self.intake.log_inquiry(body)

    @api("GET", "/intake/inquiries", response=out.Inquiry(many=True), roles=STAFF, query=IntakeInquiryQuery,
         tags=["intake"],
         summary="The inquiry log (filter by status, referred window, mine)")
    def list_inquiries(self, request, query):
        return self.intake.list_inquiries(query.get("status"), query.get("window_id"), query["mine"])

    @api("POST", "/intake/inquiries/<string:inquiry_id>/resolution", response=out.Inquiry, roles=STAFF,
         body=IntakeResolutionIn,
         tags=["intake"], summary="The responsible window records how a referred inquiry was handled")
    def resolve_inquiry(self, request, inquiry_id, body):
        return self.intake.resolve_inquiry(inquiry_id, body["outcome"])

    @api("GET", "/intake/tracking", response=out.Tracking, roles=STAFF, tags=["intake"],
         summary="督办: my referred inquiries and first-asked applications not yet done (I2)")
    def tracking(self, request):
        return self.intake.tracking()

    # -- applications (I3–I5, C12) ------------------------------------------------------
    @api("POST", "/intake/applications", response=out.ApplicationOutcome, roles=DESK, body=IntakeApplicationIn,
         status=201, tags=["intake"],
         example=APPLICATION_EXAMPLE,
         summary="Receive an application: classified (I5), one-time notice (I3), receipt (I4)",
         description="The response carries the receipt with its query password: shown this once.")
    def submit_application(self, request, body):
        return 201, self.intake.submit_application(body)

    @api("GET", "/intake/applications", response=out.Application(many=True), roles=STAFF,
         query=IntakeApplicationQuery, tags=["intake"],
         summary="Applications (personal data masked unless the role needs it)")
    def list_applications(self, request, query):
        return self.intake.list_applications(query.get("status"))

    @api("GET", "/intake/applications/<string:application_id>", response=out.ApplicationDetail, roles=STAFF,
         tags=["intake"],
         summary="An application with its notices")
    def get_application(self, request, application_id):
        return self.intake.get_application(application_id)

    @api("POST", "/intake/applications/<string:application_id>/notice", response=out.ApplicationOutcome,
         roles=DESK, tags=["intake"],
         summary="Issue the one-time supplement notice of a received application (C12: late → deemed accepted)")
    def issue_notice(self, request, application_id):
        return self.intake.issue_notice(application_id)

    @api("POST", "/intake/applications/<string:application_id>/arrivals", response=out.Application, roles=DESK,
         body=IntakeArrivalIn,
         tags=["intake"], summary="Materials on the notice arrived; the last one starts the clock")
    def record_arrival(self, request, application_id, body):
        return self.intake.record_arrival(application_id, body["materials"])

    @api("POST", "/intake/applications/<string:application_id>/material-requests",
         response=out.MaterialRequest, roles=DESK,
         body=IntakeMaterialRequestIn, tags=["intake"],
         summary="Ask for a material after the notice: only one on it; else 422 and a violation (I3)")
    def request_material(self, request, application_id, body):
        return self.intake.request_material(application_id, body["material"])

    @api("POST", "/intake/applications/<string:application_id>/return", response=out.ReturnOutcome, roles=DESK,
         body=IntakeReturnIn,
         tags=["intake"], summary="Return (退回件) with a written reason; a major matter waits for sign-off")
    def return_application(self, request, application_id, body):
        return self.intake.return_application(application_id, body["reason"])

    @api("POST", "/intake/applications/<string:application_id>/return/sign-off", response=out.ReturnOutcome,
         roles=DESK, body=IntakeSignOffIn,
         tags=["intake"], summary="A superior signs off (or refuses) the return of a major matter (I5)")
    def sign_off_return(self, request, application_id, body):
        return self.intake.sign_off_return(application_id, body["approve"], body.get("note"))

    @api("GET", "/intake/returns", response=out.Return(many=True), roles=REVIEWERS, tags=["intake"],
         summary="否定报备: every return, for audit")
    def list_returns(self, request):
        return self.intake.list_returns()

    @api("GET", "/intake/violations", response=out.NoticeViolation(many=True), roles=REVIEWERS,
         query=IntakeViolationQuery, tags=["intake"],
         summary="One-time-notice violations (I3)")
    def list_violations(self, request, query):
        return self.intake.list_violations(query.get("person_id"))
