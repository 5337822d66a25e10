"""I4 Receipt (受理通知单) and the public status query.

* receipt numbers: ``YYYYMMDD-`` + 10 random characters (49 bits), unique across townships
  (a global unique key backs the randomness);
* query passwords: 10 random characters of a 31-letter alphabet (49.5 bits ≥ 40), shown once,
  stored only as HMAC-SHA256(key, number ":" password) — ARCHITECTURE "Who owns what": a slow
  hash would cap intake for no gain at this entropy;
* the key: ``INTAKE_RECEIPT_KEY``, else a random key created once in ``var/intake-receipt-key``;
* guessing limit: failed queries per receipt number and per client address inside a window
  (settings), kept in intake's database so every gateway instance shares it. A wrong password
  and a number that does not exist take the same path (same HMAC, same query, same record)
  and answer the same.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select

from services.common import config as cfg
from services.common.privacy import mask_name
from services.contracts.intake import PublicStatus

from .models import Application, ReceiptGuess
from services.contracts import shared

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed by hand
PASSWORD_LENGTH = 10
NUMBER_RANDOM = 10
NO_MATCH = "no receipt with this number and password"

C13_LABELS = {"RECEIVED": "已接件", "ACCEPTED": "已受理", "NOT_ACCEPTED": "不予受理", "SUPPLEMENT": "补正",
              "SPECIAL_START": "特别程序开始", "SPECIAL_END": "特别程序结束", "COMPLETED": "办结"}
C13_OF_STATUS = {  # C13 codes while the application is still intake's (as cases codes them)
    "received": "RECEIVED",
    "return_pending": "RECEIVED",
    "supplement": "SUPPLEMENT",
    "accepted": "ACCEPTED",
    "returned": "NOT_ACCEPTED",
}

_key_cache: bytes | None = None


def receipt_key() -> bytes:
    """The HMAC key: from the environment, else created once under var/ (mode 0600)."""
    global _key_cache
    env = os.environ.get("INTAKE_RECEIPT_KEY")
    if env:
        return env.encode()
    if _key_cache is not None:
        return _key_cache
    path = cfg.var_dir() / "intake-receipt-key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    except FileExistsError:
        pass
    _key_cache = path.read_text().strip().encode()
    return _key_cache


def _random(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def new_receipt_no(local_day) -> str:
    return f"{local_day:%Y%m%d}-{_random(NUMBER_RANDOM)}"


def new_password() -> str:
    return _random(PASSWORD_LENGTH)


def issue(app: Application, local_day, keep_number: bool = False) -> str:
    """Give ``app`` a receipt number (a new one, or its own when ``keep_number`` and it has
    one) and a fresh query password, stored only as its HMAC; return the password, which is
    shown once (I4; a return notice gets one too, C10)."""
    password = new_password()
    if not (keep_number and app.receipt_no):
        app.receipt_no = new_receipt_no(local_day)
    app.password_hmac = digest(app.receipt_no, password)
    return password


def password_bits() -> float:
    import math

    return PASSWORD_LENGTH * math.log2(len(set(ALPHABET)))


def digest(receipt_no: str, password: str) -> str:
    return hmac.new(receipt_key(), f"{receipt_no}:{password}".encode(), hashlib.sha256).hexdigest()


def verify(receipt_no: str, password: str, stored: str | None) -> bool:
    expected = stored or _DUMMY
    return hmac.compare_digest(digest(receipt_no, password or ""), expected) and stored is not None


_DUMMY = "0" * 64


def _limit_key(kind: str, value: str) -> str:
    return hmac.new(receipt_key(), f"guess:{kind}:{value}".encode(), hashlib.sha256).hexdigest()


LIMITED = "limited"


def query(uow, receipt_no: str, password: str, client: str | None, settings: dict):
    """The public status query. Returns ``(LIMITED, None)`` over the guessing limit,
    ``(None, None)`` for no match (wrong password or no such number: the same), else
    ``("ok", status)``. The caller commits, so a failure is recorded even though it then
    answers 404."""
    now = uow.now()
    since = now - timedelta(minutes=settings["receipt_query_window_minutes"])
    keys = [_limit_key("number", receipt_no)]
    if client:
        keys.append(_limit_key("client", client))
    _serialise_guesses(uow, keys)
    uow.session.execute(delete(ReceiptGuess).where(ReceiptGuess.key.in_(keys), ReceiptGuess.at < since)
                        .execution_options(synchronize_session=False))
    for key in keys:
        failures = uow.session.scalar(
            select(func.count()).select_from(ReceiptGuess).where(ReceiptGuess.key == key, ReceiptGuess.at >= since))
        if failures >= settings["receipt_query_max_failures"]:
            return LIMITED, None
    app = uow.session.scalar(select(Application).where(Application.receipt_no == receipt_no))
    if not verify(receipt_no, password, app.password_hmac if app is not None else None):
        for key in keys:
            uow.session.add(ReceiptGuess(key=key, at=now))
        return None, None
    return "ok", public_status(app)


def _serialise_guesses(uow, keys) -> None:
    """Concurrent guesses at one number (or from one client) are counted one after another:
    on PostgreSQL a transaction-scoped advisory lock per key (in a fixed order, so two
    queries never deadlock), so parallel guesses cannot overshoot the limit. SQLite serves
    one process and serialises writers itself."""
    if uow.session.get_bind().dialect.name != "postgresql":
        return
    import hashlib

    from sqlalchemy import text

    for key in sorted(keys):
        lock_id = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
        uow.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def public_status(app: Application) -> dict:
    """What the applicant sees: status from cases when cases has spoken, else intake's."""
    outstanding = [m for m in app.missing or [] if m not in (app.materials_arrived or [])]
    return shared(PublicStatus).dump({
        "receipt_no": app.receipt_no,
        "applicant_name": mask_name(app.applicant_name),
        "item_code": app.item_code,
        "item_version": app.item_version,
        "kind": app.kind,
        "status": app.case_state or app.status,
        "status_code": app.case_status_code or C13_OF_STATUS.get(app.status),
        "status_label": app.case_status_label if app.case_status_code
        else C13_LABELS.get(C13_OF_STATUS.get(app.status)),
        "accepted_at": app.accepted_at,
        "accepted_on": app.accepted_on,
        "deemed_accepted": app.deemed_accepted,
        "due_date": app.case_due_date or app.promised_date,
        "due_provisional": app.case_due_provisional if app.case_due_date else app.promised_provisional,
        "outstanding_materials": outstanding,
        "updated_at": app.case_updated_at or app.accepted_at or app.received_at,
        "review": None if app.review_state is None else {  # C10, kept from cases.review_changed
            "receipt_no": app.receipt_no, "subject": app.review_subject, "state": app.review_state,
            "requested_at": app.review_requested_at, "due_date": app.review_due_date,
            "outcome": app.review_outcome, "answer": app.review_answer, "decided_at": app.review_decided_at},
    })
