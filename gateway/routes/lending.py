"""Gateway routes of the lending area (a mixin of gateway.service.GatewayService): items
(L1), loans and returns (L2, L3), reminders (L4), shift handovers (L5) and the register as a
CSV file (L6). Guards and the security manager lend and take back; the director manages items."""
from __future__ import annotations

from urllib.parse import quote

from marshmallow import fields, validate
from werkzeug.wrappers import Response

from services.common.tenancy import GATE, GATE_VIEWERS, LEADERS, STAFF
from services.common.validate import Schema
from services.contracts import lending as out

from ..api import api

KINDS = ["cart", "umbrella", "reading_glasses", "wheelchair", "first_aid_kit", "other"]


class ItemIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={"example": "cart"})
    label = fields.String(required=True, validate=validate.Length(1, 60), metadata={"example": "便民服务车1号"})
    spec = fields.String(validate=validate.Length(1, 60), metadata={"example": "+2.0D"})
    eligibility = fields.String(validate=validate.OneOf(["registered_resident", "anyone"]))
    deposit_cents = fields.Integer(validate=validate.Range(0, 10_000_000))
    loan_days = fields.Integer(validate=validate.Range(0, 90), metadata={"description": "0: same day, until closing time"})
    usage_notes = fields.String(validate=validate.Length(max=500))
    max_load_kg = fields.Integer(validate=validate.Range(1, 1000))
    replacement_value_cents = fields.Integer(required=True, validate=validate.Range(0, 100_000_000),
                                             metadata={"example": 30000})


class ItemPatch(Schema):
    spec = fields.String(validate=validate.Length(1, 60))
    eligibility = fields.String(validate=validate.OneOf(["registered_resident", "anyone"]))
    deposit_cents = fields.Integer(validate=validate.Range(0, 10_000_000))
    loan_days = fields.Integer(validate=validate.Range(0, 90))
    usage_notes = fields.String(validate=validate.Length(max=500))
    max_load_kg = fields.Integer(validate=validate.Range(1, 1000))
    replacement_value_cents = fields.Integer(validate=validate.Range(0, 100_000_000))
    state = fields.String(validate=validate.OneOf(["in_stock", "retired"]))


class ItemQuery(Schema):
    kind = fields.String(validate=validate.OneOf(KINDS))
    state = fields.String(validate=validate.OneOf(["in_stock", "lent", "lost", "retired"]))


class LoanIn(Schema):
    borrower_name = fields.String(required=True, validate=validate.Length(1, 60), metadata={"example": "张三"})
    registered_resident = fields.Boolean(load_default=False,
                                         metadata={"description": "the guard checked the household registration"})
    id_type = fields.String(required=True, validate=validate.OneOf(
        ["resident_id_card", "household_register", "residence_permit", "passport", "other"]))
    id_number = fields.String(required=True, validate=validate.Length(5, 30),
                              metadata={"description": "shown by the borrower; only a masked form is stored"})
    phone = fields.String(required=True, validate=validate.Regexp(r"^\+?[0-9-]{6,20}$"))
    address = fields.String(required=True, validate=validate.Length(1, 200))
    purpose = fields.String(required=True, validate=validate.Length(1, 200), metadata={"example": "搬运化肥"})
    signature = fields.String(required=True, validate=validate.Length(1, 200),
                              metadata={"description": "the signed name or a reference to the signature image"})
    conditions_acknowledged = fields.Boolean(load_default=False, metadata={
        "description": "the borrower saw and acknowledged the item's usage conditions (L1; required when it has any)"})


class ReturnIn(Schema):
    condition = fields.String(required=True, validate=validate.OneOf(["good", "worn", "damaged", "lost"]))
    cause = fields.String(validate=validate.OneOf(["borrower", "wear", "other"]),
                          metadata={"description": "for damage or loss: the borrower's (charged at the original "
                                                   "price), ordinary wear or other (not charged) (L3)"})
    note = fields.String(validate=validate.Length(max=1000))


class LoanQuery(Schema):
    state = fields.String(validate=validate.OneOf(["out", "returned", "overdue"]))


class TaskQuery(Schema):
    state = fields.String(validate=validate.OneOf(["open", "escalated", "done"]))


class TaskDoneIn(Schema):
    note = fields.String(required=True, validate=validate.Length(1, 1000), metadata={"example": "已电话联系，明早归还"})


class LentEntry(Schema):
    item_id = fields.String(required=True)
    borrower_name = fields.String(required=True)


