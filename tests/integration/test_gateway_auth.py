"""Gateway authentication, roles, tenancy, errors and OpenAPI (issue 2), through real HTTP
against a running gateway and staff service on the real broker and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from tests.support.system import TEST_SECRET, Township, gateway_api, operator_token, running_services

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def system(broker, module_database):
    with running_services(broker.uri, module_database, ["staff", "gateway"]) as containers:
        api = gateway_api(containers["gateway"])
        op = api.as_(operator_token(broker.uri))
        a, b = Township(api, op, "auth-a"), Township(api, op, "auth-b")
        yield {"api": api, "op": op, "a": a.record, "b": b.record, "amqp": broker.uri, "towns": {"a": a, "b": b}}


def director(system, key):
    return system["api"].as_(system[key]["director_token"])


def test_no_token_bad_token_expired_token_are_401(system):
    api = system["api"]
    r = api.get("/windows")
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    assert api.get("/windows", token="not-a-jwt").status_code == 401
    forged = jwt.encode({"jti": "x", "aid": "x", "ver": 1, "roles": ["director"], "tid": system["a"]["township"]["id"],
                         "iat": 0, "exp": 2**31}, "another-key-" + "y" * 40, algorithm="HS256")
    assert api.get("/windows", token=forged).status_code == 401
    now = datetime.now(timezone.utc)
    expired = jwt.encode({"jti": "x", "aid": "x", "ver": 1, "roles": ["director"], "tid": system["a"]["township"]["id"], "sub": "",
                          "iat": int((now - timedelta(days=2)).timestamp()),
                          "exp": int((now - timedelta(seconds=1)).timestamp())}, TEST_SECRET, algorithm="HS256")
    r = api.get("/windows", token=expired)
    assert r.status_code == 401 and "expired" in r.json()["message"]


def test_a_revoked_api_key_is_401_at_once(system):
    boss = director(system, "a")
    issued = boss.post("/tokens", {"name": "大厅显示屏", "roles": ["guard"], "days": 5})
    assert issued.status_code == 201, issued.text
    screen = system["api"].as_(issued.json()["token"])
    assert screen.get("/me").json()["roles"] == ["guard"]
    assert [k["name"] for k in boss.get("/tokens").json()] == ["大厅显示屏"]
    r = boss.delete(f"/tokens/{issued.json()['id']}")
    assert r.status_code == 200 and r.json()["revoked_at"]
    r = screen.get("/windows")
    assert r.status_code == 401 and "no longer holds" in r.json()["message"]


def test_township_a_gets_404_on_anything_of_township_b(system):
    a, b = director(system, "a"), director(system, "b")
    person_b = b.post("/people", {"name": "李强", "roles": ["clerk"]}).json()
    window_b = b.post("/windows", {"number": 1, "name": "民政"}).json()
    missing = a.get("/people/" + "0" * 32)
    r = a.get(f"/people/{person_b['id']}")
    assert r.status_code == 404 and missing.status_code == 404
    assert r.json()["error"] == missing.json()["error"] == "not_found"
    assert a.patch(f"/people/{person_b['id']}", {"name": "x"}).status_code == 404
    assert a.post(f"/people/{person_b['id']}/account", {"username": "li.qiang"}).status_code == 404
    r = a.put(f"/windows/{window_b['id']}/ab-pair", {"a_person_id": person_b["id"], "b_person_id": "z"})
    assert r.status_code == 404
    assert all(p["id"] != person_b["id"] for p in a.get("/people").json())


def test_a_clerk_cannot_call_a_directors_endpoint(system):
    boss = director(system, "a")
    person = boss.post("/people", {"name": "赵丽", "roles": ["clerk"]}).json()
    clerk = system["towns"]["a"].sign_in_as(person["id"])
    r = clerk.post("/windows", {"number": 9, "name": "x"})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert clerk.post("/townships", {"code": "zz", "name": "z", "director": {"name": "d"}}).status_code == 403


def test_bad_input_gets_a_clear_json_error(system):
    boss = director(system, "a")
    r = boss.post("/windows", raw="{not json")
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    r = boss.post("/windows", {"number": "one"})
    assert r.status_code == 422
    assert set(r.json()["details"]) == {"number", "name"}
    r = boss.post("/people", {"name": "x", "roles": ["pope"]})
    assert r.status_code == 422 and "roles" in r.json()["details"]
    r = boss.post("/windows", raw="[" + "1," * 300000 + "1]")
    assert r.status_code == 413
    r = boss.get("/no/such/route")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    boss.post("/windows", {"number": 7, "name": "农机"})
    r = boss.post("/windows", {"number": 7, "name": "again"})
    assert r.status_code == 409 and r.json()["error"] == "conflict"


def test_openapi_document_validates(system):
    from openapi_spec_validator import validate

    doc = system["api"].get("/openapi.json").json()
    validate(doc)
    assert doc["openapi"].startswith("3.")
    assert "/townships" in doc["paths"] and "bearer" in doc["components"]["securitySchemes"]
    assert doc["paths"]["/windows"]["post"]["responses"]["422"]


def test_calendar_override_changes_the_answer_without_restart(system):
    boss = director(system, "a")
    assert boss.get("/calendar/2026-03-02").json() == {"day": "2026-03-02", "working": True, "provisional": False}
    r = boss.put("/calendar", {"days": [{"day": "2026-03-02", "working": False, "note": "镇庆"}]})
    assert r.status_code == 200, r.text
    assert boss.get("/calendar/2026-03-02").json()["working"] is False
    # another township is not affected
    assert director(system, "b").get("/calendar/2026-03-02").json()["working"] is True
    assert boss.get("/calendar/2027-01-04").json()["provisional"] is True
    op = system["op"]
    r = op.put("/calendar/national", {"days": [{"day": "2027-01-01", "working": False}], "loaded_year": 2027})
    assert r.status_code == 200
    assert boss.get("/calendar/2027-01-04").json() == {"day": "2027-01-04", "working": True, "provisional": False}
    assert boss.get("/calendar/2027-01-01").json()["working"] is False
