"""Gateway routes of the cases area (a mixin of gateway.service.GatewayService): the case
lifecycle (DOMAIN C1–C13). Rules live in services/cases; these only parse and forward."""
from __future__ import annotations

from marshmallow import fields, validate

from services.common.tenancy import CASE_READERS, DECIDERS, DESK
from services.common.validate import Schema

from services.contracts import cases as out

from ..api import api, client_address
from .intake import IntakeReceiptQueryIn

CASE_STATES = ["received", "supplement_pending", "in_review", "awaiting_departments", "escalated",
               "suspended", "decided", "delivered", "withdrawn", "reconsideration"]


class CaseQuery(Schema):
    state = fields.String(validate=validate.OneOf(CASE_STATES), metadata={"example": "in_review"})
    overdue = fields.Boolean(metadata={"example": False})
    holder = fields.String(metadata={"description": "person id holding the case (A, or B for A)"})
    past_target = fields.Boolean(metadata={"description": "immediate cases still open past their target (I5)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class CaseReviewIn(Schema):
    opinion = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]),
                            metadata={"example": "approve"})
    note = fields.String(validate=validate.Length(max=2000), metadata={"example": "材料齐全，符合条件"})


class CaseOpinionIn(Schema):
    department = fields.String(required=True, validate=validate.Length(1, 100), metadata={"example": "自然资源所"})
    opinion = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]),
                            metadata={"example": "approve"})
    note = fields.String(validate=validate.Length(max=2000), metadata={"example": "用地符合规划"})


class CaseDecisionIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["approved", "rejected"]),
                            metadata={"example": "approved"})
    reason = fields.String(validate=validate.Length(max=2000), metadata={"example": "经审核符合条件"})


class CaseNoteIn(Schema):
    note = fields.String(validate=validate.Length(max=2000), metadata={"example": "申请人已领取证照"})


class CaseReasonIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 2000), metadata={"example": "申请人撤回"})


class CaseExtensionIn(Schema):
    days = fields.Integer(required=True, validate=validate.Range(1, 60), metadata={"example": 3})
    reason = fields.String(required=True, validate=validate.Length(1, 2000), metadata={"example": "需现场核查"})


class CasePauseIn(Schema):
    procedure = fields.String(required=True, metadata={"example": "expert_review",
                              "description": "hearing, tendering, auction, testing, inspection, quarantine, "
                                             "appraisal or expert_review (a setting)"})
    reason = fields.String(validate=validate.Length(max=2000), metadata={"example": "组织专家评审"})


class CaseResumeIn(Schema):
    reason = fields.String(validate=validate.Length(max=2000), metadata={"example": "专家评审完成"})


class CaseUpperAnswerIn(Schema):
    answer = fields.String(required=True, validate=validate.Length(1, 2000), metadata={"example": "县局批复同意"})


class CaseExplanationIn(Schema):
    explanation = fields.String(required=True, validate=validate.Length(1, 2000),
                                metadata={"example": "县局正在组织会商，已电话催办"})


class CaseFeeIn(Schema):
    amount_cents = fields.Integer(required=True, validate=validate.Range(0, 10**9), metadata={"example": 1500})


class CaseRatingIn(Schema):
    rating = fields.Integer(required=True, validate=validate.Range(1, 5), metadata={"example": 5})
    comment = fields.String(validate=validate.Length(max=1000), metadata={"example": "办事效率高"})


class CaseReconsiderationDecisionIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["upheld", "overturned"]),
                            metadata={"example": "overturned"})
    reason = fields.String(required=True, validate=validate.Length(1, 2000), metadata={"example": "补充说明成立"})


class ReviewIn(Schema):
    receipt_no = fields.String(required=True, validate=validate.Length(1, 64),
                               metadata={"example": "20250124-K7M3Q9XA2B",
                                         "description": "the receipt or return notice number"})
    reason = fields.String(required=True, validate=validate.Length(1, 2000), metadata={"example": "补充了收入证明"})


class PublicReviewIn(IntakeReceiptQueryIn):
    reason = fields.String(required=True, validate=validate.Length(1, 2000),
                           metadata={"example": "家庭收入已变化，附新证明", "description": "the applicant's grounds"})


class ReviewQuery(Schema):
    state = fields.String(validate=validate.OneOf(["pending", "decided"]), metadata={"example": "pending"})
    overdue = fields.Boolean(metadata={"example": False})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class ReviewDecisionIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["upheld", "overturned"]),
                            metadata={"example": "overturned"})
    answer = fields.String(required=True, validate=validate.Length(1, 2000),
                           metadata={"example": "经复核，补充材料成立，予以受理",
                                     "description": "the written answer the applicant reads"})


EX_REVIEW = {"receipt_no": "20250124-K7M3Q9XA2B", "subject": "rejection", "state": "pending",
             "due_date": "2025-02-06", "outcome": None, "answer": None}

