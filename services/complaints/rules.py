"""Rules of complaints as data (DOMAIN intro, P3, P5, P6 / C9) and the deadline arithmetic.

Every number is a per-township setting with the default DOMAIN.md gives; the deadline
functions are pure (a ``WorkingCalendar`` and the rules in, a ``Due`` out) so they are
table-tested without a database.
"""
from __future__ import annotations

from datetime import date

from services.common.clock import DEFAULT_TZ
from services.common.calendar import Due, WorkingCalendar
from services.common.settings import Rule, RuleBook, integer, timezone_name
from services.common.tenancy import (
    COMPLAINT_DESK,
    COMPLAINT_READERS,
    DECIDERS,
    IDENTITY_READERS,
    INVESTIGATORS,
    LEADERS,
    ROLES,
)

CHANNELS = ("in_person", "phone", "written", "online")  # P1
CATEGORIES = ("attitude", "argument", "delay", "fee", "bribery", "discipline", "other")
OUTCOMES = ("verified", "not_verified")  # P4
REPLY_FORMS = ("on_the_spot", "phone", "written")  # P3: a written complaint needs "written"
IDENTITY_ROLES = IDENTITY_READERS  # P2: who sees the complainant
READ_ALL_ROLES = COMPLAINT_READERS
INVESTIGATOR_ROLES = INVESTIGATORS
#: P5: who arranges and publishes the leaders' duty roster (中心管理办公室 and the leaders)
ROSTER_ROLES = COMPLAINT_DESK
#: P7: who in a department is asked first to answer a forwarded complaint (else all its people)
DEPARTMENT_HEADS = DECIDERS


def _roles(value) -> bool:
    return (isinstance(value, list) and len(value) > 0
            and all(r in ROLES and r != "operator" for r in value))


RULES = RuleBook({
    "public_submissions_per_hour": Rule(
        5, integer(1, 1000), "online complaints accepted from one client address per hour (then 429)"),
    "simple_reply_working_days": Rule(
        1, integer(0, 5), "P3: a simple complaint is answered on the spot or within this many working days"),
    "complex_reply_calendar_days": Rule(
        7, integer(1, 60), "P3: a complex complaint, or one involving several units, within this many "
                           "calendar days (a non-working last day rolls over, Art. 203)"),
    "petition_reply_working_days": Rule(3, integer(1, 30), "P5: a petition (信访) is answered within N working days"),
    "petition_reception_calendar_days": Rule(
        7, integer(1, 30), "P5: a requested leader reception takes place within N calendar days"),
    "collective_petition_min_persons": Rule(
        5, integer(2, 100), "P5: a petition by at least this many people is collective (leadership told at once)"),
    "follow_up_working_days": Rule(15, integer(1, 60), "P6 / C9: a low rating is called back and rectified within N working days"),
    "low_rating_max": Rule(2, integer(1, 4), "P6 / C9: ratings up to this value open a follow-up"),
    "close_roles": Rule(list(IDENTITY_ROLES), _roles, "P4: roles that may close a complaint"),
    "duty_leader_roles": Rule(list(LEADERS), _roles, "P5: roles of the township leaders who may be on duty "
                                                     "at the centre (带班值班)"),
    "roster_reminder_days": Rule(3, integer(0, 15), "P5: this many days before the month's end, the "
                                                    "publishers are reminded if next month's roster is "
                                                    "unpublished (0: no reminder); after the end, alerted"),
    "forward_answer_working_days": Rule(
        5, integer(1, 30), "P7: a department answers a complaint forwarded to it within N working days"),
    "discipline_body": Rule("上级纪检监察部门", lambda v: isinstance(v, str) and 0 < len(v) <= 100,
                            "P7: the discipline inspection body major complaints are reported to (seed 000)"),
    "timezone": Rule(DEFAULT_TZ, timezone_name, "the township's time zone (local dates, 'next day')"),
})


def complaint_due(cal: WorkingCalendar, received_on: date, *, complex_: bool, several_units: bool,
                  rules: dict) -> Due:
    """P3: simple → by the next working day (setting; 0 = same day); complex or several
    units → N calendar days with the Art. 203 roll-over."""
    if complex_ or several_units:
        return cal.add_calendar_days(received_on, rules["complex_reply_calendar_days"])
    days = rules["simple_reply_working_days"]
    if days == 0:
        return Due(received_on, cal.is_provisional(received_on))
    return cal.add_working_days(received_on, days)


def petition_due(cal: WorkingCalendar, received_on: date, rules: dict) -> Due:
    """P5: reply within N working days (Art. 201 counting)."""
    return cal.add_working_days(received_on, rules["petition_reply_working_days"])


def reception_due(cal: WorkingCalendar, received_on: date, rules: dict) -> Due:
    """P5: leader reception within a week (calendar days, Art. 203 roll-over)."""
    return cal.add_calendar_days(received_on, rules["petition_reception_calendar_days"])


def follow_up_due(cal: WorkingCalendar, rated_on: date, rules: dict) -> Due:
    """P6 / C9: call back and rectify within N working days of the rating."""
    return cal.add_working_days(rated_on, rules["follow_up_working_days"])


def is_collective(persons: int, rules: dict) -> bool:
    return persons >= rules["collective_petition_min_persons"]


def opens_follow_up(rating: int, rules: dict) -> bool:
    return 1 <= rating <= rules["low_rating_max"]


def is_overdue(due_on: date, today: date) -> bool:
    """A period ends at the close of its last day: overdue from the next local day."""
    return today > due_on


def forward_due(cal: WorkingCalendar, forwarded_on: date, rules: dict) -> Due:
    """P7: the department's answer within N working days of the forwarding (Art. 201 counting)."""
    return cal.add_working_days(forwarded_on, rules["forward_answer_working_days"])
