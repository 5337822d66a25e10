"""Tenancy: who is calling, for which township.

The gateway authenticates the bearer token and puts ``township_id``, ``user_id`` and
``roles`` into the nameko call context; nameko carries it on every RPC the gateway makes.
Services read it through the ``Caller`` dependency and never take a township from the
request body. A call without it (for example an internal sweep) is refused where a township
is needed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from nameko.extensions import DependencyProvider

from .errors import Forbidden, Unauthorized

ROLES = (
    "operator",
    "director",
    "deputy_director",
    "section_head",
    "clerk",
    "inspector",
    "complaint_officer",
    "security_manager",
    "guard",
    "village_agent",
)

CONTEXT_KEYS = ("township_id", "user_id", "roles", "person_id")


@dataclass(frozen=True)
class CallerInfo:
    township_id: str | None
    user_id: str | None = None
    person_id: str | None = None
    roles: tuple[str, ...] = field(default_factory=tuple)

    @property
    def township(self) -> str:
        if not self.township_id:
            raise Unauthorized("this call needs a township in its context")
        return self.township_id

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    def require(self, *roles: str) -> "CallerInfo":
        if not self.has(*roles):
            raise Forbidden(f"needs one of the roles: {', '.join(roles)}")
        return self


def caller_from_context(data: dict) -> CallerInfo:
    return CallerInfo(
        township_id=data.get("township_id"),
        user_id=data.get("user_id"),
        person_id=data.get("person_id"),
        roles=tuple(data.get("roles") or ()),
    )


class Caller(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return caller_from_context(worker_ctx.data)