CASE = "/cases/<string:case_id>"
EX_CASE = {"id": "3f2a…", "receipt_no": "QS20250124-0001", "state": "in_review", "kind": "promised",
           "due_date": "2025-02-05", "provisional": False}


class CasesRoutes:
    @api("GET", "/cases", response=out.Case(many=True), roles=CASE_READERS, query=CaseQuery, tags=["cases"],
         summary="Cases of the township, newest first (filter by state, overdue, holder; past_target: "
                 "immediate cases open past their target, I5)", example=[EX_CASE])
    def list_cases(self, request, query):
        return self.cases.list_cases(query.get("state"), query.get("overdue"), query.get("holder"), query["limit"],
                                     query.get("past_target"))

    @api("GET", CASE, response=out.CaseDetail, roles=CASE_READERS, tags=["cases"], example=EX_CASE,
         summary="A case with its audit trail (who, when, why), departments' opinions and pauses (C1)")
    def get_case(self, request, case_id):
        return self.cases.get_case(case_id)

    @api("GET", "/cases/by-receipt/<string:receipt_no>", response=out.CaseDetail, roles=CASE_READERS,
         tags=["cases"], example=EX_CASE,
         summary="A case by its receipt number")
    def get_case_by_receipt(self, request, receipt_no):
        return self.cases.find_case(receipt_no)

    @api("POST", CASE + "/review", response=out.Case, roles=DESK, body=CaseReviewIn, tags=["cases"],
         example=EX_CASE,
         summary="Review (一审) by a clerk of the case's window (C4)")
    def review_case(self, request, case_id, body):
        return self.cases.review(case_id, body["opinion"], body.get("note"))

    @api("POST", CASE + "/opinions", response=out.OpinionRecorded, roles=DESK, body=CaseOpinionIn,
         status=201, tags=["cases"],
         example={"case_id": "3f2a…", "missing_departments": ["农业农村办"]},
         summary="A department's opinion on a joint case (并联审批, I5)")
    def record_opinion(self, request, case_id, body):
        return 201, self.cases.record_opinion(case_id, body["department"], body["opinion"], body.get("note"))

    @api("POST", CASE + "/decision", response=out.Case, roles=DECIDERS, body=CaseDecisionIn, tags=["cases"],
         example=EX_CASE,
         summary="Approve or reject (一核) — by someone other than the reviewer (C4); a joint case needs "
                 "every department's opinion (409 names the missing ones)")
    def decide_case(self, request, case_id, body):
        return self.cases.decide(case_id, body["outcome"], body.get("reason"))

    @api("POST", CASE + "/delivery", response=out.Case, roles=DESK, body=CaseNoteIn, tags=["cases"],
         example=EX_CASE,
         summary="Deliver the result (办结); an approved case's fee must be collected first (C8)")
    def deliver_case(self, request, case_id, body):
        return self.cases.deliver(case_id, body.get("note"))

    @api("POST", CASE + "/withdrawal", response=out.Case, roles=DESK, body=CaseReasonIn, tags=["cases"],
         example=EX_CASE,
         summary="The applicant withdraws the application")
    def withdraw_case(self, request, case_id, body):
        return self.cases.withdraw(case_id, body["reason"])

    @api("POST", CASE + "/extension", response=out.Case, roles=DECIDERS, body=CaseExtensionIn, tags=["cases"],
         example=EX_CASE,
         summary="The one extension (延期): reason, approver (default the director), at most the item's days (C3)")
    def extend_case(self, request, case_id, body):
        return self.cases.extend(case_id, body["days"], body["reason"])

    @api("POST", CASE + "/pauses", response=out.CaseWithNotice, roles=DESK, body=CasePauseIn, tags=["cases"],
         example=EX_CASE,
         summary="Start a special procedure (特别程序): the clock stops (C11); returns the written notice")
    def start_pause(self, request, case_id, body):
        return self.cases.start_pause(case_id, body["procedure"], body.get("reason"))

    @api("POST", CASE + "/pauses/end", response=out.CaseWithNotice, roles=DESK, body=CaseResumeIn,
         tags=["cases"], example=EX_CASE,
         summary="End the special procedure: its working days are added to the deadline (C11)")
    def end_pause(self, request, case_id, body):
        return self.cases.end_pause(case_id, body.get("reason"))

    @api("POST", CASE + "/forward", response=out.Case, roles=DESK, body=CaseNoteIn, tags=["cases"], example=EX_CASE,
         summary="Record that an escalated case (上报件) was forwarded to the upper level (I5): only late "
                 "forwarding is overdue; once forwarded its delay counts against nobody here")
    def forward_case(self, request, case_id, body):
        return self.cases.forward(case_id, body.get("note"))

    @api("POST", CASE + "/upper-answer", response=out.Case, roles=DESK, body=CaseUpperAnswerIn,
         tags=["cases"], example=EX_CASE,
         summary="Record the upper level's answer to an escalated case (上报件, I5)")
    def record_upper_answer(self, request, case_id, body):
        return self.cases.record_upper_answer(case_id, body["answer"])

    @api("POST", CASE + "/silence-explanation", response=out.Case, roles=DESK, body=CaseExplanationIn,
         tags=["cases"],
         example=EX_CASE, summary="Explain on record why the upper level has been silent for 15 days (I5)")
    def explain_silence(self, request, case_id, body):
        return self.cases.explain_silence(case_id, body["explanation"])

    @api("POST", CASE + "/fee", response=out.Fee, roles=DESK, body=CaseFeeIn, status=201, tags=["cases"],
         example={"case_id": "3f2a…", "amount_cents": 1500, "fee_receipt_no": "SF20250124A1B2C3D4E5"},
         summary="Collect the fee at the catalogue's standard, with a receipt; any other amount is refused "
                 "(422) and recorded as a fee violation (C8)")
    def collect_fee(self, request, case_id, body):
        return 201, self.cases.collect_fee(case_id, body["amount_cents"])

    @api("POST", CASE + "/rating", response=out.Rating, roles=DESK, body=CaseRatingIn, status=201, tags=["cases"],
         example={"case_id": "3f2a…", "rating": 2, "label": "不满意", "follow_up": True},
         summary="Enter an applicant's rating given on paper, 1–5 after delivery (C9); 1–2 opens a follow-up")
    def rate_case(self, request, case_id, body):
        return 201, self.cases.rate(body["rating"], case_id=case_id, comment=body.get("comment"), channel="paper")

    @api("POST", CASE + "/reconsideration", response=out.Case, roles=DESK, body=CaseReasonIn, tags=["cases"],
         example=EX_CASE,
         summary="The applicant asks for review (复核) of a rejection (C10)")
    def request_reconsideration(self, request, case_id, body):
        return self.cases.request_reconsideration(case_id, body["reason"])

    @api("POST", CASE + "/reconsideration/decision", response=out.Case, roles=DECIDERS,
         body=CaseReconsiderationDecisionIn,
         tags=["cases"], example=EX_CASE,
         summary="Decide the review, by someone who neither reviewed nor decided the rejection (C10)")
    def decide_reconsideration(self, request, case_id, body):
        return self.cases.decide_reconsideration(case_id, body["outcome"], body["reason"])

    # -- review of a rejection or a return (复核, C10) ---------------------------------------
    @api("POST", "/public/townships/<string:code>/receipts/<string:number>/review", response=out.PublicReview,
         public=True, body=PublicReviewIn, status=201, tags=["public", "cases"], errors=(409, 429),
         example={"password": "K7M3Q9XA2B", "reason": "家庭收入已变化，附新证明"},
         summary="The applicant asks for review (复核) of a rejection or a return (C10)",
         description="No login: the receipt (or return notice) number and query password, checked and "
                     "limited exactly as the status query (404 alike for a wrong password or number, 429). "
                     "Decided within 5 working days by someone other than the first decider; the answer "
                     "shows in the receipt query (`review`). 409: not a rejection or return, or asked already.")
    def public_request_review(self, request, code, number, body):
        self.public_township(code)
        self.intake.query_receipt(number, body["password"], client_address(request))
        return 201, self.cases.request_review(body["reason"], receipt_no=number)

    @api("POST", "/reviews", response=out.Review, roles=DESK, body=ReviewIn, status=201, tags=["cases"],
         example={"receipt_no": "20250124-K7M3Q9XA2B", "reason": "申请人到窗口提出复核"},
         summary="A clerk files an applicant's request for review (复核) at the window (C10)")
    def request_review(self, request, body):
        return 201, self.cases.request_review(body["reason"], receipt_no=body["receipt_no"])

    @api("GET", "/reviews", response=out.Review(many=True), roles=CASE_READERS, query=ReviewQuery, tags=["cases"],
         example=[EX_REVIEW], summary="Reviews (复核) of the township, newest first; pending, overdue (C10)")
    def list_reviews(self, request, query):
        return self.cases.list_reviews(query.get("state"), query.get("overdue"), query["limit"])

    @api("GET", "/reviews/<string:review_id>", response=out.Review, roles=CASE_READERS, tags=["cases"],
         example=EX_REVIEW, summary="A review (复核, C10)")
    def get_review(self, request, review_id):
        return self.cases.get_review(review_id)

    @api("POST", "/reviews/<string:review_id>/decision", response=out.Review, roles=DECIDERS, body=ReviewDecisionIn,
         tags=["cases"], example={"outcome": "overturned", "answer": "经复核，补充材料成立"},
         summary="Decide a review (C10): upheld or overturned with the written answer, by someone other than "
                 "the first decider (422 naming person_id); the applicant reads it in the receipt query")
    def decide_review(self, request, review_id, body):
        return self.cases.decide_review(review_id, body["outcome"], body["answer"])
