"""The gateway's one HTTP entrypoint: ``api(method, path, …)``.

Before a worker runs, it
1. refuses a body over ``GATEWAY_MAX_BODY`` bytes (413),
2. authenticates the bearer token unless the route is public (401), refusing revoked tokens,
3. checks the caller's roles against the route's (403),
4. parses JSON (400) and validates it with the route's marshmallow schema (422, fields named),
and puts the caller (township, person, roles) into the nameko call context, which every RPC
the worker makes carries to the services. Errors become ``{"error", "message", "details"}``
with the status of their class; anything unexpected is a 500 with an error id that is logged,
never a stack trace. Routes carry their schemas, so the OpenAPI document is generated from
them (gateway/openapi.py).
"""
from __future__ import annotations

import json
import logging
import os
import re
import uuid
from datetime import date, datetime

from marshmallow import ValidationError
from nameko.exceptions import RemoteError, UnknownService
from nameko.extensions import DependencyProvider
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from services.common import green, idempotency
from services.common.errors import (
    BadRequest, DomainError, Forbidden, PayloadTooLarge, Unauthorized, Unavailable, ValidationFailed,
)

from . import auth

log = logging.getLogger("gateway")

MAX_BODY = int(os.environ.get("GATEWAY_MAX_BODY", str(256 * 1024)))
REQUEST_TIMEOUT = float(os.environ.get("GATEWAY_TIMEOUT", "30"))


def _default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_response(payload, status: int = 200, headers=None) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, default=_default), status=status,
        mimetype="application/json", headers=headers,
    )


def error_response(status: int, code: str, message: str, details=None) -> Response:
    return json_response({"error": code, "message": message, "details": details}, status)


class JsonWsgiApp(WsgiApp):
    """Unknown paths and wrong methods answer JSON too."""

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.code, "http_error")
            response = error_response(exc.code, code, exc.description or exc.name)
        return response(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)


class Revocations(DependencyProvider):
    """Revoked token ids, loaded from staff at start and kept current by its events."""

    def setup(self):
        self.revoked: set[str] = set()
        self.loaded = False
        self._gt = None

    def start(self):
        self._gt = self.container.spawn_managed_thread(self._load)

    def _load(self):
        from nameko.standalone.rpc import ServiceRpcProxy

        delay = 0.5
        while not self.loaded:
            try:
                with ServiceRpcProxy("staff", {"AMQP_URI": self.container.config["AMQP_URI"]}, timeout=5) as staff:
                    self.revoked.update(staff.revoked_tokens())
                self.loaded = True
                log.info("revocation list loaded (%d revoked)", len(self.revoked))
            except Exception as exc:
                log.warning("revocation list not loaded yet: %s", type(exc).__name__)
                green.sleep(delay)
                delay = min(delay * 2, 5)

    def stop(self):
        if self._gt is not None:
            self._gt.kill()

    def get_dependency(self, worker_ctx):
        return self.revoked


class CallContext(DependencyProvider):
    """The worker's call context, so a public route can set the township it resolved."""

    def get_dependency(self, worker_ctx):
        return worker_ctx.data


def _trusted_proxies() -> list:
    import ipaddress

    nets = []
    for part in os.environ.get("GATEWAY_TRUSTED_PROXIES", "").split(","):
        if part.strip():
            nets.append(ipaddress.ip_network(part.strip(), strict=False))
    return nets


TRUSTED_PROXIES = _trusted_proxies()


