"""Input schemas of intake (marshmallow), shared by the service (which never trusts its
caller) and the gateway (which documents and validates them before the RPC)."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from services.common.errors import ValidationFailed
from services.common.validate import Schema
from services.contracts import shared

MAX_MATERIALS = 100  # an item lists a handful; 5,000 took seconds to match (issue 7)
KINDS = ("immediate", "promised", "supplement", "returned", "joint", "escalated")
PHONE = validate.Regexp(r"^\+?[0-9-]{6,20}$", error="a phone number (digits, 6–20)")
ID_NO = validate.Regexp(r"^(\d{17}[\dXx]|\d{15})$", error="a resident ID number (18 or 15 characters)")
CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$", error="letters, digits, '.', '_', '-' (1–40)")


class CatalogueMaterialIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 200),
                         metadata={"example": "居民身份证"})
    main = fields.Boolean(required=True, metadata={"description": "主件 (true) or 附件 (false)"})
    note = fields.String(validate=validate.Length(max=500), allow_none=True, load_default=None)


class ItemIn(Schema):
    code = fields.String(required=True, validate=CODE, metadata={"example": "MZ-001"})
    name = fields.String(required=True, validate=validate.Length(1, 200), metadata={"example": "城乡低保申请"})
    legal_basis = fields.String(required=True, validate=validate.Length(1, 2000),
                                metadata={"example": "《社会救助暂行办法》第九条至第十一条"})
    window_id = fields.String(allow_none=True, load_default=None)
    department_id = fields.String(allow_none=True, load_default=None)
    materials = fields.List(fields.Nested(CatalogueMaterialIn), load_default=list,
                            validate=validate.Length(max=MAX_MATERIALS),
                            metadata={"example": [{"name": "居民身份证", "main": True},
                                                  {"name": "户口簿复印件", "main": False}]})
    procedure = fields.String(load_default="", validate=validate.Length(max=5000),
                              metadata={"example": "申请—受理—入户调查—民主评议—公示—审批"})
    default_kind = fields.String(load_default="promised", validate=validate.OneOf(("immediate", "promised")),
                                 metadata={"description": "joint and escalated follow from departments and level"})
    promised_days = fields.Integer(load_default=0, validate=validate.Range(0, 60), metadata={"example": 5})
    fee_cents = fields.Integer(load_default=0, validate=validate.Range(0, 100_000_000), metadata={"example": 0})
    fee_basis = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=1000))
    departments = fields.List(fields.String(validate=validate.Length(1, 32)), load_default=list,
                              metadata={"description": "departments involved (joint items)"})
    tacit_approval = fields.Boolean(load_default=False)
    level = fields.String(load_default="township", validate=validate.OneOf(("township", "county")),
                          metadata={"description": "county: authority at county level or above → escalated"})
    major = fields.Boolean(load_default=False, metadata={"description": "major or difficult: a return needs sign-off"})
    published = fields.Boolean(load_default=True)

    @validates_schema
    def _consistent(self, data, partial=None, **kw):
        if partial:
            return
        names = [m["name"] for m in data.get("materials") or []]
        if len(names) != len(set(names)):
            raise ValidationError("material names must be unique", "materials")
        if len(set(data.get("departments") or [])) != len(data.get("departments") or []):
            raise ValidationError("departments must be unique", "departments")
        if data.get("default_kind") == "promised" and data.get("promised_days", 0) < 1:
            raise ValidationError("a promised item needs at least 1 working day", "promised_days")
        if data.get("default_kind") == "immediate" and data.get("promised_days", 0) != 0:
            raise ValidationError("an immediate item (即办件) is decided the day it is accepted: "
                                  "its promise is 0 days (I5)", "promised_days")
        if data.get("fee_cents", 0) > 0 and not data.get("fee_basis"):
            raise ValidationError("a fee needs its basis (收费依据)", "fee_basis")


class IntakeApplicantIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 100), metadata={"example": "李秀兰"})
    phone = fields.String(required=True, validate=PHONE, metadata={"example": "13812345678"})
    id_no = fields.String(required=True, validate=ID_NO, metadata={"example": "110101199003071234"})


class ApplicationIn(Schema):
    item_code = fields.String(required=True, validate=CODE, metadata={"example": "MZ-002"})
    applicant = fields.Nested(IntakeApplicantIn, required=True)
    materials_brought = fields.List(fields.String(validate=validate.Length(1, 200)), load_default=list,
                                    validate=validate.Length(max=MAX_MATERIALS))
    materials_present = fields.List(fields.String(validate=validate.Length(1, 200)), load_default=list,
                                    validate=validate.Length(max=MAX_MATERIALS),
                                    metadata={"description": "the applicant has them but did not bring them"})
    first_asked_person_id = fields.String(allow_none=True, load_default=None)
    proxy = fields.Boolean(load_default=False)
    agent_person_id = fields.String(allow_none=True, load_default=None)
    agent_name = fields.String(allow_none=True, load_default=None, validate=validate.Length(1, 100))
    mandate_no = fields.String(allow_none=True, load_default=None, validate=validate.Length(1, 60),
                               metadata={"description": "number of the written mandate (代理服务委托书)"})
    collection_id = fields.String(allow_none=True, load_default=None, validate=validate.Length(1, 32),
                                  metadata={"description": "I6: what a registered village agent collected; "
                                                           "the application then carries the agent, the village "
                                                           "and the mandate, and the agent's deadline is settled"})
    issue_notice = fields.Boolean(load_default=True,
                                  metadata={"description": "issue the supplement notice now (C12: else within 5 working days)"})
    return_reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(1, 2000),
                                  metadata={"description": "return at once: clearly against policy (退回件)"})

    @validates_schema
    def _consistent(self, data, **kw):
        if data.get("proxy") and not data.get("collection_id"):
            if not data.get("mandate_no"):
                raise ValidationError("a proxy application records the written mandate", "mandate_no")
            if not (data.get("agent_person_id") or data.get("agent_name")):
                raise ValidationError("a proxy application names its agent", "agent_person_id")
        both = set(data.get("materials_brought") or []) & set(data.get("materials_present") or [])
        if both:
            raise ValidationError(f"both brought and not brought: {', '.join(sorted(both))}", "materials_present")


class VillageAgentIn(Schema):
    person_id = fields.String(required=True, validate=validate.Length(1, 32),
                              metadata={"description": "a person of the township with the village_agent role"})
    village = fields.String(required=True, validate=validate.Length(1, 100), metadata={"example": "柳溪村"})


class AgentCollectionIn(Schema):
    item_code = fields.String(required=True, validate=CODE, metadata={"example": "MZ-002"})
    applicant_name = fields.String(required=True, validate=validate.Length(1, 100), metadata={"example": "李秀兰"})
    mandate_no = fields.String(required=True, validate=validate.Length(1, 60),
                               metadata={"description": "the written mandate (代理服务委托书)",
                                         "example": "LX-DB-2025-003"})
    collected_on = fields.Date(allow_none=True, load_default=None,
                               metadata={"description": "the local day collected; default today, never later"})
    note = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=1000))


class AgentRemovalIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 1000),
                           metadata={"example": "本人辞去代办员职务", "description": "on record (I6)"})


class CollectionWithdrawalIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 1000),
                           metadata={"example": "申请人决定暂不申请", "description": "on record (I6)"})


class AgentRatingIn(Schema):
    rating = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5),
                            metadata={"example": 5, "description": "5 非常满意 … 1 非常不满意 (C9's scale)"})
    comment = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=1000))


class InquiryIn(Schema):
    topic = fields.String(required=True, validate=validate.Length(1, 2000), metadata={"example": "办理低保需要什么材料？"})
    item_code = fields.String(allow_none=True, load_default=None, validate=CODE)
    answer = fields.String(allow_none=True, load_default=None, validate=validate.Length(1, 5000))
    refer_to_window_id = fields.String(allow_none=True, load_default=None)

    @validates_schema
    def _answer_or_referral(self, data, **kw):
        if bool(data.get("answer")) == bool(data.get("refer_to_window_id")):
            raise ValidationError("either an answer or a referral to the responsible window", "answer")


def load(schema_cls, data, partial=False) -> dict:
    """Validate with a schema; a broken field becomes ``ValidationFailed`` naming it."""
    if not isinstance(data, dict):
        raise ValidationFailed("expected an object", {"_schema": ["not an object"]})
    try:
        return shared(schema_cls).load(data, partial=partial)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise ValidationFailed(f"invalid fields: {', '.join(sorted(map(str, messages)))}", messages) from None
