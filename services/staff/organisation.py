"""The organisation: townships, departments, windows, people, roles, A/B pairs, tokens,
calendar overrides. Plain functions on a unit of work; every change is announced by an
event (ARCHITECTURE "Who owns what")."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.common.clock import DEFAULT_TZ
from services.common.calendar import apply_calendar_change, load_calendar
from services.common.errors import Conflict, NotFound, ValidationFailed, field_error
from services.common.settings import timezone_name
from services.common.tenancy import ROLES

from services.contracts import staff as contract, shared
from services.contracts.platform import CalendarAnswer

from . import accounts
from .models import Department, Person, Township, Window

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


def _announce(uow, entity: str, row, action: str, township_id: str) -> dict:
    """``staff.organisation_changed`` for ``row`` (a township, department, window or person) as its
    contract shows it; returns that record (the caller's answer: dumped once)."""
    data = shared(_CONTRACTS[entity]).dump(row)
    uow.emit("staff.organisation_changed", township_id=township_id,
             entity=entity, entity_id=row.id, action=action, data=data)
    return data


_CONTRACTS = {"township": contract.Township, "department": contract.Department, "window": contract.Window,
              "person": contract.Person}


def _check_roles(roles) -> list[str]:
    roles = list(dict.fromkeys(roles or []))
    unknown = [r for r in roles if r not in ROLES or r == "operator"]
    if unknown:
        raise field_error("roles", f"unknown or not assignable: {', '.join(unknown)}")
    return roles


# -- townships -------------------------------------------------------------

def create_township(uow, code: str, name: str, director: dict, timezone: str = DEFAULT_TZ) -> dict:
    """Operator: a new township with its first director."""
    if not CODE_RE.match(code or ""):
        raise field_error("code", "lower-case letters, digits and '-', 2–40 characters")
    if not timezone_name(timezone):
        raise field_error("timezone", "an IANA time zone name, e.g. Asia/Shanghai")
    if uow.session.scalar(select(Township).where(Township.code == code)):
        raise Conflict(f"township code {code!r} is taken", {"code": ["taken"]})
    township = Township(code=code, name=name, timezone=timezone, settings={}, created_at=uow.now())
    uow.session.add(township)
    uow.session.flush()
    uow.township_id = township.id
    uow.session.info["township_id"] = township.id
    record = _announce(uow, "township", township, "created", township.id)
    boss = create_person(uow, name=director["name"], roles=["director"],
                         phone=director.get("phone"), badge_no=director.get("badge_no"),
                         home_unit=director.get("home_unit"))
    return {"township": record, "director": boss}


def get_township(uow, township_id: str) -> Township:
    township = uow.session.get(Township, township_id)
    if township is None:
        raise NotFound("township not found")
    return township


def resolve_township(uow, code: str) -> dict:
    township = uow.session.scalar(select(Township).where(Township.code == code))
    if township is None:
        raise NotFound(f"township {code} not found")
    return shared(contract.Township).dump(township)


def list_townships(uow) -> list[dict]:
    return [shared(contract.Township).dump(t) for t in uow.scalars(select(Township).order_by(Township.code))]


# -- departments, windows, people --------------------------------------------

def create_department(uow, name: str) -> dict:
    dept = Department(name=name)
    uow.session.add(dept)
    try:
        uow.session.flush()
    except IntegrityError:
        raise Conflict(f"department {name!r} exists", {"name": ["exists"]}) from None
    return _announce(uow, "department", dept, "created", uow.township_id)


def create_window(uow, number: int, name: str, department_id: str | None = None, fee_window: bool = False) -> dict:
    if department_id is not None:  # "" too: a reference is checked before use, never left to the FK
        uow.get(Department, department_id, "department")
    if uow.session.scalar(select(Window).where(Window.number == number)):
        raise Conflict(f"window {number} exists", {"number": ["exists"]})
    window = Window(number=number, name=name, department_id=department_id, fee_window=False,
                    created_at=uow.now())
    uow.session.add(window)
    uow.session.flush()
    if fee_window:
        return set_fee_window(uow, window.id, "created")
    return _announce(uow, "window", window, "created", uow.township_id)


def set_fee_window(uow, window_id: str, action: str = "updated") -> dict:
    """C8 统一收费 (seed 004: 所有审批收费一律集中到中心收费窗口统一收取): one window of the
    township is the fee window; marking one unmarks the one before (both announced)."""
    window = uow.get(Window, window_id, "window")
    for other in uow.scalars(select(Window).where(Window.fee_window.is_(True), Window.id != window.id)):
        other.fee_window = False
        uow.session.flush()
        _announce(uow, "window", other, "updated", uow.township_id)
    window.fee_window = True
    uow.session.flush()
    return _announce(uow, "window", window, action, uow.township_id)


def create_person(uow, name: str, roles, window_id=None, department_id=None, phone=None,
                  badge_no=None, home_unit=None) -> dict:
    roles = _check_roles(roles)
    if window_id is not None:
        window = uow.get(Window, window_id, "window")
        department_id = department_id if department_id is not None else window.department_id
    if department_id is not None:
        uow.get(Department, department_id, "department")
    person = Person(name=name, roles=roles, window_id=window_id, department_id=department_id,
                    phone=phone, badge_no=badge_no, home_unit=home_unit, active=True,
                    created_at=uow.now())
    uow.session.add(person)
    uow.session.flush()
    return _announce(uow, "person", person, "created", uow.township_id)


def update_person(uow, person_id: str, **changes) -> dict:
    person = uow.get(Person, person_id, "person")
    before = (bool(person.active), list(person.roles or []), person.window_id)
    if "roles" in changes and changes["roles"] is not None:
        changes["roles"] = _check_roles(changes["roles"])
    if changes.get("window_id") is not None:
        uow.get(Window, changes["window_id"], "window")
    if changes.get("department_id") is not None:
        uow.get(Department, changes["department_id"], "department")
    for key, value in changes.items():
        if value is not None and key in {"name", "roles", "window_id", "department_id", "phone",
                                          "badge_no", "home_unit", "active"}:
            setattr(person, key, value)
    uow.session.flush()
    access = None
    if before != (bool(person.active), list(person.roles or []), person.window_id):
        access = accounts.person_rights_changed(uow, person)  # DOMAIN "Accounts": tokens follow the person
    record = _announce(uow, "person", person, "updated", uow.township_id)
    return {**record, "access": access} if access else record


def set_ab_pair(uow, window_id: str, a_person_id: str, b_person_id: str) -> dict:
    """C7: every window has an A and a B clerk, two different people of this township."""
    if a_person_id == b_person_id:
        raise ValidationFailed("A and B must be different people", {"b_person_id": ["same as A"]})
    window = uow.get(Window, window_id, "window")
    for pid in (a_person_id, b_person_id):
        person = uow.get(Person, pid, "person")
        if not person.active:
            raise ValidationFailed(f"person {pid} is not active", {"person_id": ["inactive"]})
    window.a_person_id, window.b_person_id = a_person_id, b_person_id
    uow.session.flush()
    return _announce(uow, "window", window, "updated", uow.township_id)


def list_windows(uow) -> list[dict]:
    return [shared(contract.Window).dump(w) for w in uow.scalars(select(Window).order_by(Window.number))]


def list_departments(uow) -> list[dict]:
    return shared(contract.Department, many=True).dump(uow.scalars(select(Department).order_by(Department.name)))


def list_people(uow, full: bool = False) -> list[dict]:
    return [shared(contract.Person, full=full).dump(p) for p in uow.scalars(select(Person).order_by(Person.name))]


def get_person(uow, person_id: str, full: bool = False) -> dict:
    return shared(contract.Person, full=full).dump(uow.get(Person, person_id, "person"))


def remove_from_window(uow, person: Person, reason: str, fault_id: str | None = None) -> dict:
    """S6 removal from the window (调离窗口), at once: the person leaves their window and its A/B
    post (the other post holds their cases: ``staff.removed_from_window`` names it for cases, and
    the directors to be told), gets no new cases and leaves the public on-duty list (T1)."""
    window = uow.session.get(Window, person.window_id) if person.window_id else None
    partner = post = None
    if window is not None:
        if window.a_person_id == person.id:
            partner, window.a_person_id, post = window.b_person_id, None, "A"
        elif window.b_person_id == person.id:
            partner, window.b_person_id, post = window.a_person_id, None, "B"
    directors = sorted(p.id for p in uow.scalars(select(Person).where(Person.active.is_(True)))
                       if "director" in (p.roles or []))
    person.window_id = None
    uow.session.flush()
    accounts.person_rights_changed(uow, person)  # DOMAIN "Accounts": the person's tokens go stale too
    if window is not None:
        _announce(uow, "window", window, "updated", uow.township_id)
    _announce(uow, "person", person, "updated", uow.township_id)
    uow.emit("staff.removed_from_window", person_id=person.id, window_id=window.id if window else None,
             partner_person_id=partner, director_person_ids=directors, fault_id=fault_id, reason=reason)
    return {"person_id": person.id, "window_id": window.id if window else None, "partner_person_id": partner,
            "post": post}


def restore_to_window(uow, person: Person, window_id: str | None, post: str | None) -> dict | None:
    """S6, the removal in reverse (an appeal lowered the measure below removal): the person is
    back at the window they were removed from, and on their A/B post if it is still vacant; their
    tokens go stale (``staff.access_changed``) and the roster copies are told, as on any return
    to a window. Not if the window is gone or they have since been placed elsewhere (None)."""
    window = uow.session.get(Window, window_id) if window_id else None
    if window is None or person.window_id is not None or not person.active:
        return None
    person.window_id = window.id
    if post == "A" and window.a_person_id is None:
        window.a_person_id = person.id
    elif post == "B" and window.b_person_id is None:
        window.b_person_id = person.id
    uow.session.flush()
    accounts.person_rights_changed(uow, person)
    _announce(uow, "window", window, "updated", uow.township_id)
    _announce(uow, "person", person, "updated", uow.township_id)
    return {"person_id": person.id, "window_id": window.id,
            "post": post if person.id in (window.a_person_id, window.b_person_id) else None}


def away_today(uow, now=None) -> set[str]:
    """T1: people not on duty today although at a window — on approved leave now (not back), or
    recorded absent today (an absence from the post beyond the limit, a proxy sign-in)."""
    from .models import AttendanceDay, AttendanceIncident, Leave
    from .periods import local_today
    from .rules import RULES

    now = now or uow.now()
    today = local_today(uow)
    away = {lv.person_id for lv in uow.scalars(select(Leave).where(
        Leave.state == "approved", Leave.starts_at <= now, Leave.ends_at > now, Leave.returned_at.is_(None)))}
    away |= {d.person_id for d in uow.scalars(select(AttendanceDay).where(
        AttendanceDay.day == today, AttendanceDay.status == "absent", AttendanceDay.excused.is_(False)))}
    limit = RULES.load(uow)["away_limit_minutes"]
    for inc in uow.scalars(select(AttendanceIncident).where(AttendanceIncident.day == today)):
        if inc.kind == "proxy":
            away |= {inc.person_id, inc.other_person_id}
        elif (inc.minutes or 0) > limit:
            away.add(inc.person_id)
    return away


def staff_on_duty(uow) -> list[dict]:
    """T1: public — name, window, badge of the active window staff on duty today: not people
    removed from the window (S6), on leave, or recorded absent today."""
    windows = {w.id: w for w in uow.scalars(select(Window))}
    away = away_today(uow)
    on_duty = []
    for p in uow.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.name)):
        if p.id in away:
            continue
        if p.window_id and p.window_id in windows:
            w = windows[p.window_id]
            on_duty.append({"name": p.name, "badge_no": p.badge_no, "window": w.number, "window_name": w.name})
    return shared(contract.OnDuty, many=True).dump(on_duty)


