"""Rules are data (DOMAIN intro): the cases service's per-township settings and defaults."""
from __future__ import annotations

from services.common.tenancy import DECIDERS, LEADERS
from services.common.settings import Rule, RuleBook, boolean, integer

APPROVER_CHOICES = DECIDERS
PROCEDURES = ("hearing", "tendering", "auction", "testing", "inspection", "quarantine",
              "appraisal", "expert_review")


def roles_among(*choices):
    return lambda v: isinstance(v, list) and bool(v) and all(r in choices for r in v)


def optional_days(v) -> bool:
    return v is None or (isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 60)


def hhmm(v) -> bool:
    import re

    return isinstance(v, str) and bool(re.match(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", v))


def subset_of(*choices):
    return lambda v: isinstance(v, list) and all(x in choices for x in v)



RULES = RuleBook({
    # C4 一审一核
    "reviewer_roles": Rule(["clerk"], roles_among("clerk", *APPROVER_CHOICES),
                           "roles that may review a case (also: a clerk of the case's window)"),
    "approver_roles": Rule(list(APPROVER_CHOICES), roles_among(*APPROVER_CHOICES),
                           "roles that may approve (decide) a case — a different person from the reviewer"),
    "major_rejection_roles": Rule(list(LEADERS), roles_among(*APPROVER_CHOICES),
                                  "who may sign off the rejection of a major or difficult matter (I5 不得擅自否决)"),
    # C3 延期
    "extension_approver_roles": Rule(["director"], roles_among(*APPROVER_CHOICES),
                                     "who approves the one extension of a case (C3, default the director)"),
    "extension_max_days": Rule(None, optional_days,
                               "most working days of an extension; null = the item's promised days (C3)"),
    # C5/C6
    "reminder_working_days": Rule(1, integer(0, 10), "working days before the deadline a reminder goes out (C5)"),
    "tacit_approval_enabled": Rule(False, boolean,
                                   "township switch for tacit approval (C6); items may opt out"),
    "tacit_approval_kinds": Rule(["promised"], subset_of("promised", "joint", "escalated", "immediate"),
                                 "case kinds tacit approval applies to (C6: promised cases)"),
    # I5 escalated / immediate
    "escalation_silence_days": Rule(15, integer(1, 90),
                                    "calendar days of silence from above before an explanation is due (I5, Art. 203)"),
    "immediate_target_minutes": Rule(30, integer(5, 480), "target for an immediate case (I5: 30 minutes)"),
    "hall_opens_at": Rule("08:00", hhmm, "the hall's opening time: an immediate case received while it was closed "
                                         "is targeted from it on the day it is accepted (C2a, I5)"),
    # C11
    "special_procedures": Rule(list(PROCEDURES), subset_of(*PROCEDURES),
                               "procedures that pause the clock (C11, 行政许可法 Art. 45)"),
    # C10
    "reconsideration_roles": Rule(list(LEADERS), roles_among(*APPROVER_CHOICES),
                                  "who decides a review (复核) of a rejection or a return (C10)"),
    "review_working_days": Rule(5, integer(1, 30), "working days within which a review is decided (C10)"),
    "review_reminder_working_days": Rule(1, integer(0, 10),
                                         "working days before a review's deadline its deciders are reminded (C10)"),
})
