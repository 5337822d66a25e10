"""The OpenAPI 3 document, generated from the routes' own marshmallow schemas (apispec)."""
from __future__ import annotations

import functools
import inspect

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from .api import ApiEntrypoint

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "example": "validation_failed"},
        "message": {"type": "string"},
        "details": {"nullable": True, "description": "field → problems, or other detail"},
    },
}

ERRORS = {
    "400": "unparseable body",
    "401": "no, bad, expired or revoked token",
    "403": "role not allowed",
    "404": "missing, or another township's",
    "409": "state conflict",
    "413": "body too large",
    "422": "valid JSON that breaks a schema or a rule",
    "429": "too many guesses",
    "500": "unexpected (with an error id that is logged)",
    "503": "a service it needs did not answer in time",
}


COMMAND_METHODS = ("POST", "PUT", "PATCH", "DELETE")

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$"},
    "example": "6f1c2a9e-4b7d-4e0a-9a51-0c3f2d8e7b14",
    "description": (
        "Makes the request safe to retry (IETF draft \"The Idempotency-Key HTTP Header Field\"): "
        "the same key with the same request answers the first response again without a second "
        "effect; with another request, 422; while the first is still being processed, 409. "
        "Keys are per township and caller, kept 24 hours; 1-255 printable ASCII characters."
    ),
}


def routes(service_cls):
    for name, member in inspect.getmembers(service_cls, inspect.isfunction):
        for ext in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(ext, ApiEntrypoint):
                yield name, member, ext


def schema_name(schema) -> str:
    """Component names qualified by the route module (``LendingItemIn``), so two areas may
    both have an ``ItemIn`` without apispec renaming one behind our back."""
    from apispec.ext.marshmallow.common import resolve_schema_cls

    cls = resolve_schema_cls(schema)
    area = cls.__module__.rsplit(".", 1)[-1]
    name = cls.__name__
    if name.endswith("Schema"):
        name = name[: -len("Schema")]
    prefix = area.title().replace("_", "")
    return name if name.startswith(prefix) else prefix + name


@functools.lru_cache(maxsize=8)
def build_spec(service_cls) -> dict:
    """Built once per service class (routes do not change at run time)."""
    spec = APISpec(
        title="Township convenience-service centre API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin(schema_name_resolver=schema_name)],
        info={"description": (service_cls.__doc__ or "").strip()},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Error", ERROR_SCHEMA)
    spec.components.parameter("IdempotencyKey", "header", IDEMPOTENCY_KEY)
    paths: dict[str, dict] = {}
    for name, fn, ep in sorted(routes(service_cls), key=lambda r: (r[2].openapi_path, r[2].method)):
        op: dict = {
            "operationId": name,
            "summary": ep.summary or name.replace("_", " "),
            "tags": list(ep.tags) or ["misc"],
            "responses": {},
        }
        doc = inspect.getdoc(fn)
        if ep.description or doc:
            op["description"] = ep.description or doc
        params = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in _path_params(ep.openapi_path)
        ]
        if ep.query_schema is not None:
            params.append({"in": "query", "schema": ep.query_schema})
        command = ep.method in COMMAND_METHODS
        if command:
            params.append("IdempotencyKey")
        if params:
            op["parameters"] = params
        if ep.body_schema is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ep.body_schema}}}
        ok: dict = {"description": "success"}
        if ep.status != 204:
            media: dict = {"schema": _success_schema(ep)}
            if ep.example is not None:
                media["example"] = ep.example
            ok["content"] = {ep.content_type: media}
        op["responses"][str(ep.status)] = ok
        if not ep.public:
            op["security"] = [{"bearer": []}]
        for code in error_statuses(ep):
            op["responses"][code] = {
                "description": ERRORS[code],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        for code, body in ep.responses.items():
            # a schema (JSON), or (content type, schema) for a status answered otherwise
            content_type, schema = body if isinstance(body, tuple) else ("application/json", body)
            op["responses"][str(code)] = {"description": ERRORS.get(str(code), "see the schema"),
                                          "content": {content_type: {"schema": schema}}}
        if ep.roles:
            op["x-roles"] = list(ep.roles)
        paths.setdefault(ep.openapi_path, {})[ep.method.lower()] = op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _success_schema(ep):
    """The body of the route's success answer: its output schema (``response=``), or a plain
    string for the text routes (CSV, metrics). A JSON route without one is a mistake that
    tests/unit/gateway/test_openapi_contract.py catches."""
    if ep.response_schema is not None:
        return ep.response_schema
    if not ep.content_type.startswith("application/json"):
        return {"type": "string"}
    return {}


def error_statuses(ep) -> list[str]:
    """Every error status the route can answer, from what the entrypoint does before the
    route runs and what the services raise (ARCHITECTURE "Errors are explicit")."""
    writes = ep.method in ("POST", "PUT", "PATCH", "DELETE")
    has_path = "{" in ep.openapi_path
    codes = {"500", "503"}  # anything unexpected; a service it needs did not answer in time
    if writes:
        # body too large (checked before parsing); 409: a state conflict (invalid transition,
        # duplicate, item already lent) or the Idempotency-Key still in progress; 422: the key
        # malformed or reused for another body
        codes |= {"413", "409", "422"}
    if ep.body_schema is not None:
        codes |= {"400", "422"}  # unparseable JSON; a schema or rule broken (field named)
    if ep.query_schema is not None or has_path:
        codes.add("422")  # a bad query parameter, or a path value that is no date/quarter/…
    if has_path or ep.body_schema is not None:
        codes.add("404")  # the path or the body names something missing or another township's
    if not ep.public:
        codes |= {"401", "403"}
    codes |= {str(code) for code in ep.errors}
    codes -= {str(code) for code in ep.responses}
    return sorted(codes)


def _path_params(path: str) -> list[str]:
    import re

    return re.findall(r"{([^}]+)}", path)
