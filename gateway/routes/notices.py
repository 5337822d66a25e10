"""Gateway routes of the notices area (a mixin of gateway.service.GatewayService), DOMAIN N1:
each person's inbox (unread first, paged), read and acknowledged on record, and the director's
view of notices still waiting for an answer."""
from __future__ import annotations

from marshmallow import fields, validate

from services.common.tenancy import LEADERS, STAFF
from services.common.validate import Schema
from services.contracts import notices as out

from ..api import api

NOTICE = "/me/notices/<string:notice_id>"
EX_NOTICE = {"id": "7c1e…", "rule": "C5", "source_event": "cases.case_reminder", "subject_type": "case",
             "title": "催办：QS20250124-0001 将于 2025-02-05 到期", "needs_ack": True, "read_at": None,
             "acked_at": None, "ack_due_at": "2025-02-05T16:00:00+00:00", "overdue": False}


class InboxQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    unread = fields.Boolean(load_default=False, metadata={"description": "only notices not read yet"})


class AckIn(Schema):
    note = fields.String(validate=validate.Length(max=500), metadata={"example": "已电话催收，明早归还"})


class PendingQuery(Schema):
    overdue = fields.Boolean(load_default=False,
                             metadata={"description": "only those past their acknowledgement period (N1)"})


class NoticesRoutes:
    @api("GET", "/me/notices", response=out.NoticePage, roles=STAFF, query=InboxQuery, tags=["notices"],
         summary="My notices (N1): unread first, newest first, paged", example={"items": [EX_NOTICE], "page": 1,
                                                                              "per_page": 20, "total": 1, "unread": 1})
    def list_my_notices(self, request, query):
        return self.notices.my_notices(query["page"], query["per_page"], query["unread"])

    @api("POST", NOTICE + "/read", response=out.Notice, roles=STAFF, tags=["notices"], example=EX_NOTICE,
         summary="Mark one of my notices read")
    def read_my_notice(self, request, notice_id):
        return self.notices.mark_read(notice_id)

    @api("POST", NOTICE + "/ack", response=out.Notice, roles=STAFF, body=AckIn, tags=["notices"], example=EX_NOTICE,
         summary="Acknowledge one of my notices that needs an answer (N1; 409 if it needs none)")
    def ack_my_notice(self, request, notice_id, body):
        return self.notices.acknowledge(notice_id, body.get("note"))

    @api("GET", "/notices/pending", response=out.PendingNotice(many=True), roles=LEADERS, query=PendingQuery,
         tags=["notices"], summary="Notices still waiting for an answer, oldest due first, with their readers "
                                   "and outside deliveries (N1: the director's view)")
    def list_pending_notices(self, request, query):
        return self.notices.pending(query["overdue"])
