"""Events published by ``services/staff``."""
from marshmallow import fields

from .base import Envelope, register


@register("staff.calendar_changed")
class CalendarChanged(Envelope):
    scope = fields.String(required=True)  # township id or "*" (national)
    days = fields.List(fields.Dict(), load_default=list)  # [{day, working, note}]
    cleared = fields.List(fields.String(), load_default=list)
    loaded_year = fields.Integer(allow_none=True, load_default=None)


@register("staff.access_changed")
class AccessChanged(Envelope):
    """An account's (or a whole township's) rights changed: deactivation, roles, window,
    sign-out, password, a key revoked, a township suspended. Tokens carry the version they
    were issued under; gateways refuse older ones (DOMAIN "Accounts"). Never carries a
    password, code or token."""

    subject = fields.String(required=True)  # "account" or "township"
    subject_id = fields.String(required=True)
    version = fields.Integer(required=True)
    active = fields.Boolean(required=True)


@register("staff.organisation_changed")
class OrganisationChanged(Envelope):
    """A township, department, window, person, role, A/B pair or hours changed.

    ``entity`` is one of township, department, window, person; ``data`` is the entity's
    public record as staff now holds it (no personal data beyond name and badge)."""

    entity = fields.String(required=True)
    entity_id = fields.String(required=True)
    action = fields.String(required=True)  # created, updated, deactivated
    data = fields.Dict(required=True)


# -- discipline facts cases needs for A/B posts (C7) ---------------------------

@register("staff.leave_approved")
class LeaveApproved(Envelope):
    """A person's leave is approved: from ``starts_at`` they are away (cases hands their
    open cases to the window's other post for the duration)."""

    leave_id = fields.String(required=True)
    person_id = fields.String(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    substitute_person_id = fields.String(allow_none=True, load_default=None)


@register("staff.absence_recorded")
class AbsenceRecorded(Envelope):
    """A person is absent (旷工 or otherwise away without leave) on a day/half-day."""

    person_id = fields.String(required=True)
    day = fields.Date(required=True)
    half = fields.String(required=True)  # "am", "pm" or "day"
    reason = fields.String(allow_none=True, load_default=None)


@register("staff.returned")
class Returned(Envelope):
    """A person is back (销假): cases returns their cases from the B post."""

    person_id = fields.String(required=True)
    leave_id = fields.String(allow_none=True, load_default=None)
    returned_at = fields.DateTime(required=True)


@register("staff.patrol_finding")
class PatrolFinding(Envelope):
    """S8: an inspection found a violation by a person (scored in S4)."""

    finding_id = fields.String(required=True)
    person_id = fields.String(required=True)
    rule_code = fields.String(required=True)
    note = fields.String(allow_none=True, load_default=None)


@register("staff.attendance_settled")
class AttendanceSettled(Envelope):
    """C2: days of a year without calendar data were left open; the year is now loaded and
    they are classified as the loaded calendar says (absences, deductions, hand-overs follow
    only now). ``days`` are the settled days, ``working_days`` those of them that were
    working days."""

    days = fields.List(fields.Date(), required=True)
    working_days = fields.List(fields.Date(), load_default=list)
    absences = fields.Integer(load_default=0)


# -- notices (N1) -----------------------------------------------------------------

@register("staff.home_unit_notified")
class HomeUnitNotified(Envelope):
    """S5/S6: the person's home unit (派出单位) must be told — three violations of one kind in a
    month (``kind`` notice) — or the person is returned to it (``kind`` return): two public
    criticisms in a year, an unfit year (年终考核不称职) or a disciplinary sanction."""

    person_id = fields.String(required=True)
    home_unit = fields.String(allow_none=True, load_default=None)
    kind = fields.String(required=True)  # notice, return
    cause = fields.String(required=True)  # "late:2026-03", "public_criticism:2026", "unfit_year:2026", "sanction:<id>"


@register("staff.week_published")
class WeekPublished(Envelope):
    """S2: a week's attendance sheet is published (每周公示); objections until ``objection_until``."""

    week_start = fields.Date(required=True)
    objection_until = fields.Date(required=True)


@register("staff.removed_from_window")
class RemovedFromWindow(Envelope):
    """S6: a person removed from their window (public criticism or worse), at once: they leave
    the A/B post — ``partner_person_id``, the other post, holds their open cases — get no new
    cases and leave the on-duty list; the directors are told."""

    person_id = fields.String(required=True)
    window_id = fields.String(allow_none=True, load_default=None)
    partner_person_id = fields.String(allow_none=True, load_default=None)
    director_person_ids = fields.List(fields.String(), load_default=list)
    fault_id = fields.String(allow_none=True, load_default=None)
    reason = fields.String(allow_none=True, load_default=None)


@register("staff.home_unit_report_sent")
class HomeUnitReportSent(Envelope):
    """S2: a month's attendance and scores of a home unit's (派出单位) people, to be passed to
    it (notices: the directors acknowledge). ``people``: per person id, the month's figures
    (counts and points; no personal data)."""

    report_id = fields.String(required=True)
    month = fields.String(required=True)  # YYYY-MM
    home_unit = fields.String(required=True)
    people = fields.List(fields.Dict(), required=True)
