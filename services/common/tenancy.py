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



def role_set(*names: str) -> tuple[str, ...]:
    """A named set of roles, every name one of ``ROLES`` (a misspelt role fails at import).
    Services take their role sets from here, or build them with this, never as literals."""
    unknown = [n for n in names if n not in ROLES]
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(unknown)}")
    return tuple(dict.fromkeys(names))


#: every role a township's people can have (T2: internal data is for any of them)
STAFF = tuple(r for r in ROLES if r != "operator")
#: 领导: the director and deputies (settings, honours, sign-offs of last resort)
LEADERS = role_set("director", "deputy_director")
#: who decides: approvals (C4), extensions, return sign-offs (I5), leave (S3)
DECIDERS = role_set("section_head", "deputy_director", "director")
#: the service desk: receives applications and handles cases
DESK = role_set("clerk", *DECIDERS)
#: who audits: leaders and the inspector (督查)
AUDITORS = role_set(*LEADERS, "inspector")
#: the lending desk at the gate (seed 000 4.1.2 门岗安管人员)
GATE = role_set("guard", "security_manager")
#: who sees the lending ledger: the gate and the leaders
GATE_VIEWERS = role_set(*GATE, *LEADERS)
#: who reviews returns and notice violations (I5): the deciders and the inspector
REVIEWERS = role_set(*DECIDERS, "inspector")
#: who reads cases: the desk, the inspector and the complaint officer
CASE_READERS = role_set(*DESK, "inspector", "complaint_officer")
#: who records complaints and petitions and follows them up (P1, P4)
COMPLAINT_DESK = role_set("complaint_officer", *LEADERS)
#: who investigates a complaint: delay, outcome, reply (P2, P3)
INVESTIGATORS = role_set("complaint_officer", "director", "inspector")
#: who sees a complainant's identity (P2)
IDENTITY_READERS = role_set("complaint_officer", "director")
#: who reads every complaint, not only their own (P2)
COMPLAINT_READERS = role_set("complaint_officer", *AUDITORS)
#: a village agent (I6): records what they collected in the village
AGENTS = role_set("village_agent")
#: who oversees every agent's collections and the overdue list (I6)
AGENT_OVERSEERS = role_set(*DESK, "inspector")
#: who reads agents' collections: the overseers, and an agent their own (I6)
AGENT_WATCH = role_set(*AGENT_OVERSEERS, *AGENTS)
#: who withdraws a collection not yet received (I6): the agent their own, the desk any
AGENT_WITHDRAWERS = role_set(*AGENTS, *DESK)
#: the platform's operator: townships and the national calendar, no township's data
OPERATOR = role_set("operator")

#: every named role set above, by name (the gateway's routes and the services use only these)
NAMED_SETS = {name: value for name, value in dict(globals()).items()
              if name.isupper() and name not in ("ROLES", "CONTEXT_KEYS") and isinstance(value, tuple)}

CONTEXT_KEYS = ("township_id", "user_id", "roles", "person_id", "account_id")


@dataclass(frozen=True)
class CallerInfo:
    township_id: str | None
    user_id: str | None = None
    person_id: str | None = None
    roles: tuple[str, ...] = field(default_factory=tuple)
    account_id: str | None = None  # the account (or API key) behind the token

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
        account_id=data.get("account_id"),
    )


class Caller(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return caller_from_context(worker_ctx.data)
