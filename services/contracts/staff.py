"""What the staff service answers (DOMAIN S1–S8 and the organisation): one schema per
resource. Used by services/staff to serialise and by gateway/routes (core, staff) to document."""
from __future__ import annotations

from marshmallow import fields

from services.common.clock import DEFAULT_TZ

from . import (Bool, Day, Id, Int, Many, MaskedPhone, Moment, Num, Obj, One, Out, Ref, Str, Strings)


# -- organisation ---------------------------------------------------------------------

class Township(Out):
    id = Id()
    code = Str()
    name = Str()
    timezone = Str(metadata={"example": DEFAULT_TZ})
    settings = Obj()


class Department(Out):
    id = Id()
    name = Str()


class Window(Out):
    id = Id()
    number = Int()
    name = Str()
    department_id = Ref()
    a_person_id = Ref(metadata={"description": "the A clerk (C7)"})
    b_person_id = Ref(metadata={"description": "the B clerk (C7)"})
    fee_window = Bool(metadata={"description": "the township's fee window: fees are taken here only (C8)"})


class Person(Out):
    """A person of the township. ``phone`` is masked (138****5678) unless the caller is a
    director, a deputy director or the person (P2)."""

    id = Id()
    name = Str()
    badge_no = Str(null=True)
    home_unit = Str(null=True)
    window_id = Ref()
    department_id = Ref()
    roles = Strings()
    active = Bool()
    phone = MaskedPhone(required=True, allow_none=True)


class TownshipCreated(Out):
    township = One(Township)
    director = One(Person)
    director_account = fields.Nested(lambda: AccountCode, metadata={
        "description": "the director's user name and one-time activation code (POST /accounts/activation)"})


class OnDuty(Out):
    """T1: what the public sees of the staff on duty."""

    name = Str()
    badge_no = Str(null=True)
    window = Int()
    window_name = Str()


class AccountCode(Out):
    """A person's (or operator's) account, opened: the one-time activation code is shown only here."""

    account_id = Id()
    username = Str(metadata={"example": "wang.xiaoyan"})
    activation_code = Str(metadata={"description": "one-time; the person sets a password with it"})
    code_expires_at = Moment()


class Activated(Out):
    username = Str()
    activated = Bool()


class Session(Out):
    token = Str(metadata={"description": "the access token; 8 hours at most, never past local midnight"})
    expires_at = Moment()
    roles = Strings()
    township_id = Ref()
    person_id = Ref()


class ApiKey(Out):
    """A machine's key (kiosk, display screen, county system): explicit roles, ≤ 90 days."""

    id = Id()
    name = Str(metadata={"example": "大厅显示屏"})
    roles = Strings()
    created_at = Moment()
    created_by = Ref()
    expires_at = Moment()
    revoked_at = Moment(null=True)
    active = Bool()
    version = Int()


class ApiKeyIssued(Out):
    token = Str(metadata={"description": "the key's bearer token; shown only in this answer"})
    id = Id()
    name = Str()
    expires_at = Moment()
    roles = Strings()


class TownshipAccess(Out):
    id = Id()
    code = Str()
    suspended = Bool()
    version = Int()


class PasswordChanged(Out):
    changed = Bool()


class SignedOut(Out):
    signed_out = Bool()


# -- S1 roster ------------------------------------------------------------------------

class RosterEntry(Out):
    person_id = Id()
    name = Str()
    badge_no = Str(null=True)
    roles = Strings()
    home_unit = Str(null=True)
    active = Bool()
    window_id = Ref()
    window = Int(null=True)
    window_name = Str(null=True)
    department = Str(null=True)
    post = Str(null=True, metadata={"description": "A or B (C7), or null"})
    partner_person_id = Ref()
    phone = MaskedPhone(required=True, allow_none=True)


# -- S2 attendance --------------------------------------------------------------------

class AttendanceMark(Out):
    id = Id()
    person_id = Id()
    kind = Str(metadata={"description": "in or out"})
    at = Moment()
    day = Day()
    half = Str(metadata={"description": "am or pm"})


class ArrangedDuty(Out):
    """S4/C2a: work the director arranged on a day the hall is closed (overtime when done)."""
    id = Id()
    person_id = Id()
    day = Day()
    arranged_by = Ref()
    note = Str(null=True)


