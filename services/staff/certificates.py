"""S3 Sick leave (病假) needs a hospital certificate, county level or above (seed 004 五.5(2):
"工作人员请病假，要出具县级以上医院的证明，审批程序同上"), recorded with the leave.

What is recorded: the issuer (the hospital), its level (one of the setting
``sick_certificate_levels``, default county, city, province, national — a township clinic is
refused), the day it was issued, and a reference to the scanned document (an id or path in the
document store; the scan itself is not kept here). One certificate per leave.

When: with the request, or attached afterwards (a person who fell ill brings it later) by the
person or a leave decider — but a sick leave is not approved without one (422 naming
``certificate``). An oral-notice sick leave (under an hour, approved at once) must carry it
with the request. The certificate is not issued after the leave ends, nor in the future.
"""
from __future__ import annotations

from sqlalchemy import select

from services.common.errors import Conflict, Forbidden, ValidationFailed, field_error
from services.common.tenancy import DECIDERS

from . import periods
from .models import Leave, LeaveCertificate
from .rules import RULES

KINDS = ("personal", "sick")
STATES_OPEN_TO_CERTIFICATE = ("requested", "approved", "returned")


# -- pure rules -----------------------------------------------------------------------

def certificate_problems(cert, levels, today, leave_end_day) -> dict[str, str]:
    """What is wrong with a certificate (field → problem); empty when it is acceptable."""
    if not isinstance(cert, dict):
        return {"certificate": "an object with issuer, issuer_level, issued_on, document_ref"}
    problems = {}
    issuer = cert.get("issuer")
    if not isinstance(issuer, str) or not issuer.strip() or len(issuer) > 100:
        problems["certificate.issuer"] = "the issuing hospital, 1–100 characters"
    if cert.get("issuer_level") not in levels:
        problems["certificate.issuer_level"] = "a hospital of county level or above: one of " + ", ".join(levels)
    ref = cert.get("document_ref")
    if not isinstance(ref, str) or not ref.strip() or len(ref) > 300:
        problems["certificate.document_ref"] = "a reference to the scanned document, 1–300 characters"
    try:
        issued = periods.parse_day(cert.get("issued_on"), "certificate.issued_on")
    except Exception:  # noqa: BLE001 - reported as the field's problem
        problems["certificate.issued_on"] = "an ISO date (YYYY-MM-DD)"
    else:
        if issued > today:
            problems["certificate.issued_on"] = "not in the future"
        elif leave_end_day is not None and issued > leave_end_day:
            problems["certificate.issued_on"] = "not after the leave ends"
    return problems


def needs_certificate(kind: str, has_certificate: bool) -> bool:
    """S3: a sick leave is approved only with its certificate."""
    return kind == "sick" and not has_certificate


# -- use cases --------------------------------------------------------------------------

def check_kind(kind) -> str:
    if kind not in KINDS:
        raise field_error("kind", " or ".join(KINDS))
    return kind


def _validated(uow, leave: Leave, cert) -> dict:
    settings = RULES.load(uow)
    end_day = periods.local(leave.ends_at, periods.township_tz(uow)).date()
    problems = certificate_problems(cert, settings["sick_certificate_levels"], periods.local_today(uow), end_day)
    if problems:
        raise ValidationFailed("the certificate is not acceptable (S3)",
                               details={k: [v] for k, v in problems.items()})
    return cert


def attach(uow, leave: Leave, cert, by: str | None) -> LeaveCertificate:
    """Record the certificate of a sick leave (once)."""
    if leave.kind != "sick":
        raise field_error("kind", "only a sick leave carries a hospital certificate")
    if leave.state not in STATES_OPEN_TO_CERTIFICATE:
        raise Conflict(f"leave is {leave.state}")
    if uow.session.scalar(select(LeaveCertificate.id).where(LeaveCertificate.leave_id == leave.id)):
        raise Conflict("this leave's certificate is already recorded")
    cert = _validated(uow, leave, cert)
    row = LeaveCertificate(leave_id=leave.id, issuer=cert["issuer"].strip(), issuer_level=cert["issuer_level"],
                           issued_on=periods.parse_day(cert["issued_on"]), document_ref=cert["document_ref"].strip(),
                           recorded_by=by, created_at=uow.now())
    uow.session.add(row)
    uow.session.flush()
    uow.session.expire(leave, ["certificate"])
    return row


def attach_to(uow, by_person_id: str, roles, leave_id: str, cert) -> Leave:
    """The person on leave or a leave decider records the certificate afterwards."""
    leave = uow.get(Leave, leave_id, "leave")
    if by_person_id != leave.person_id and not any(r in DECIDERS for r in roles):
        raise Forbidden("the person on leave or a leave decider records the certificate")
    attach(uow, leave, cert, by_person_id)
    return leave


def require_for_approval(uow, leave: Leave) -> None:
    """S3: refuse to approve a sick leave without its certificate (422 naming it)."""
    has = uow.session.scalar(select(LeaveCertificate.id).where(LeaveCertificate.leave_id == leave.id)) is not None
    if needs_certificate(leave.kind, has):
        raise field_error("certificate", "sick leave needs a hospital certificate (county level or above) (S3)")
