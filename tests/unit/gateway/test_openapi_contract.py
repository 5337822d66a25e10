"""The API contract (issue 10): every operation documents its success body with an output
schema from services/contracts, every status a route can answer is listed, the document
validates, and the schemas mask personal data (DOMAIN P2) unless made for a role that needs it."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from gateway.openapi import build_spec, error_statuses, routes
from gateway.service import GatewayService
from services.contracts import cases, complaints, intake, lending, staff

DOC = build_spec(GatewayService)
OPERATIONS = [(path, method, op) for path, item in DOC["paths"].items() for method, op in item.items()]
ENTRYPOINTS = {name: ep for name, _fn, ep in routes(GatewayService)}


def _inline(node):
    """The schema with every ``$ref`` replaced by its component (none of ours is recursive)."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(DOC["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]])
        return {k: _inline(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v) for v in node]
    return node


def success_schema(op) -> dict | None:
    for code, response in op["responses"].items():
        if code.startswith("2"):
            for media in response.get("content", {}).values():
                if media.get("schema"):
                    return media["schema"]
    return None


def test_the_document_validates_as_openapi_3():
    validate(DOC)
    assert DOC["openapi"].startswith("3.0")


def test_every_operation_documents_its_success_body_with_a_schema():
    """The count the issue asks for: operations with a 2xx schema == operations."""
    with_schema = [(m, p) for p, m, op in OPERATIONS if success_schema(op)]
    without = sorted({(m.upper(), p) for p, m, op in OPERATIONS} - {(m.upper(), p) for m, p in with_schema})
    assert without == []
    assert len(with_schema) == len(OPERATIONS) >= 120
    json_ops = [op for p, m, op in OPERATIONS
                if "application/json" in next(r for c, r in op["responses"].items() if c.startswith("2"))["content"]]
    # a JSON answer is described by a named component (an output schema), never by {} or an ad-hoc dict
    for op in json_ops:
        schema = success_schema(op)
        ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
        assert ref and ref.startswith("#/components/schemas/"), op["operationId"]


@pytest.mark.parametrize("name, expected", [
    # authenticated GET without parameters: the token, the role, a service down, a bug
    ("get_roster", {"401", "403", "500", "503"}),
    # a GET with a query: a bad parameter is 422
    ("leave_list", {"401", "403", "422", "500", "503"}),
    # a GET naming an id in the path: 404 (missing or another township's) and 422 (a bad value)
    ("get_case", {"401", "403", "404", "422", "500", "503"}),
    # a command with a body: unparseable 400, too large 413, conflict 409, invalid 422, and a
    # body naming a missing id is 404
    ("create_person", {"400", "401", "403", "404", "409", "413", "422", "500", "503"}),
    # a command without a body still refuses a large body (413) and a reused Idempotency-Key (422)
    ("attendance_sign_in", {"401", "403", "409", "413", "422", "500", "503"}),
    # public: no 401/403; an unknown township code is 404; the guessing limit 429
    ("public_receipt_status", {"400", "404", "409", "413", "422", "429", "500", "503"}),
    ("public_catalogue", {"404", "422", "500", "503"}),
])
def test_every_status_a_route_can_answer_is_documented(name, expected):
    ep = ENTRYPOINTS[name]
    assert set(error_statuses(ep)) == expected
    op = DOC["paths"][ep.openapi_path][ep.method.lower()]
    assert set(op["responses"]) == expected | {str(ep.status)}


def test_health_documents_its_503_with_the_health_body_not_the_error_one():
    op = DOC["paths"]["/health"]["get"]
    assert op["responses"]["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PlatformHealth"}


def test_text_routes_document_a_string_body():
    op = DOC["paths"]["/scoreboard/{quarter}/csv"]["get"]
    assert op["responses"]["200"]["content"]["text/csv"]["schema"] == {"type": "string"}


# -- P2: personal data does not leak through a schema -----------------------------------------

NOW = dt.datetime(2025, 3, 3, 8, 0, tzinfo=dt.timezone.utc)
PERSON = SimpleNamespace(id="p1", name="王晓燕", badge_no="A01", home_unit=None, window_id=None,
                         department_id=None, roles=["clerk"], active=True, phone="13812345678")


def _validates(schema_name: str, body) -> None:
    errors = list(OAS30Validator(_inline({"$ref": f"#/components/schemas/{schema_name}"})).iter_errors(body))
    assert errors == [], errors[0].message