class AttendanceIncident(Out):
    id = Id()
    kind = Str(metadata={"description": "away or proxy"})
    person_id = Id()
    other_person_id = Ref()
    day = Day()
    half = Str()
    minutes = Int(null=True)


class AttendanceDayClosed(Out):
    day = Day()
    working_day = Bool(null=True, metadata={"description": "null while the day's calendar is provisional"})
    provisional = Bool()
    people = Int()
    absent = Int()
    late_or_early = Int()
    accumulated = Int()
    overtime = Int()


class AttendanceSheetRow(Out):
    person_id = Id()
    name = Str()
    badge_no = Str(null=True)
    window = Int(null=True)
    days = Obj(metadata={"description": "day → half (am/pm) → {status, id, excused}"})
    late = Int()
    early = Int()
    absent_halves = Int()
    accumulated = Int()
    leave_halves = Int()


class AttendanceSheet(Out):
    week_start = Day()
    working_days = fields.List(Day(), required=True)
    closed_days = fields.List(Day(), required=True)
    published_at = Moment(null=True)
    objection_until = Day(null=True)
    people = Many(AttendanceSheetRow)


class AttendancePublication(Out):
    week_start = Day()
    published_at = Moment()
    objection_until = Day()


class AttendanceObjection(Out):
    id = Id()
    attendance_day_id = Id()
    person_id = Id()
    reason = Str()
    state = Str(metadata={"description": "open, accepted or rejected"})
    decided_by = Ref()


# -- S3 leave -------------------------------------------------------------------------

class LeaveCertificate(Out):
    """S3: a sick leave's hospital certificate (county level or above)."""

    issuer = Str(metadata={"example": "县人民医院"})
    issuer_level = Str(metadata={"example": "county"})
    issued_on = Day()
    document_ref = Str(metadata={"description": "where the scanned document is kept", "example": "scan/2025/0042.pdf"})
    recorded_by = Ref()


class Leave(Out):
    id = Id()
    person_id = Id()
    starts_at = Moment()
    ends_at = Moment()
    reason = Str(null=True)
    level = Str(metadata={"description": "who approves it, by its length (S3)"})
    length_days = Num()
    substitute_person_id = Ref()
    home_unit_endorsed = Bool()
    state = Str()
    decided_by = Ref()
    decided_at = Moment(null=True)
    decision_note = Str(null=True)
    returned_at = Moment(null=True)
    kind = Str(metadata={"description": "personal (事假) or sick (病假: needs a certificate, S3)"})
    certificate = One(LeaveCertificate, null=True)


# -- S4 scoring, S5 grades, S7 honours ------------------------------------------------

class ScoreRule(Out):
    code = Id()
    category = Str()
    points = Int()
    description = Str()
    active = Bool()


class ScoreEntry(Out):
    id = Id()
    person_id = Id()
    rule_code = Str()
    category = Str()
    points = Int()
    day = Day()
    quarter = Str()
    source = Str()
    reason = Str(null=True)
    recorded_by = Ref()
    window_id = Ref(metadata={"description": "the window the entry counts against"})
    substitute_leave_id = Ref(metadata={"description": "S3: the leave the person stood in for (顶岗): the "
                                                       "entry is charged to that window"})


class PeerReview(Out):
    id = Id()
    quarter = Str()
    person_id = Id()
    level = Str()


class ScoreboardRow(Out):
    person_id = Id()
    name = Str()
    badge_no = Str(null=True)
    window_id = Ref()
    window = Int(null=True)
    home_unit = Str(null=True)
    centre_score = Num()
    categories = Obj(metadata={"description": "category → {cap, deducted, counted, score}"})
    credits = Num()
    deducted = Num()
    ratings = Num(null=True)
    ratings_count = Int()
    peer = Num(null=True)
    peer_count = Int()
    composite = Num()
    complaints = Int()
    year_complaints = Int(metadata={"description": "verified complaints from 1 Jan to the quarter's end (S5 veto)"})
    overdue = Int()
    violations = Int()
    year_deducted = Num()
    rank = Int()
    vetoed = Bool(metadata={"description": "a verified complaint this year bars 优秀 (S5 一票否决, the rest of the year)"})
    grade = Str()
    award_eligible = Bool(metadata={"description": "at most 60 points deducted this year: else no awards, "
                                                   "no honours and no 优秀 (S5/S7)"})
    return_to_home_unit = Bool()


