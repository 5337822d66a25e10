"""Typed domain errors, shared by services and the gateway.

Each is registered with nameko's ``deserialize_to_instance`` so that an error raised in a
service arrives at the gateway as the same class (with its details), and the gateway maps
the class to an HTTP status (ARCHITECTURE "Errors are explicit").
"""
from __future__ import annotations

from nameko.exceptions import deserialize_to_instance


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str = "", details=None):
        # args cross RPC (nameko re-creates the error from them): no details → no arg, so
        # that the gateway does not receive the string "None"
        super().__init__(*((message,) if details is None else (message, details)))
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict:
        return {"error": self.code, "message": self.message, "details": self.details}


@deserialize_to_instance
class BadRequest(DomainError):
    status = 400
    code = "bad_request"


@deserialize_to_instance
class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


@deserialize_to_instance
class Forbidden(DomainError):
    status = 403
    code = "forbidden"


@deserialize_to_instance
class NotFound(DomainError):
    """Missing, or belonging to another township: the two answer the same."""

    status = 404
    code = "not_found"


@deserialize_to_instance
class Conflict(DomainError):
    """A state conflict: an invalid transition, an item already lent, a duplicate."""

    status = 409
    code = "conflict"


@deserialize_to_instance
class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


@deserialize_to_instance
class ValidationFailed(DomainError):
    """Valid JSON that breaks a schema or a rule; ``details`` names the field(s)."""

    status = 422
    code = "validation_failed"


@deserialize_to_instance
class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


@deserialize_to_instance
class Unavailable(DomainError):
    """Something this answer depends on is not reachable yet; try again shortly."""

    status = 503
    code = "service_unavailable"


def field_error(field: str, problem: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {problem}", {field: [problem]})


@deserialize_to_instance
class ServiceUnavailable(Unavailable, TimeoutError):
    """A service did not answer within the request's deadline, is not running, is shed by the
    gateway's breaker or bulkhead, or the broker is unreachable (services/common/rpc.py).
    ``details``: ``{"service": name, "retry_after": seconds}``; the gateway answers 503 with
    ``Retry-After``."""

    failure = False  # set where it is raised: counts against the target's breaker (no answer came)

    @classmethod
    def of(cls, service: str, reason: str, retry_after: int = 1, failure: bool = False) -> "ServiceUnavailable":
        exc = cls(f"{service} unavailable: {reason}", {"service": service, "retry_after": retry_after})
        exc.failure = failure
        return exc

    @property
    def service(self) -> str:
        return (self.details or {}).get("service") or "unknown"

    @property
    def retry_after(self) -> int:
        return int((self.details or {}).get("retry_after") or 1)
