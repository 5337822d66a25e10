"""Hostile input → 4xx with a JSON body, never a 500 (issue 7, Must show 6, the table half; the
schemathesis half is tests/e2e/test_api_fuzz.py). The whole system runs as processes, as
`make run` starts it, on PostgreSQL (which refuses NUL in text: the 500 the issue found)."""
from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from tests.support.fullsystem import APPLICANT, full_system

pytestmark = pytest.mark.e2e

CODE = "hostile-town"


@pytest.fixture(scope="module")
def system(broker, postgres, tmp_path_factory):
    with full_system(broker.uri, postgres, tmp_path_factory.mktemp("hostile"), CODE,
                     GATEWAY_READ_TIMEOUT="2") as sys_:
        yield sys_


def nested(depth: int) -> str:
    return '{"complainant": ' + "[" * depth + "]" * depth + ', "content": "x"}'


SURROGATE = '"\\ud800"'  # JSON's escape of a lone surrogate: valid JSON, not valid text
CASES = [
    # (name, who, method, path, raw JSON body, status, field named in details)
    ("nested 1,000 deep on a public route", None, "POST", f"/public/townships/{CODE}/complaints",
     nested(1000), 400, None),
    ("nested 30 deep (over the limit of 20)", "boss", "POST", "/departments",
     '{"name": ' + "[" * 30 + "]" * 30 + "}", 400, None),
    ("lone surrogate in a public complaint", None, "POST", f"/public/townships/{CODE}/complaints",
     '{"complainant": {"name": ' + SURROGATE + ', "phone": "13812345678"}, "content": "x"}', 422,
     "complainant.name"),
    ("lone surrogate in a department name", "boss", "POST", "/departments",
     '{"name": ' + SURROGATE + '}', 422, "name"),
    ("lone surrogate in a material", "clerk", "POST", "/intake/applications",
     json.dumps({"item_code": "MZ-002", "applicant": APPLICANT})[:-1] + ', "materials_brought": [' + SURROGATE + ']}',
     422, "materials_brought.0"),
    ("NUL in a person's name (PostgreSQL)", "boss", "POST", "/people",
     json.dumps({"name": "张\u0000三", "roles": ["clerk"]}), 422, "name"),
    ("NUL in a dictionary key", "boss", "PATCH", "/settings/cases",
     json.dumps({"changes": {"a\u0000": 1}}), 422, "changes"),
    ("empty department reference", "boss", "POST", "/windows",
     json.dumps({"number": 9, "name": "窗口", "department_id": ""}), 404, None),
    ("empty window reference", "boss", "POST", "/people",
     json.dumps({"name": "赵六", "roles": ["clerk"], "window_id": ""}), 404, None),
    ("5,000 materials", "clerk", "POST", "/intake/applications",
     json.dumps({"item_code": "MZ-002", "applicant": APPLICANT, "materials_brought": [f"材料{i}" for i in range(5000)]}),
     422, "materials_brought"),
    ("150 materials (an application lists at most 100)", "clerk", "POST", "/intake/applications",
     json.dumps({"item_code": "MZ-002", "applicant": APPLICANT, "materials_brought": [f"材料{i}" for i in range(150)]}),
     422, "materials_brought"),
    ("not JSON", "boss", "POST", "/departments", "{nope", 400, None),
    ("JSON but not an object", "boss", "POST", "/departments", "[1, 2]", 422, None),
    ("invalid UTF-8", "boss", "POST", "/departments", b'{"name": "\xff\xfe"}', 400, None),
]


@pytest.mark.parametrize("name,who,method,path,body,status,field", CASES, ids=[c[0] for c in CASES])
def test_hostile_bodies_answer_4xx_json_naming_the_field(system, name, who, method, path, body, status, field):
    api = system[who] if who else system["api"]
    started = time.monotonic()
    r = api.call(method, path, raw=body)
    elapsed = time.monotonic() - started
    assert r.status_code == status, r.text
    payload = r.json()
    assert payload["error"] and payload["message"]
    if field:
        assert field in (payload["details"] or {}), payload
    assert elapsed < 2, f"{name} took {elapsed:.2f}s"  # refused before any real work


