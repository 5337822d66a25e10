"""Bearer tokens: HS256 JWTs signed with a key from the environment, with an expiry.

Claims: ``jti`` (this token), ``typ`` (``session`` from sign-in, ``key`` for a machine),
``aid`` and ``ver`` (the account and its version when issued), ``sub`` (person id, empty for
an operator or a key), ``tid`` and ``tver`` (township and its version, empty for an
operator), ``roles``, ``iat``, ``exp``. The gateway refuses a token whose account or township
has moved to a newer version since (gateway/access.py).

The key is ``GATEWAY_JWT_SECRET`` (``services.common.config.jwt_secret``); when unset (one
machine, ``make run``) a random key is created once in ``var/jwt-secret`` so every process of
the machine shares it.
"""
from __future__ import annotations

from datetime import datetime, timezone

import jwt

from services.common.config import MIN_SECRET_BYTES, jwt_secret as signing_key  # noqa: F401
from services.common.errors import Unauthorized

ALGORITHM = "HS256"


def sign(record: dict, key: str | None = None) -> str:
    """A token for a record from ``staff.sign_in`` or ``staff.create_api_key``."""
    claims = {
        "jti": record["jti"],
        "typ": record["kind"],
        "aid": record["account_id"],
        "ver": int(record["version"]),
        "sub": record.get("person_id") or "",
        "tid": record.get("township_id") or "",
        "tver": record.get("township_version"),
        "roles": list(record["roles"]),
        "iat": int(datetime.fromisoformat(record["issued_at"]).timestamp()),
        "exp": int(datetime.fromisoformat(record["expires_at"]).timestamp()),
    }
    return jwt.encode(claims, key or signing_key(), algorithm=ALGORITHM)


def verify(token: str, key: str, now: datetime | None = None) -> dict:
    """Check signature, required claims and expiry; expiry against ``now`` (the gateway's
    injectable clock: tokens are issued on the staff service's clock), real time by default."""
    try:
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "jti", "roles", "aid", "ver"], "verify_exp": False,
                     "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid token: {exc}") from None
    if (not isinstance(claims.get("roles"), list) or not isinstance(claims.get("exp"), (int, float))
            or not isinstance(claims.get("ver"), int) or not isinstance(claims.get("aid"), str)):
        raise Unauthorized("invalid token: claims")
    moment = (now or utcnow()).timestamp()
    if claims["exp"] <= moment:
        raise Unauthorized("token expired")
    return claims


def context_from_claims(claims: dict) -> dict:
    """The nameko call context the services read (services.common.tenancy)."""
    return {
        "township_id": claims.get("tid") or None,
        "person_id": claims.get("sub") or None,
        "user_id": claims.get("sub") or f"{claims.get('typ') or 'account'}:{claims['aid']}",
        "roles": list(claims["roles"]),
        "account_id": claims["aid"],
        "jti": claims["jti"],
    }


def utcnow():
    return datetime.now(timezone.utc)
