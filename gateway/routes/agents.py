"""Gateway routes of village agents (村级代办员, DOMAIN I6), a mixin of gateway.service.GatewayService:
the register (and removal from it), what agents collected (and withdrawals) in the villages and its 3-working-day deadline (the
overdue list), the applicant's rating of the agent and the agents' monthly scoreboard. The
rules are in services/intake/agents.py."""
from __future__ import annotations

from urllib.parse import quote

from marshmallow import fields, validate
from werkzeug.wrappers import Response

from services.common.tenancy import AGENT_WATCH, AGENT_WITHDRAWERS, AGENTS, DESK, LEADERS, STAFF
from services.common.validate import Schema
from services.contracts import intake as out
from services.contracts import intake_input

from ..api import api, client_address
from .intake import IntakeReceiptQueryIn

MONTH = validate.Regexp(r"^\d{4}-\d{2}$", error="a month as YYYY-MM")


class AgentIn(intake_input.VillageAgentIn):
    """A village agent to register (I6)."""


class CollectionIn(intake_input.AgentCollectionIn):
    """What an agent collected in the village (I6)."""


class AgentRatingIn(intake_input.AgentRatingIn):
    """A rating of the agent, entered by a clerk from paper (I6, C9's scale)."""


class PublicAgentRatingIn(IntakeReceiptQueryIn, intake_input.AgentRatingIn):
    """The receipt's password and the rating (I6, C9's scale)."""


class AgentRemovalIn(intake_input.AgentRemovalIn):
    """Why the agent is removed from the register (I6, on record)."""


class CollectionWithdrawalIn(intake_input.CollectionWithdrawalIn):
    """Why a collection not yet received is withdrawn (I6, on record)."""


class CollectionQuery(Schema):
    status = fields.String(validate=validate.OneOf(("collected", "submitted", "withdrawn")))


class MonthQuery(Schema):
    month = fields.String(validate=MONTH, metadata={"example": "2025-03"})


class AgentRoutes:
    @api("POST", "/intake/agents", response=out.VillageAgent, roles=LEADERS, body=AgentIn, status=201,
         tags=["agents"], example={"person_id": "<person with the village_agent role>", "village": "柳溪村"},
         summary="Register a village agent (村级代办员) and their village (I6); again to change the village")
    def register_agent(self, request, body):
        return 201, self.intake.register_agent(body)

    @api("POST", "/intake/agents/<string:agent_id>/removal", response=out.AgentRemoval, roles=LEADERS,
         body=AgentRemovalIn, tags=["agents"], example={"reason": "本人辞去代办员职务"},
         summary="Remove a village agent from the register (I6): no new collections; theirs still out stay "
                 "listed and tracked",
         description="The reason is on record. 409 when already removed; registering the person again "
                     "restores them.")
    def remove_agent(self, request, agent_id, body):
        return self.intake.remove_agent(agent_id, body)

    @api("GET", "/intake/agents", response=out.VillageAgent(many=True), roles=STAFF, tags=["agents"],
         summary="The township's village agents (I6)")
    def list_agents(self, request):
        return self.intake.list_agents()

    @api("POST", "/intake/agent-collections", response=out.AgentCollection, roles=AGENTS, body=CollectionIn,
         status=201, tags=["agents"],
         example={"item_code": "MZ-002", "applicant_name": "李秀兰", "mandate_no": "LX-DB-2025-003"},
         summary="An agent registers what they collected in the village; due at the centre in 3 working "
                 "days, never more than a week (I6)")
    def record_collection(self, request, body):
        return 201, self.intake.record_collection(body)

    @api("GET", "/intake/agent-collections", response=out.AgentCollection(many=True), roles=AGENT_WATCH,
         query=CollectionQuery, tags=["agents"],
         summary="Collections (an agent sees their own), soonest deadline first (I6)")
    def list_collections(self, request, query):
        return self.intake.list_collections(query.get("status"))

    @api("GET", "/intake/agent-collections/overdue", response=out.AgentCollection(many=True), roles=AGENT_WATCH,
         tags=["agents"], summary="Collections not brought to the centre by their deadline (I6)")
    def overdue_collections(self, request):
        return self.intake.list_collections(None, True)

    @api("POST", "/intake/agent-collections/<string:collection_id>/withdrawal", response=out.AgentCollection,
         roles=AGENT_WITHDRAWERS, body=CollectionWithdrawalIn, tags=["agents"],
         example={"reason": "申请人决定暂不申请"},
         summary="Withdraw a collection not yet received at the centre, with the reason (I6)",
         description="An agent withdraws only their own (another's answers 404); the desk any. 409 once "
                     "it was received at the centre or withdrawn.")
    def withdraw_collection(self, request, collection_id, body):
        return self.intake.withdraw_collection(collection_id, body)

    @api("POST", "/intake/applications/<string:application_id>/agent-rating", response=out.AgentRating,
         roles=DESK, body=AgentRatingIn, status=201, tags=["agents"], example={"rating": 4},
         summary="Enter the applicant's rating of the agent given on paper, 1–5 (I6, C9's scale)")
    def rate_agent(self, request, application_id, body):
        return 201, self.intake.rate_agent(body["rating"], body.get("comment"), application_id=application_id)

    @api("POST", "/public/townships/<string:code>/receipts/<string:number>/agent-rating",
         response=out.AgentRating, public=True, body=PublicAgentRatingIn, status=201, tags=["public", "agents"],
         errors=(409, 429), example={"password": "K7M3Q9XA2B", "rating": 5, "comment": "代办员跑腿，省了两趟"},
         summary="The applicant rates the village agent who brought the application, 1–5 (I6)",
         description="No login: receipt number and query password, checked (and limited) exactly as the "
                     "status query. Once per application; 409 when it was not brought by an agent.")
    def public_rate_agent(self, request, code, number, body):
        self.public_township(code)
        self.intake.query_receipt(number, body["password"], client_address(request))
        return 201, self.intake.rate_agent(body["rating"], body.get("comment"), receipt_no=number)

    @api("GET", "/intake/agents/scoreboard", response=out.AgentScoreboard, roles=STAFF, query=MonthQuery,
         tags=["agents"], summary="The agents' scoreboard for a month (default this month): on-time "
                                  "submissions, overdue, the applicants' ratings (I6)")
    def agent_scoreboard(self, request, query):
        return self.intake.agent_scoreboard(query.get("month"))

    @api("GET", "/intake/agents/scoreboard/csv", roles=STAFF, query=MonthQuery, tags=["agents"],
         content_type="text/csv", summary="The agents' scoreboard as CSV (UTF-8 with BOM) (I6)")
    def agent_scoreboard_csv(self, request, query):
        month = query.get("month") or "current"
        text = self.intake.agent_scoreboard_csv(query.get("month"))
        name = f"代办员考评_{month}.csv"
        return Response(text.encode("utf-8"), status=200, mimetype="text/csv",
                        headers={"Content-Type": "text/csv; charset=utf-8",
                                 "Content-Disposition":
                                 f"attachment; filename=\"agents-{month}.csv\"; filename*=UTF-8''{quote(name)}"})