# -- calendar ----------------------------------------------------------------

def change_calendar(uow, scope: str, days=(), cleared=(), loaded_year=None) -> dict:
    """Overrides of the working-day calendar: national (operator) or one township's.

    Applied to staff's own copy and announced (``staff.calendar_changed``) so every service's
    copy follows without a restart."""
    parsed = []
    for i, entry in enumerate(days or []):
        try:
            day = date.fromisoformat(str(entry["day"]))
        except (KeyError, ValueError):
            raise field_error(f"days[{i}].day", "an ISO date is required") from None
        if "working" not in entry or not isinstance(entry["working"], bool):
            raise field_error(f"days[{i}].working", "true or false is required")
        parsed.append({"day": day.isoformat(), "working": entry["working"], "note": entry.get("note")})
    if loaded_year is not None and not 2000 <= int(loaded_year) <= 2100:
        raise field_error("loaded_year", "a year between 2000 and 2100")
    change = {"scope": scope, "days": parsed, "cleared": [str(d) for d in cleared or []],
              "loaded_year": loaded_year}
    apply_calendar_change(uow.session, uow.common, change, uow.now())
    uow.emit("staff.calendar_changed", township_id=scope, **change)
    return change


def calendar_answer(uow, township_id: str | None, day: date) -> dict:
    cal = load_calendar(uow.session, uow.common, township_id)
    return shared(CalendarAnswer).dump({"day": day, "working": cal.is_working_day(day), "provisional": cal.is_provisional(day)})


def organisation_snapshot(uow) -> dict:
    """Everything other services keep a read copy of, for one township (uow bound to it)."""
    township = get_township(uow, uow.township_id)
    return {
        "township": shared(contract.Township).dump(township),
        "departments": list_departments(uow),
        "windows": list_windows(uow),
        "people": list_people(uow, full=False),
    }
