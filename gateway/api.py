"""The gateway's one HTTP entrypoint: ``api(method, path, …)``.

When a request arrives it gets a deadline (``GATEWAY_DEADLINE`` seconds, default 10, put into
the call context as ``deadline``): waiting for a worker and every RPC the worker makes count
against it (gateway/resilience.py, services/common/rpc.py); past it the answer is 503
``service_unavailable`` naming the service waited for, with ``Retry-After``. Before a worker runs,
the entrypoint
1. refuses a body over ``GATEWAY_MAX_BODY`` bytes (413; chunked bodies too), or one that does not
   arrive within ``GATEWAY_READ_TIMEOUT`` seconds (408),
2. authenticates the bearer token unless the route is public (401), refusing a token whose
   account has changed since it was issued (gateway/access.py),
3. checks the caller's roles against the route's (403),
4. parses JSON (400, also when nested deeper than ``GATEWAY_MAX_JSON_DEPTH``) and validates it
   with the route's marshmallow schema (422, fields named; every schema derives from
   services/common/validate.Schema, which refuses NUL and lone surrogates and over-long lists),
and puts the caller (township, person, roles) into the nameko call context, which every RPC
the worker makes carries to the services. Errors become ``{"error", "message", "details"}``
with the status of their class — also the HTTP layer's own (400, 404, 405 with ``Allow``, 408,
413, 414, 431); anything unexpected is a 500 with an error id that is logged, never a stack
trace. Routes carry their schemas, so the OpenAPI document is generated from them
(gateway/openapi.py).
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from datetime import date, datetime

from eventlet import wsgi
from marshmallow import ValidationError
from nameko.exceptions import RemoteError, UnknownService
from nameko.extensions import DependencyProvider
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from werkzeug.exceptions import ClientDisconnected, HTTPException, MethodNotAllowed
from werkzeug.wrappers import Request, Response

from services.common import green, idempotency
from services.common.errors import (
    BadRequest, DomainError, Forbidden, PayloadTooLarge, ServiceUnavailable, Unauthorized, Unavailable,
    ValidationFailed,
)
from services.common.rpc import DEADLINE_KEY, broker_errors
from services.common.validate import bad_text_problem, json_depth_exceeds
from services.contracts import shared

from . import auth
from .resilience import settings as resilience_settings
from .resilience import spawn_platform_worker

log = logging.getLogger("gateway")

MAX_BODY = int(os.environ.get("GATEWAY_MAX_BODY", str(256 * 1024)))
DEADLINE = resilience_settings()["deadline"]
READ_TIMEOUT = float(os.environ.get("GATEWAY_READ_TIMEOUT", "5"))
KEEPALIVE = float(os.environ.get("GATEWAY_KEEPALIVE", "75"))
MAX_JSON_DEPTH = int(os.environ.get("GATEWAY_MAX_JSON_DEPTH", "20"))
ARRIVED = "gateway.arrived"  # environ key: when the request arrived (epoch seconds)


class RequestTimeout(DomainError):
    status = 408
    code = "request_timeout"


def _default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_response(payload, status: int = 200, headers=None) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, default=_default), status=status,
        mimetype="application/json", headers=headers,
    )


def error_response(status: int, code: str, message: str, details=None, headers=None, **extra) -> Response:
    return json_response({"error": code, "message": message, "details": details, **extra}, status, headers)


def unavailable_response(service: str, message: str, retry_after: int = 1) -> Response:
    """The 503 contract: ``{"error": "service_unavailable", "service": name, …}`` and ``Retry-After``."""
    return error_response(503, "service_unavailable", message, {"service": service}, service=service,
                          headers={"Retry-After": str(max(1, int(retry_after)))})


class JsonWsgiApp(WsgiApp):
    """Unknown paths and wrong methods answer JSON too (405 with ``Allow``)."""

    def __call__(self, environ, start_response):
        environ.setdefault(ARRIVED, time.time())
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.code, "http_error")
            headers = None
            if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
                headers = {"Allow": ", ".join(sorted(exc.valid_methods))}
            response = error_response(exc.code, code, exc.description or exc.name, headers=headers)
        return response(environ, start_response)


# -- the HTTP layer's own errors as JSON ------------------------------------------------------

_RAW_ERRORS = (  # eventlet.wsgi writes these itself, before any application code runs
    (b"HTTP/1.0 414", 414, "uri_too_long", "the request line is too long"),
    (b"HTTP/1.0 400 Header Line Too Long", 431, "headers_too_large", "a header line is too long"),
    (b"HTTP/1.0 400 Headers Too Large", 431, "headers_too_large", "the headers are too large"),
    (b"HTTP/1.0 400", 400, "bad_request", "malformed request"),
)
_REASONS = {400: "Bad Request", 408: "Request Timeout", 413: "Content Too Large", 414: "URI Too Long",
            431: "Request Header Fields Too Large", 501: "Not Implemented", 505: "HTTP Version Not Supported"}


def raw_json_error(status: int, code: str, message: str) -> bytes:
    body = json.dumps({"error": code, "message": message, "details": None}).encode()
    return (f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: application/json\r\n"
            f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


class _JsonErrorWriter:
    """The connection's write side: eventlet's raw error answers are replaced by JSON ones."""

    def __init__(self, wfile):
        self._wfile = wfile

    def write(self, data):
        if isinstance(data, (bytes, bytearray)) and data.startswith(b"HTTP/1.0 4"):
            for prefix, status, code, message in _RAW_ERRORS:
                if data.startswith(prefix):
                    return self._wfile.write(raw_json_error(status, code, message))
        return self._wfile.write(data)

    def __getattr__(self, name):
        return getattr(self._wfile, name)


class JsonErrorsProtocol(HttpOnlyProtocol):
    def setup(self):
        super().setup()
        self.wfile = _JsonErrorWriter(self.wfile)

    def send_error(self, code, message=None, explain=None):
        """http.server's own errors (bad request line, 431 too many headers, 505…) as JSON."""
        code = int(code)
        if code == 400 and self.raw_requestline and len(self.raw_requestline) >= self.server.url_length_limit:
            code = 414
        text = message or _REASONS.get(code, "error")
        name = {414: "uri_too_long", 431: "headers_too_large"}.get(code, "bad_request" if code == 400 else "http_error")
        try:
            self.wfile.write(raw_json_error(code, name, text))
            self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, protocol=JsonErrorsProtocol, debug=False):
        """A read timeout on every client socket (a body shorter than its Content-Length, a
        header sent byte by byte), and idle keep-alive connections closed after a while."""
        return wsgi.Server(
            sock, sock.getsockname(), wsgi_app, protocol=protocol, debug=debug,
            log=logging.getLogger("nameko.web.server"), socket_timeout=READ_TIMEOUT, keepalive=KEEPALIVE,
        )


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
                 content_type="application/json", errors=(), platform=False, responses=None, **kwargs):
        super().__init__(method, url, **kwargs)
        self.platform = platform  # /health, /metrics, /openapi.json: a worker pool of their own
        self.errors = tuple(errors)  # further error statuses to document (e.g. 429)
        # statuses answered with a body other than the Error one, for OpenAPI: {503: Health}, or
        # {404: ("text/html", {"type": "string"})} for another content type
        self.responses = dict(responses or {})
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
    def _access(self):
        from .access import AccessCache

        cached = getattr(self, "_access_cache", None)
        if cached is None:
            cached = next((d for d in self.container.dependencies if isinstance(d, AccessCache)), False)
            self._access_cache = cached
        return cached or None

    def authenticate(self, request) -> dict:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            raise Unauthorized("a bearer token is required (Authorization: Bearer …)")
        from services.common.clock import container_clock

        claims = auth.verify(header[7:].strip(), self.container.config["JWT_SECRET"],
                             now=container_clock(self.container).now())
        access = self._access()
        if access is not None:  # the account's current version (DOMAIN "Accounts")
            access.check(claims)
        context = auth.context_from_claims(claims)
        if self.roles and not any(r in context["roles"] for r in self.roles):
            raise Forbidden(f"this endpoint needs one of the roles: {', '.join(self.roles)}")
        return context

    def read_body(self, request) -> bytes:
        """The raw body: at most ``MAX_BODY`` bytes (413, chunked bodies counted as they come),
        arriving within ``READ_TIMEOUT`` seconds (408)."""
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise PayloadTooLarge(f"request body over {MAX_BODY} bytes")
        chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        try:
            with green.deadline(READ_TIMEOUT):
                if chunked:
                    stream, parts, size = request.environ["wsgi.input"], [], 0
                    while True:
                        part = stream.read(65536)
                        if not part:
                            break
                        size += len(part)
                        if size > MAX_BODY:
                            raise PayloadTooLarge(f"request body over {MAX_BODY} bytes")
                        parts.append(part)
                    raw = b"".join(parts)
                else:
                    raw = request.get_data(cache=True)
        except (TimeoutError, ClientDisconnected) as exc:  # werkzeug wraps the socket's timeout
            if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
                raise RequestTimeout(f"the request body did not arrive within {READ_TIMEOUT:g}s") from None
            raise BadRequest("the connection ended before the body was complete") from None
        if len(raw) > MAX_BODY:
            raise PayloadTooLarge(f"request body over {MAX_BODY} bytes")
        if request.content_length is not None and len(raw) < request.content_length:
            raise BadRequest("the body is shorter than its Content-Length")
        return raw

    def load_body(self, request):
        raw = self.read_body(request)
        if self.body_schema is None:
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from None
        if json_depth_exceeds(text, MAX_JSON_DEPTH):
            raise BadRequest(f"the body is nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            data = json.loads(text or "null")
        except (json.JSONDecodeError, RecursionError) as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ValidationFailed("the body must be a JSON object", {"_schema": ["not an object"]})
        return shared(self.body_schema).load(data)

    def load_query(self, request):
        if self.query_schema is None:
            return None
        return shared(self.query_schema).load(request.args.to_dict())

    def handle_request(self, request):
        request.shallow = False
        arrived = request.environ.get(ARRIVED) or time.time()
        deadline = arrived + DEADLINE
        worker_ctx = None
        try:
            for name, value in request.path_values.items():
                problem = bad_text_problem(value)
                if problem:
                    raise ValidationFailed(f"{name}: {problem}", {name: [problem]})
            context = {} if self.public else self.authenticate(request)
            context = {k: v for k, v in context.items() if v is not None}
            context[DEADLINE_KEY] = deadline
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

            handle = partial(self.handle_result, event)
            # the worker's own RPCs stop at the deadline and name their service; this wait
            # (which includes waiting for a free worker) is the backstop just after it
            with green.deadline(max(0.05, deadline - time.time() + 0.5)):
                if self.platform:
                    worker_ctx = spawn_platform_worker(self.container, self, (request,), kwargs, context, handle)
                else:
                    worker_ctx = self.container.spawn_worker(self, (request,), kwargs, context_data=context,
                                                             handle_result=handle)
                result = event.wait()
            response = self.response_from_result(result)
        except TimeoutError as exc:
            if isinstance(exc, DomainError):
                response = self.response_from_exception(exc)
            else:
                service = getattr(worker_ctx, "rpc_target", None) or "gateway"
                log.warning("request past its deadline (waiting for %s)", service)
                response = unavailable_response(
                    service, f"{service} did not answer within the request's deadline ({DEADLINE:g}s)")
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
        if isinstance(exc, ServiceUnavailable):
            log.warning("%s", exc.message)
            return unavailable_response(exc.service, exc.message, exc.retry_after)
        if isinstance(exc, Unavailable):
            return error_response(503, exc.code, exc.message, exc.details, headers={"Retry-After": "1"})
        if isinstance(exc, DomainError):
            return error_response(exc.status, exc.code, exc.message, exc.details)
        if isinstance(exc, ValidationError):
            fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
            names = ", ".join(sorted(fields)) if isinstance(fields, dict) else ""
            return error_response(422, "validation_failed", f"invalid fields: {names}", fields)
        if isinstance(exc, HTTPException) and exc.code and exc.code < 500:
            return error_response(exc.code, "bad_request" if exc.code == 400 else "http_error",
                                  exc.description or exc.name)
        if isinstance(exc, UnknownService):
            return unavailable_response(exc.service_name if hasattr(exc, "service_name") else str(exc),
                                        f"{exc} is not running")
        if isinstance(exc, TimeoutError):
            return unavailable_response("gateway", "no answer within the request's deadline")
        if isinstance(exc, broker_errors()):  # the broker connection is gone (publish or consume)
            log.warning("broker unreachable: %s", type(exc).__name__)
            return unavailable_response("broker", f"the message broker is unreachable ({type(exc).__name__})")
        error_id = uuid.uuid4().hex[:12]
        if isinstance(exc, RemoteError):
            log.error("remote error %s: %s", exc.exc_type, exc.value, extra={"error_id": error_id})
        else:
            log.error("unexpected error", exc_info=exc, extra={"error_id": error_id})
        return error_response(500, "internal_error", f"unexpected error (error id {error_id})",
                              {"error_id": error_id})


api = ApiEntrypoint.decorator