class HandoverIn(Schema):
    to_person_id = fields.String(required=True)
    in_stock = fields.List(fields.String(), required=True)
    lent = fields.List(fields.Nested(LentEntry), required=True)
    note = fields.String(validate=validate.Length(max=1000))


class RegisterQuery(Schema):
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")
    kind = fields.String(validate=validate.OneOf(KINDS))


class LendingRoutes:
    # -- items (L1) --------------------------------------------------------------------
    @api("POST", "/lending/items", response=out.Item, roles=LEADERS, body=ItemIn, status=201, tags=["lending"],
         summary="Add an item with its lending rules (L1)")
    def create_lending_item(self, request, body):
        return 201, self.lending.create_item(**body)

    @api("PATCH", "/lending/items/<string:item_id>", response=out.Item, roles=LEADERS, body=ItemPatch,
         tags=["lending"])
    def update_lending_item(self, request, item_id, body):
        return self.lending.update_item(item_id, **body)

    @api("GET", "/lending/items", response=out.Item(many=True), roles=STAFF, query=ItemQuery, tags=["lending"])
    def list_lending_items(self, request, query):
        return self.lending.list_items(**query)

    # -- loans (L2, L3) --------------------------------------------------------------------
    @api("POST", "/lending/items/<string:item_id>/loans", response=out.Loan, roles=GATE, body=LoanIn, status=201,
         tags=["lending"], summary="Lend an item (L2); 409 when it is already out")
    def lend_item(self, request, item_id, body):
        return 201, self.lending.lend(item_id, **body)

    @api("POST", "/lending/loans/<string:loan_id>/return", response=out.Returned, roles=GATE, body=ReturnIn,
         tags=["lending"],
         summary="Take an item back (L3); damage or loss creates a compensation record")
    def return_item(self, request, loan_id, body):
        return self.lending.take_back(loan_id, body["condition"], body.get("note"), body.get("cause"))

    @api("GET", "/lending/loans", response=out.Loan(many=True), roles=GATE_VIEWERS, query=LoanQuery, tags=["lending"])
    def list_lending_loans(self, request, query):
        return self.lending.list_loans(**query)

    @api("GET", "/lending/loans/<string:loan_id>", response=out.LoanDetail, roles=GATE_VIEWERS, tags=["lending"])
    def get_lending_loan(self, request, loan_id):
        return self.lending.get_loan(loan_id)

    # -- reminders (L4) --------------------------------------------------------------------------
    @api("GET", "/lending/reminders", response=out.ReminderTask(many=True), roles=GATE_VIEWERS, query=TaskQuery,
         tags=["lending"],
         summary="Phone reminders (催收) of late loans (L4)")
    def list_lending_reminders(self, request, query):
        return self.lending.list_reminders(**query)

    @api("POST", "/lending/reminders/<string:task_id>/done", response=out.ReminderTask, roles=GATE,
         body=TaskDoneIn, tags=["lending"])
    def complete_lending_reminder(self, request, task_id, body):
        return self.lending.complete_reminder(task_id, body["note"])

    # -- handover (L5) ---------------------------------------------------------------------------
    @api("GET", "/lending/ledger", response=out.LedgerState, roles=GATE_VIEWERS, tags=["lending"],
         summary="In stock and lent to whom, by the ledger (what a handover must state)")
    def lending_ledger(self, request):
        return self.lending.ledger_state()

    @api("POST", "/lending/handovers", response=out.Handover, roles=GATE, body=HandoverIn, status=201,
         tags=["lending"],
         summary="Shift handover (L5); refused (422, differences named) unless it reconciles")
    def record_lending_handover(self, request, body):
        return 201, self.lending.record_handover(**body)

    @api("GET", "/lending/handovers", response=out.Handover(many=True), roles=GATE_VIEWERS, tags=["lending"])
    def list_lending_handovers(self, request):
        return self.lending.list_handovers()

    # -- register (L6) ----------------------------------------------------------------------------
    @api("GET", "/lending/register.csv", roles=GATE_VIEWERS, query=RegisterQuery, tags=["lending"],
         content_type="text/csv", summary="《便民服务车登记表》 as CSV (UTF-8 with BOM) (L6)")
    def export_lending_register(self, request, query):
        text = self.lending.export_register(query["start"].isoformat(), query["end"].isoformat(),
                                            query.get("kind"))
        name = f"便民服务车登记表_{query['start']:%Y%m%d}-{query['end']:%Y%m%d}.csv"
        return Response(
            text.encode("utf-8"), status=200, mimetype="text/csv",
            headers={"Content-Disposition":
                     f"attachment; filename=\"register.csv\"; filename*=UTF-8''{quote(name)}"},
        )