class Scoreboard(Out):
    quarter = Str()
    rows = Many(ScoreboardRow)


class HomeUnitNotice(Out):
    id = Id()
    person_id = Id()
    kind = Str()
    cause = Str()
    home_unit = Str(null=True)
    created_at = Moment()


class QuarterClosed(Out):
    quarter = Str()
    returned = Strings(metadata={"description": "ids of the people flagged for return to their home unit (S5)"})


class HonouredWindow(Out):
    window_id = Id()
    number = Int()
    name = Str()
    score = Num()


class HonouredPerson(Out):
    person_id = Id()
    name = Str()
    window = Int(null=True)
    composite = Num()


class Honours(Out):
    quarter = Str()
    red_flag_windows = Many(HonouredWindow)
    service_models = Many(HonouredPerson)
    advanced_individuals = Many(HonouredPerson)
    tie_rule = Str()


# -- S2 year tally, S5 year-end board (年终总评) -----------------------------------------

class YearTallyRow(Out):
    person_id = Id()
    name = Str()
    badge_no = Str(null=True)
    leave_days = Num(metadata={"description": "approved sick and personal leave in the year, working days (S2/S3)"})
    absence_days = Num(metadata={"description": "absence (旷工) in the year: a half-day ½, a 5-lates day 1 (S2)"})
    award_forfeited = Bool(metadata={"description": "leave over 90 days or absence of 30 days or more: "
                                                    "no assessment award this year (S2 考核奖)"})
    forfeit_reasons = Strings(metadata={"description": "leave, absence"})


class YearTally(Out):
    year = Int()
    leave_max_days = Num()
    absence_forfeit_days = Num()
    rows = Many(YearTallyRow)


class YearQuarterGrade(Out):
    quarter = Str()
    composite = Num()
    grade = Str()


class YearHonour(Out):
    quarter = Str()
    honour = Str(metadata={"description": "red_flag_window, service_model or advanced_individual (S7)"})


class YearEndRow(Out):
    person_id = Id()
    name = Str()
    badge_no = Str(null=True)
    window_id = Ref()
    window = Int(null=True)
    home_unit = Str(null=True)
    quarters = Many(YearQuarterGrade)
    quarter_mean = Num(null=True)
    honours = Many(YearHonour)
    honour_points = Num(metadata={"description": "3 for each quarterly honour (S5, seed 004)"})
    year_score = Num(metadata={"description": "mean of the quarters' composites + honour points (S5)"})
    rank = Int()
    grade = Str()
    year_complaints = Int()
    vetoed = Bool(metadata={"description": "a verified complaint in the year bars 优秀 (S5 一票否决)"})
    year_deducted = Num()
    award_eligible = Bool(metadata={"description": "at most 60 points deducted in the year (S5/S7)"})
    leave_days = Num()
    absence_days = Num()
    assessment_award = Bool(metadata={"description": "the year's assessment award (考核奖) stands (S2, S5)"})
    award_forfeit_reasons = Strings(metadata={"description": "leave, absence, deductions"})
    honours_eligible = Bool(metadata={"description": "may be chosen for the year's honours (评先评优)"})
    honours_barred_by = Strings(metadata={"description": "complaint, deductions, window_unfit (S5)"})
    sanctions = Strings(metadata={"description": "ids of the year's disciplinary sanctions (S6)"})
    return_to_home_unit = Bool()
    return_causes = Strings(metadata={"description": "unfit_year, sanction (S5, seed 004)"})


class YearWindowQuarter(Out):
    quarter = Str()
    score = Num()
    grade = Str()


class YearEndWindow(Out):
    window_id = Id()
    number = Int()
    name = Str()
    quarters = Many(YearWindowQuarter)
    unfit_quarters = Int()
    year_unfit = Bool(metadata={"description": "two 不称职 quarters: the window is 不称职 for the year and its "
                                               "staff lose the year's honours (S5, seed 004)"})