@pytest.mark.parametrize("full, phone", [(False, "138****5678"), (True, "13812345678")])
def test_a_person_s_phone_is_masked_unless_the_schema_is_made_full(full, phone):
    body = staff.Person(full=full).dump(PERSON)
    assert body["phone"] == phone
    _validates("StaffPerson", body)


def test_nested_resources_are_masked_too():
    created = staff.TownshipCreated().dump({
        "township": SimpleNamespace(id="t", code="qs", name="青山镇", timezone="Asia/Shanghai", settings={}),
        "director": PERSON, "director_token": "x"})
    assert created["director"]["phone"] == "138****5678"
    assert staff.TownshipCreated(full=True).dump({"director": PERSON})["director"]["phone"] == "13812345678"


def _application(**kw):
    base = dict(
        id="a1", item_code="MZ-002", item_version=1, applicant_name="李秀兰", applicant_phone="13812345678",
        applicant_id_no="110101199003071234", materials_brought=["低保申请书"], materials_present=[],
        missing=["居民身份证"], materials_arrived=[], first_asked_person_id=None, handler_person_id="p1",
        window_id="w1", proxy=False, agent_person_id=None, agent_name=None, mandate_no=None,
        agent_id=None, village=None, collected_on=None, agent_due_on=None, agent_late=None, agent_rating=None,
        kind="supplement", target_kind="promised", status="supplement", received_at=NOW,
        received_on=NOW.date(), notice_due_on=None, notice_issued_at=None, accepted_at=None,
        accepted_on=None, deemed_accepted=False, completed_at=None, promised_date=None,
        promised_provisional=False, return_reason=None, return_requested_by=None, signed_off_by=None,
        returned_at=None, receipt_no="QS-1", case_state=None, case_status_code=None,
        case_status_label=None, case_due_date=None, case_due_provisional=False)
    base.update(kw)
    return SimpleNamespace(**base)


@pytest.mark.parametrize("full, phone, id_no", [
    (False, "138****5678", "110***********1234"),
    (True, "13812345678", "110101199003071234"),
])
def test_an_applicant_s_phone_and_id_number_are_masked_for_roles_that_do_not_need_them(full, phone, id_no):
    body = intake.Application(full=full).dump(_application())
    assert body["applicant"] == {"name": "李秀兰", "phone": phone, "id_no": id_no}
    assert body["outstanding"] == ["居民身份证"]
    assert body["case"] == {"state": None, "status_code": None, "status_label": None, "due_date": None,
                            "provisional": False}
    _validates("IntakeApplication", body)


LOAN = SimpleNamespace(
    id="l1", item_id="i1", borrower_name="张三", registered_resident=True, id_type="resident_id_card",
    id_number_masked="110***********1234", phone="13812345678", address="青山镇幸福里3号", purpose="搬家",
    signature="张三", lent_at=NOW, lent_by="g1", due_at=NOW, deposit_cents=0, state="out", returned_at=None,
    received_by=None, condition=None, return_note=None, overdue_at=None)


@pytest.mark.parametrize("full, phone, address", [
    (False, "138****5678", "***"),
    (True, "13812345678", "青山镇幸福里3号"),
])
def test_a_borrower_s_phone_and_address_only_for_those_who_call_borrowers(full, phone, address):
    body = lending.Loan(full=full).dump(LOAN)
    assert (body["phone"], body["address"]) == (phone, address)
    assert body["id_number"] == "110***********1234" and "id_number_masked" not in body
    assert body["overdue"] is False


def test_an_undeclared_key_never_goes_out():
    """A complaint dumped through its contract keeps only the declared keys: a field added to
    the record by mistake (here the complainant's phone at top level) is dropped (P2)."""
    record = {"id": "c1", "complainant_phone": "13812345678", "complainant": None, "content": "…"}
    body = complaints.Complaint().dump(record)
    assert "complainant_phone" not in body and body["complainant"] is None


def test_a_case_s_overdue_flag_is_derived_and_dates_are_iso():
    class Row(SimpleNamespace):
        def __getattr__(self, name):  # a column left null
            return None

    case = Row(overdue_at=NOW, accepted_at=NOW, accepted_on=NOW.date())
    body = cases.Case().dump(case)
    assert body["overdue"] is True
    assert body["accepted_at"] == "2025-03-03T08:00:00+00:00" and body["accepted_on"] == "2025-03-03"


def test_a_page_s_404_is_documented_as_the_html_page_it_is():
    op = DOC["paths"]["/public/townships/{code}/pages/{page}"]["get"]
    assert op["responses"]["404"]["content"] == {"text/html": {"schema": {"type": "string"}}}