def client_address(request) -> str:
    """The client's address. Behind reverse proxies listed in ``GATEWAY_TRUSTED_PROXIES``
    (addresses or networks, comma-separated), the right-most ``X-Forwarded-For`` entry that is
    not itself a trusted proxy; otherwise the peer address (a client cannot forge it)."""
    import ipaddress

    peer = request.remote_addr or ""

    def trusted(addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        return any(ip in net for net in TRUSTED_PROXIES)

    if not TRUSTED_PROXIES or not trusted(peer):
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not trusted(hop):
            return hop
    return peer


def _openapi_path(url: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", r"{\1}", url)


class ApiEntrypoint(HttpRequestHandler):
    server = JsonWebServer()

    def __init__(self, method, url, roles=None, public=False, body=None, query=None,
                 response=None, summary="", description="", tags=(), status=200, example=None,
                 content_type="application/json", errors=(), **kwargs):
        super().__init__(method, url, **kwargs)
        self.errors = tuple(errors)  # further error statuses to document (e.g. 429)
        self.roles = tuple(roles or ())
        self.public = public
        self.body_schema = body
        self.query_schema = query
        self.response_schema = response
        self.summary = summary
        self.description = description
        self.tags = tuple(tags)
        self.status = status
        self.example = example
        self.content_type = content_type

    @property
    def openapi_path(self) -> str:
        return _openapi_path(self.url)

    # -- request -----------------------------------------------------------
    def _revocations(self):
        for dep in self.container.dependencies:
            if isinstance(dep, Revocations):
                return dep
        return None

    def authenticate(self, request) -> dict:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            raise Unauthorized("a bearer token is required (Authorization: Bearer …)")
        from services.common.clock import container_clock

        claims = auth.verify(header[7:].strip(), self.container.config["JWT_SECRET"],
                             now=container_clock(self.container).now())
        revocations = self._revocations()
        if revocations is not None:
            if not revocations.loaded:
                raise Unavailable("tokens cannot be checked yet (staff unreachable); try again shortly")
            if claims["jti"] in revocations.revoked:
                raise Unauthorized("token revoked")
        context = auth.context_from_claims(claims)
        if self.roles and not any(r in context["roles"] for r in self.roles):
            raise Forbidden(f"this endpoint needs one of the roles: {', '.join(self.roles)}")
        return context

    def load_body(self, request):
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise PayloadTooLarge(f"request body over {MAX_BODY} bytes")
        raw = request.get_data(cache=True)
        if len(raw) > MAX_BODY:
            raise PayloadTooLarge(f"request body over {MAX_BODY} bytes")
        if self.body_schema is None:
            return None
        try:
            data = json.loads(raw.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ValidationFailed("the body must be a JSON object", {"_schema": ["not an object"]})
        return self.body_schema().load(data)

    def load_query(self, request):
        if self.query_schema is None:
            return None
        return self.query_schema().load(request.args.to_dict())

    def handle_request(self, request):
        request.shallow = False
        try:
            context = {} if self.public else self.authenticate(request)
            context = {k: v for k, v in context.items() if v is not None}
            kwargs = dict(request.path_values)
            if self.method in ("POST", "PUT", "PATCH", "DELETE"):
                body = self.load_body(request)
                if self.body_schema is not None:
                    kwargs["body"] = body
                # Idempotency-Key: checked here, honoured by the services' @command RPCs
                context.update(idempotency.request_context(
                    self.method, request.headers, request.path, request.query_string, request.get_data(cache=True)))
            if self.query_schema is not None:
                kwargs["query"] = self.load_query(request)
            self.check_signature((request,), kwargs)
            event = green.new_event()
            from functools import partial

            self.container.spawn_worker(
                self, (request,), kwargs, context_data=context,
                handle_result=partial(self.handle_result, event),
            )
            with green.deadline(REQUEST_TIMEOUT):
                result = event.wait()
            response = self.response_from_result(result)
        except Exception as exc:
            response = self.response_from_exception(exc)
        self._count(response.status_code)
        return response

    def _count(self, status: int):
        from services.common.metrics import find_metrics

        metrics = find_metrics(self.container)
        if metrics is not None and hasattr(metrics, "http_responses"):
            metrics.http_responses.labels(self.method, self.openapi_path, str(status)).inc()

    # -- response ----------------------------------------------------------
    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status = self.status
        if isinstance(result, tuple):
            status, result = result
        if status == 204:
            return Response(status=204)
        return json_response(result, status)

    def response_from_exception(self, exc):
        if isinstance(exc, DomainError):
            return error_response(exc.status, exc.code, exc.message, exc.details)
        if isinstance(exc, ValidationError):
            fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
            names = ", ".join(sorted(fields)) if isinstance(fields, dict) else ""
            return error_response(422, "validation_failed", f"invalid fields: {names}", fields)
        if isinstance(exc, (TimeoutError, UnknownService)):
            error_id = uuid.uuid4().hex[:12]
            log.error("service unavailable (%s)", type(exc).__name__, extra={"error_id": error_id})
            return error_response(503, "service_unavailable",
                                  f"a service did not answer in time (error id {error_id})", {"error_id": error_id})
        error_id = uuid.uuid4().hex[:12]
        if isinstance(exc, RemoteError):
            log.error("remote error %s: %s", exc.exc_type, exc.value, extra={"error_id": error_id})
        else:
            log.error("unexpected error", exc_info=exc, extra={"error_id": error_id})
        return error_response(500, "internal_error", f"unexpected error (error id {error_id})",
                              {"error_id": error_id})


api = ApiEntrypoint.decorator
