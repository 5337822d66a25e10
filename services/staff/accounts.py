"""Accounts behind tokens (DOMAIN "Accounts"; ARCHITECTURE "Who owns what"): people sign in
with a user name and password, operators too, machines hold named API keys.

* A manager creates a person's account and gets a one-time activation code (stored as its
  SHA-256: the code is random, 96 bits); the person sets a password with it. Passwords are
  argon2id hashes (``argon2-cffi``; parameters in ``PASSWORD_HASHER``, README "Accounts").
* ``sign_in`` gives the record of a short-lived access token: ``STAFF_SESSION_HOURS``
  (default 8) and never past the end of the local day in the township's zone.
* Wrong passwords are counted per user name in ``sign_in_guards`` (known names and unknown
  ones alike): each attempt claims a slot with one atomic conditional UPDATE *before* the
  password is checked, so however many arrive at once, at most ``STAFF_SIGNIN_MAX_FAILURES``
  (5) are counted; then the name is locked ``STAFF_SIGNIN_LOCK_MINUTES`` (15), the right
  password included. A right password frees the slots.
* Every token carries its account's ``version`` (and its township's). Any change of rights
  bumps the version and emits ``staff.access_changed``; the gateways refuse older tokens.

Passwords, codes and tokens are never logged, never put in events, never returned except the
code to the manager who asked for it.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update

from services.common import green
from services.common.clock import DEFAULT_TZ
from services.common.db import NATIONAL, new_id
from services.common.errors import Conflict, Forbidden, NotFound, TooManyAttempts, Unauthorized, field_error
from services.common.tenancy import ROLES
from services.contracts.staff import AccountCode, ApiKey

from .models import Account, Person, SignInGuard, Township
from services.contracts import shared

#: argon2id, OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 40 ms a hash on
#: one core of the development machine; hashes run in an OS thread (services.common.green).
PASSWORD_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,59}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 200
MAX_KEY_DAYS = 90
KEY_ROLES = [r for r in ROLES if r != "operator"]
BAD_CREDENTIALS = "wrong user name or password"


def setting(name: str, default: float) -> float:
    """Account settings are platform-wide (sign-in happens before a township is known)."""
    return float(os.environ.get(name, default))


def session_hours() -> float:
    return setting("STAFF_SESSION_HOURS", 8)


def max_failures() -> int:
    return int(setting("STAFF_SIGNIN_MAX_FAILURES", 5))


def lock_minutes() -> float:
    return setting("STAFF_SIGNIN_LOCK_MINUTES", 15)


def activation_days() -> float:
    return setting("STAFF_ACTIVATION_DAYS", 7)


# -- hashing ---------------------------------------------------------------------

def hash_password(password: str) -> str:
    return green.in_thread(PASSWORD_HASHER.hash, password)


def password_matches(stored: str | None, password: str) -> bool:
    """Constant work whether or not there is a stored hash (an unknown user name hashes a
    dummy), so both answer alike and take alike."""
    try:
        return green.in_thread(PASSWORD_HASHER.verify, stored or _dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(PASSWORD_HASHER.hash(secrets.token_urlsafe(16)))
    return _DUMMY[0]


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def name_key(username: str) -> str:
    return hashlib.sha256(normalise(username).encode()).hexdigest()


def normalise(username) -> str:
    return str(username or "").strip().lower()


def check_username(username) -> str:
    name = normalise(username)
    if not USERNAME_RE.match(name):
        raise field_error("username", "3–60 characters: lower-case letters, digits, '.', '_' or '-'")
    return name


def check_password(password, username: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise field_error("password", f"{MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if normalise(username) in password.lower():
        raise field_error("password", "must not contain the user name")
    return password


# -- versions: tokens follow the account -----------------------------------------------

def bump(uow, account: Account, active: bool | None = None) -> int:
    """The account's rights changed: a new version (atomic, so concurrent changes never
    share one), announced to the gateways."""
    values = {"version": Account.version + 1}
    if active is not None:
        values["active"] = active
    version = uow.session.execute(
        update(Account).where(Account.id == account.id).values(**values).returning(Account.version)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    uow.session.refresh(account)
    uow.emit("staff.access_changed", township_id=account.township_id or NATIONAL,
             subject="account", subject_id=account.id, version=version, active=account.active)
    return version


def person_rights_changed(uow, person: Person) -> dict | None:
    """Deactivation, a role change or removal from a window: the person's tokens go stale.
    Returns the account's new version (the gateway that made the change applies it at once)."""
    account = uow.session.scalar(select(Account).where(Account.person_id == person.id))
    if account is None:
        return None
    version = bump(uow, account, active=bool(person.active))
    return {"account_id": account.id, "version": version, "active": account.active}