def test_nul_in_a_path_segment_is_refused_before_reaching_the_database(system):
    r = system["boss"].get("/people/ab%00cd")
    assert r.status_code == 422 and "person_id" in r.json()["details"], r.text


# -- the HTTP layer's own answers (raw sockets: requests would not send these) -----------------

def _send(system, data: bytes, read_timeout: float = 10) -> tuple[int, dict, bytes, float]:
    port = system["procs"]["gateway"].port
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as s:
        try:
            s.sendall(data)
        except OSError:  # the server answered and closed while we were still sending
            pass
        chunks = []
        try:
            while True:
                part = s.recv(65536)
                if not part:
                    break
                chunks.append(part)
                if _complete(b"".join(chunks)):
                    break
        except (ConnectionResetError, socket.timeout):
            pass
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body, time.monotonic() - started


def _complete(raw: bytes) -> bool:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def _json(body: bytes) -> dict:
    payload = json.loads(body)
    assert payload["error"] and "message" in payload
    return payload


def test_body_shorter_than_its_content_length_is_answered_within_the_read_timeout(system):
    status, _, body, elapsed = _send(system, (
        b"POST /public/townships/" + CODE.encode() + b"/complaints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{\"name\": "))
    assert status == 408 and _json(body)["error"] == "request_timeout"
    assert elapsed < 5, elapsed  # GATEWAY_READ_TIMEOUT=2 here (default 5)


def test_chunked_body_over_the_limit_is_413(system):
    chunk = b"x" * 65536
    request = (b"POST /public/townships/" + CODE.encode() + b"/complaints HTTP/1.1\r\nHost: x\r\n"
               b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20 * 16)) + b"0\r\n\r\n"  # 20 MB
    status, _, payload, _ = _send(system, request + body)
    assert status == 413 and _json(payload)["error"] == "payload_too_large"


def test_small_chunked_body_is_read(system):
    token = system["boss"].token
    body = json.dumps({"name": "综治办"}).encode()
    request = (b"POST /departments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Authorization: Bearer " + token.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
               + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    status, _, payload, _ = _send(system, request)
    assert status == 201, payload


HTTP_LAYER = [
    ("request line too long", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("header line too long", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
    ("headers too large", b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-H%d: %s\r\n" % (i, b"c" * 4000) for i in range(20)) + b"\r\n", 431),
    ("too many headers", b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-N%d: 1\r\n" % i for i in range(150)) + b"\r\n", 431),
    ("negative Content-Length", b"POST /departments HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
    ("Content-Length and chunked together", b"POST /departments HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n", 400),
    ("malformed request line", b"GARBAGE\r\n\r\n", 400),
    ("unsupported HTTP version", b"GET /health HTTP/3.7\r\nHost: x\r\n\r\n", 505),
    ("body over the limit (Content-Length)", b"POST /public/townships/" + CODE.encode() + b"/complaints HTTP/1.1\r\nHost: x\r\n"
     b"Content-Length: 99999999\r\n\r\n", 413),
]


@pytest.mark.parametrize("name,request_bytes,status", HTTP_LAYER, ids=[c[0] for c in HTTP_LAYER])
def test_the_http_layers_own_errors_are_json(system, name, request_bytes, status):
    got, headers, body, _ = _send(system, request_bytes)
    assert got == status, body
    assert headers.get("content-type", "").startswith("application/json")
    _json(body)


def test_unknown_path_and_wrong_method_are_json_and_405_says_allow(system):
    base = system["api"].base
    r = requests.get(base + "/no/such/path", timeout=10)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = requests.delete(base + "/departments", timeout=10)
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
    assert {m.strip() for m in r.headers["Allow"].split(",")} >= {"GET", "POST"}