class YearEndBoard(Out):
    year = Int()
    final = Bool(metadata={"description": "the year is over in the township's zone"})
    quarters = Strings()
    rows = Many(YearEndRow)
    windows = Many(YearEndWindow)


class YearClosed(Out):
    year = Int()
    returned = Strings(metadata={"description": "ids of the people newly recorded for return to their home unit"})


# -- S6 accountability ----------------------------------------------------------------

class AccountabilityCase(Out):
    id = Id()
    person_id = Id()
    kind = Str()
    severity = Str()
    self_reported = Bool()
    prior_faults = Int()
    measure = Str()
    removed_from_window = Bool()
    facts = Str()
    day = Day()
    notified_on = Day(null=True, metadata={"description": "the person was notified of the decision (S6)"})
    appeal_until = Day(metadata={"description": "last day to appeal: 30 working days after notification (S6)"})
    appeal_state = Str(null=True)
    appeal_reason = Str(null=True)
    revised_measure = Str(null=True)
    removed_window_id = Ref(metadata={"description": "the window the removal took the person from (S6)"})
    restored_at = Moment(null=True, metadata={"description": "an appeal lowered the measure: back at the window (S6)"})


# -- S8 patrols -----------------------------------------------------------------------

class PatrolFinding(Out):
    id = Id()
    person_id = Id()
    rule_code = Str()
    note = Str(null=True)


class Patrol(Out):
    id = Id()
    day = Day()
    half = Str()
    inspector_id = Id()
    note = Str(null=True)
    findings = Many(PatrolFinding)


# -- issue 12: study sessions and meetings (S2), home-unit reports (S2), windows (S3) ------

class SessionRecord(Out):
    """One person at a session: present, late, or absent (excused or not, and why)."""

    person_id = Id()
    name = Str()
    status = Str(metadata={"example": "absent"})
    excused = Bool()
    reason = Str(null=True)
    points = Int(metadata={"description": "what the record cost (S4): 0, the late rule or the absence rule"})


class StudySession(Out):
    """S2: a study session (学习) or staff meeting (例会) and who attended."""

    id = Id()
    kind = Str(metadata={"example": "study"})
    topic = Str()
    location = Str(null=True)
    starts_at = Moment()
    ends_at = Moment()
    day = Day()
    scheduled_by = Ref()
    attendance = Many(SessionRecord)


class HomeUnitPerson(Out):
    """One person's month for their home unit (S2): attendance and scores."""

    person_id = Id()
    name = Str()
    badge_no = Str(null=True)
    window = Int(null=True)
    late = Int()
    early = Int()
    absent_halves = Int()
    accumulated_days = Int(metadata={"description": "days of absence added by the 5-lates rule"})
    leave_halves = Int()
    sessions_attended = Int()
    sessions_late = Int(metadata={"description": "sessions arrived late at or left early"})
    sessions_absent_excused = Int()
    sessions_absent_unexcused = Int(metadata={"description": "counts as absence (S2)"})
    deducted = Int(metadata={"description": "points deducted in the month (before caps)"})
    credits = Int()
    quarter_score = Num(metadata={"description": "the quarter's centre score to the month's end (S4)"})


class HomeUnitMonth(Out):
    home_unit = Str()
    report_id = Str(null=True, metadata={"description": "set once the report is sent"})
    sent_at = Moment(null=True)
    people = Many(HomeUnitPerson)


class HomeUnitReports(Out):
    """S2: each home unit's people, attendance and scores for a month."""

    month = Str(metadata={"example": "2025-03"})
    units = Many(HomeUnitMonth)


class HomeUnitReportsSent(Out):
    month = Str()
    sent = Strings(metadata={"description": "home units sent now"})
    already_sent = Strings()


class WindowScore(Out):
    window_id = Id()
    number = Int()
    name = Str()
    staff = Int()
    staff_mean = Num(null=True)
    substitute_points = Int(metadata={"description": "points charged by substitutes standing in (S3)"})
    substitute_violations = Int()
    score = Num(null=True)


class WindowScores(Out):
    quarter = Str()
    windows = Many(WindowScore)
