"""S8 Patrols (巡查): morning and afternoon inspections record violations (badge, dress,
phone, eating, empty post, untidy) that feed S4.

A patrol is recorded with its findings in one transaction; each finding is announced as
``staff.patrol_finding`` (without the inspector's free-text note: notes stay in the record),
and staff's own handler scores it exactly once (``scoring.on_patrol_finding``)."""
from __future__ import annotations

from sqlalchemy import select

from services.common.errors import field_error
from services.contracts.staff import Patrol as PatrolOut

from . import periods
from .periods import refuse_closed_day
from .models import Patrol, PatrolFindingRecord
from .rules import PATROL_CODES
from .scoring import ensure_rules
from services.contracts import shared


def record_patrol(uow, inspector_id: str, half: str, findings, day=None, note: str | None = None) -> dict:
    if half not in ("am", "pm"):
        raise field_error("half", "am or pm")
    today = periods.local_today(uow)
    day = periods.parse_day(day) if day else today
    if day > today:
        raise field_error("day", "not in the future")
    if findings:
        refuse_closed_day(uow, day)  # C2a: no patrol finding for a day the hall was closed
    rules = ensure_rules(uow)
    checked = []
    for i, f in enumerate(findings or []):
        code = f.get("rule_code")
        if code not in PATROL_CODES or code not in rules or not rules[code].active:
            raise field_error(f"findings[{i}].rule_code", "one of " + ", ".join(PATROL_CODES))
        person = periods.person(uow, f.get("person_id"), f"findings[{i}].person_id")
        checked.append((person.id, code, f.get("note")))
    patrol = Patrol(day=day, half=half, inspector_id=inspector_id, note=note, created_at=uow.now())
    uow.session.add(patrol)
    uow.session.flush()
    out = []
    for person_id, code, fnote in checked:
        finding = PatrolFindingRecord(patrol_id=patrol.id, person_id=person_id, rule_code=code, note=fnote)
        uow.session.add(finding)
        uow.session.flush()
        uow.emit("staff.patrol_finding", finding_id=finding.id, person_id=person_id, rule_code=code)
        out.append({"id": finding.id, "person_id": person_id, "rule_code": code, "note": fnote})
    return shared(PatrolOut).dump({"id": patrol.id, "day": day, "half": half, "inspector_id": inspector_id, "note": note,
                             "findings": out})


def list_patrols(uow, day_from=None, day_to=None) -> list[dict]:
    stmt = select(Patrol).order_by(Patrol.day.desc(), Patrol.half.desc())
    if day_from:
        stmt = stmt.where(Patrol.day >= periods.parse_day(day_from, "from"))
    if day_to:
        stmt = stmt.where(Patrol.day <= periods.parse_day(day_to, "to"))
    patrols = list(uow.scalars(stmt))
    findings: dict[str, list] = {}
    if patrols:
        for f in uow.scalars(select(PatrolFindingRecord).where(
                PatrolFindingRecord.patrol_id.in_([p.id for p in patrols]))):
            findings.setdefault(f.patrol_id, []).append(
                {"id": f.id, "person_id": f.person_id, "rule_code": f.rule_code, "note": f.note})
    return shared(PatrolOut, many=True).dump([{"id": p.id, "day": p.day, "half": p.half, "inspector_id": p.inspector_id,
                                       "note": p.note, "findings": findings.get(p.id, [])} for p in patrols])