def set_township_suspended(uow, township: Township, suspended: bool) -> dict:
    version = uow.session.execute(
        update(Township).where(Township.id == township.id)
        .values(version=Township.version + 1, suspended=bool(suspended)).returning(Township.version)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    uow.session.refresh(township)
    uow.emit("staff.access_changed", township_id=township.id, subject="township", subject_id=township.id,
             version=version, active=not township.suspended)
    return {"id": township.id, "code": township.code, "suspended": township.suspended, "version": version}


def access_snapshot(uow, stamp: str | None = None) -> dict:
    """What a gateway checks tokens against: every account's and township's version and
    whether it is active. Ids and integers only (expired keys left out). ``stamp`` sums it up
    (counts and sums of versions: every change bumps a version, new rows add to a count, expired
    keys leave it); a gateway that sends the stamp it holds gets ``unchanged`` instead of the
    whole table when nothing moved (the common case, every second)."""
    from sqlalchemy import func

    now = uow.now()
    live = (Account.expires_at.is_(None)) | (Account.expires_at > now)
    n, total = uow.session.execute(select(func.count(Account.id), func.coalesce(func.sum(Account.version), 0))
                                   .where(live)).one()
    tn, ttotal = uow.session.execute(select(func.count(Township.id),
                                            func.coalesce(func.sum(Township.version), 0))).one()
    current = f"{n}:{total}:{tn}:{ttotal}"
    if stamp == current:
        return {"stamp": current, "unchanged": True}
    rows = uow.session.execute(select(Account.id, Account.version, Account.active).where(live)).all()
    towns = uow.session.execute(select(Township.id, Township.version, Township.suspended)).all()
    return {"stamp": current,
            "accounts": [[r[0], r[1], bool(r[2])] for r in rows],
            "townships": [[t[0], t[1], not t[2]] for t in towns]}


# -- accounts of people and operators ----------------------------------------------------

def _new_code(uow, account: Account) -> dict:
    code = secrets.token_urlsafe(12)
    account.code_hash = code_digest(code)
    account.code_expires_at = uow.now() + timedelta(days=activation_days())
    return shared(AccountCode).dump({"account_id": account.id, "username": account.username, "activation_code": code,
                               "code_expires_at": account.code_expires_at})


def _taken(uow, username: str, account_id: str | None = None) -> None:
    other = uow.session.scalar(select(Account).where(Account.username == username))
    if other is not None and other.id != account_id:
        raise Conflict(f"user name {username!r} is taken", {"username": ["taken"]})


def create_person_account(uow, person_id: str, username: str, by: str | None = None) -> dict:
    """A manager opens (or re-opens) a person's account: a fresh one-time activation code.
    Re-opening an account (a forgotten password) ends its sessions and its old password."""
    person = uow.get(Person, person_id, "person")
    if not person.active:
        raise field_error("person_id", "inactive")
    name = check_username(username)
    account = uow.session.scalar(select(Account).where(Account.person_id == person.id))
    _taken(uow, name, account.id if account else None)
    if account is None:
        account = Account(id=new_id(), kind="person", township_id=person.township_id, person_id=person.id,
                          username=name, version=1, active=True, created_at=uow.now(), created_by=by)
        uow.session.add(account)
        uow.session.flush()
    else:
        account.username = name
        account.password_hash = None
        uow.session.flush()
        bump(uow, account)
    return _new_code(uow, account)


def create_operator(uow, username: str, by: str | None = None) -> dict:
    """A platform operator's account (``python -m services.staff.admin create-operator``)."""
    name = check_username(username)
    _taken(uow, name)
    account = Account(id=new_id(), kind="operator", township_id=None, username=name, roles=["operator"],
                      version=1, active=True, created_at=uow.now(), created_by=by)
    uow.session.add(account)
    uow.session.flush()
    return _new_code(uow, account)


def activate(uow, username: str, code: str, password: str) -> dict:
    """The person (or operator) sets a password with the one-time code."""
    account = uow.session.scalar(select(Account).where(Account.username == normalise(username),
                                                       Account.kind != "key"))
    valid = (account is not None and account.code_hash is not None and isinstance(code, str)
             and hmac.compare_digest(account.code_hash, code_digest(code))
             and account.code_expires_at is not None and account.code_expires_at > uow.now())
    if not valid:
        raise Unauthorized("unknown user name, or the activation code is wrong, used or expired")
    check_password(password, account.username)
    account.password_hash = hash_password(password)
    account.code_hash = None
    account.code_expires_at = None
    uow.session.flush()
    bump(uow, account)
    return {"username": account.username, "activated": True}


def change_password(uow, account_id: str, old_password: str, new_password: str) -> dict:
    account = uow.session.get(Account, account_id)
    if account is None or account.kind == "key":
        raise Forbidden("this token has no password")
    if not isinstance(old_password, str) or not password_matches(account.password_hash, old_password):
        raise field_error("old_password", "wrong")
    check_password(new_password, account.username)
    account.password_hash = hash_password(new_password)
    uow.session.flush()
    return {"version": bump(uow, account)}


def sign_out(uow, account_id: str) -> dict:
    """Ends every session of the account at once (the version moves on)."""
    account = uow.session.get(Account, account_id)
    if account is None or account.kind == "key":
        raise Forbidden("only a signed-in person or operator signs out")
    return {"account_id": account.id, "version": bump(uow, account)}


# -- sign-in ----------------------------------------------------------------------------

def claim_attempt(uow, username: str) -> None:
    """One attempt slot for this user name, or ``TooManyAttempts``. Atomic: the conditional
    UPDATE is the only writer, so of N parallel attempts exactly the free slots succeed."""
    key, now, limit = name_key(username), uow.now(), max_failures()
    dialect = uow.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    uow.session.execute(insert(SignInGuard).values(key=key, failures=0, locked_until=None)
                        .on_conflict_do_nothing())
    expired = (SignInGuard.locked_until.is_not(None)) & (SignInGuard.locked_until <= now)
    from sqlalchemy import case

    counted = case((expired, 1), else_=SignInGuard.failures + 1)
    result = uow.session.execute(
        update(SignInGuard)
        .where(SignInGuard.key == key, (SignInGuard.failures < limit) | expired)
        .values(failures=counted,
                locked_until=case((counted >= limit, now + timedelta(minutes=lock_minutes())), else_=None))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise TooManyAttempts(f"too many wrong passwords: try again in {lock_minutes():g} minutes")


def release_attempts(uow, username: str) -> None:
    uow.session.execute(update(SignInGuard).where(SignInGuard.key == name_key(username))
                        .values(failures=0, locked_until=None).execution_options(synchronize_session=False))


def find_for_sign_in(uow, username: str) -> tuple[str | None, str | None]:
    account = uow.session.scalar(select(Account).where(Account.username == normalise(username),
                                                       Account.kind != "key"))
    return (account.id, account.password_hash) if account is not None else (None, None)


def session_expiry(now: datetime, tz: str, hours: float) -> datetime:
    """``hours`` from now, but never past the end of the local day (DOMAIN "Time")."""
    zone = ZoneInfo(tz or DEFAULT_TZ)
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
    return min(now + timedelta(hours=hours), midnight.astimezone(now.tzinfo))


def session_record(uow, account_id: str) -> dict:
    """The access token's record (signed by the gateway). Refused if the account or its
    township may not sign in now."""
    account = uow.session.get(Account, account_id)
    township = uow.session.get(Township, account.township_id) if account.township_id else None
    roles = list(account.roles or [])
    person_id = None
    if account.kind == "person":
        person = uow.session.get(Person, account.person_id)
        if person is None or not person.active or not account.active:
            raise Forbidden("this account is deactivated")
        roles, person_id = list(person.roles or []), person.id
    elif not account.active:
        raise Forbidden("this account is deactivated")
    if township is not None and township.suspended:
        raise Forbidden("this township is suspended")
    now = uow.now()
    expires = session_expiry(now, township.timezone if township else DEFAULT_TZ, session_hours())
    return token_record(account, "session", roles, person_id, township, now, expires)


def token_record(account: Account, kind: str, roles, person_id, township, now, expires) -> dict:
    return {
        "jti": new_id(), "kind": kind, "account_id": account.id, "version": account.version,
        "township_id": account.township_id, "township_version": township.version if township else None,
        "person_id": person_id, "roles": list(roles), "name": account.name or account.username,
        "issued_at": now.isoformat(), "expires_at": expires.isoformat(),
    }


# -- API keys for machines ------------------------------------------------------------------

def create_key(uow, name: str, roles, days: int, by: str | None = None) -> dict:
    """A named key (a hall kiosk, the display screen, a county system) with an explicit role
    set and an expiry of at most ``MAX_KEY_DAYS``."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise field_error("name", "1 to 100 characters")
    roles = list(dict.fromkeys(roles or []))
    if not roles or any(r not in KEY_ROLES for r in roles):
        raise field_error("roles", f"one or more of: {', '.join(KEY_ROLES)}")
    if not isinstance(days, int) or not 1 <= days <= MAX_KEY_DAYS:
        raise field_error("days", f"between 1 and {MAX_KEY_DAYS}")
    now = uow.now()
    township = uow.session.get(Township, uow.township_id)
    if township is None:
        raise NotFound("township not found")
    account = Account(id=new_id(), kind="key", township_id=uow.township_id, name=name, roles=roles, version=1,
                      active=True, expires_at=now + timedelta(days=days), created_at=now, created_by=by)
    uow.session.add(account)
    uow.session.flush()
    record = token_record(account, "key", roles, None, township, now, account.expires_at)
    record["jti"] = account.id
    return record


def key_record(a: Account) -> dict:
    return shared(ApiKey).dump(a)


def list_keys(uow) -> list[dict]:
    rows = uow.session.scalars(select(Account).where(Account.kind == "key", Account.township_id == uow.township_id)
                               .order_by(Account.created_at))
    return [key_record(a) for a in rows]


def revoke_key(uow, key_id: str) -> dict:
    account = uow.session.get(Account, key_id)
    if account is None or account.kind != "key" or account.township_id != uow.township_id:
        raise NotFound(f"key {key_id} not found")
    if account.active:
        account.revoked_at = uow.now()
        uow.session.flush()
        bump(uow, account, active=False)
    return key_record(account)


def sign_in(open_uow, username, password) -> dict:
    """User name + password → an access token's record. The attempt slot is claimed and
    committed first (so parallel attempts see it), the slow hash runs outside any
    transaction, and only a right password frees the slots."""
    if not isinstance(username, str) or not isinstance(password, str):
        raise Unauthorized(BAD_CREDENTIALS)
    with open_uow() as uow:
        claim_attempt(uow, username)
    with open_uow() as uow:
        account_id, stored = find_for_sign_in(uow, username)
    if not password_matches(stored, password[:MAX_PASSWORD]) or len(password) > MAX_PASSWORD:
        raise Unauthorized(BAD_CREDENTIALS)
    with open_uow() as uow:
        release_attempts(uow, username)
        return session_record(uow, account_id)
