"""Rules are data (DOMAIN intro) for staff discipline, S2–S8.

Two kinds of rule:

* ``RULES`` — the per-township settings (``services.common.settings.RuleBook``) with the
  defaults DOMAIN.md gives; a director changes them at run time with
  ``PATCH /settings/staff``.
* ``SCORE_RULE_SEEDS`` — the S4 rule table (code, category, points, description), seeded
  into each township's ``score_rules`` table the first time it is needed, then edited by a
  director (``PUT /score-rules/<code>``). Sources: seed 004 (十一、目标管理考核办法), seed 003
  (考核细则) and DOMAIN S4 where they differ.
"""
from __future__ import annotations

import re

from services.common.settings import Rule, RuleBook, anything, boolean, integer, number
from services.common.tenancy import DECIDERS, role_set

HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MMDD = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")

#: S4 categories and their caps (seed 004: 15+20+30+10+15+10 = 100).
CATEGORY_CAPS = {
    "服务态度": 15,
    "工作纪律": 20,
    "业务办理": 30,
    "业务技能": 10,
    "计算机管理": 15,
    "环境卫生": 10,
}
CREDIT_CATEGORY = "加分"  # S4: credits form their own category, added on top (uncapped)


def _session(v) -> bool:
    return (isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) and HHMM.match(x) for x in v)
            and v[0] < v[1])


def _caps(v) -> bool:
    return isinstance(v, dict) and v and all(
        isinstance(k, str) and isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 100
        for k, n in v.items())


#: S6/I3 (seed 004): 口头警告, 诫勉谈话, 效能告诫书 with 通报批评 — the measures of the one-time-notice ladder.
NOTICE_LADDER = ("oral_warning", "admonition_talk", "efficiency_warning")


def _ladder(v) -> bool:
    return isinstance(v, list) and 1 <= len(v) <= 10 and all(x in NOTICE_LADDER for x in v)


def _roles(v) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _code(v) -> bool:
    return isinstance(v, str) and 0 < len(v) <= 40


def _mmdd(v) -> bool:
    return isinstance(v, str) and bool(MMDD.match(v))


RULES = RuleBook({
    # -- S2 attendance --------------------------------------------------------------
    "hours_am": Rule(["08:00", "12:00"], _session, "morning session [start, end] HH:MM (S2)"),
    "hours_pm": Rule(["14:30", "17:30"], _session, "afternoon session [start, end] HH:MM (S2)"),
    "summer_hours_pm": Rule(["15:00", "18:00"], _session, "summer afternoon session (S2, seed 004 夏令时)"),
    "summer_from": Rule("05-01", _mmdd, "first day (MM-DD) of summer hours"),
    "summer_to": Rule("09-30", _mmdd, "last day (MM-DD) of summer hours"),
    "late_grace_minutes": Rule(20, integer(0, 120), "sign-in more than this after the start = late (S2)"),
    "early_grace_minutes": Rule(20, integer(0, 120), "sign-out more than this before the end = early leave (S2)"),
    "away_limit_minutes": Rule(60, integer(1, 480), "away without leave more than this = absence (S2)"),
    "lates_per_absence_day": Rule(5, integer(1, 100),
                                  "every Nth late or early leave in a calendar month adds a day's absence (S2)"),
    "objection_working_days": Rule(2, integer(0, 30), "objections to the weekly sheet within N working days (S2)"),
    "attendance_roles": Rule(list(role_set("clerk", "section_head")), _roles, "roles whose attendance is kept (S2)"),
    "year_leave_max_days": Rule(90, number(0, 366),
                                "sick and personal leave over this many (working) days in a year forfeits the "
                                "year's assessment award (S2 考核奖, seed 000)"),
    "year_absence_forfeit_days": Rule(30, number(0, 366),
                                      "this many days of absence (旷工) or more in a year forfeit the year's "
                                      "assessment award (S2, seed 000)"),
    # -- S3 leave -----------------------------------------------------------------
    "leave_oral_max_minutes": Rule(60, integer(0, 480), "leave under this is an oral notice (S3)"),
    "leave_section_head_max_days": Rule(1, number(0, 30), "up to this many days: section head approves (S3)"),
    "leave_deputy_max_days": Rule(3, number(0, 60), "up to this many days: deputy director approves; over: director (S3)"),
    "leave_day_hours": Rule(7, number(1, 24), "working hours in a day (to measure part-day leave) (S3)"),
    "substitute_from_hours": Rule(3, number(0, 24), "leave of at least this (half a day) needs a substitute (S3)"),
    "substitute_max_days": Rule(31, integer(1, 366), "a substitute serves at most this many days (S3)"),
    "home_unit_endorsement_over_days": Rule(1, number(0, 60),
                                            "leave over this many days needs the home unit's endorsement (S3)"),
    "leave_approvers": Rule({
        "section_head": list(DECIDERS),
        "deputy_director": list(role_set("deputy_director", "director")),
        "director": ["director"],
    }, lambda v: isinstance(v, dict) and all(_roles(x) for x in v.values()),
        "who may approve each level of leave (S3)"),
    # -- S4 scoring ---------------------------------------------------------------
    "base_points": Rule(100, integer(0, 1000), "a quarter starts at this many points (S4)"),
    "category_caps": Rule(dict(CATEGORY_CAPS), _caps, "deduction categories and their caps (S4)"),
    "complaint_category_rules": Rule({"argument": "argument", "bribery": "bribery"},
                                     lambda v: isinstance(v, dict),
                                     "complaint category → score rule code; others use complaint_verified (S4)"),
    # -- S5 grades ----------------------------------------------------------------
    "weight_centre": Rule(0.6, number(0, 1), "composite weight of the centre score (S5)"),
    "weight_ratings": Rule(0.2, number(0, 1), "composite weight of applicant ratings (S5)"),
    "weight_peer": Rule(0.2, number(0, 1), "composite weight of peer review (S5)"),
    "rating_points": Rule({"5": 95, "4": 90, "3": 80, "2": 50, "1": 50}, lambda v: isinstance(v, dict),
                          "applicant rating 1–5 → points (S5, seed 004)"),
    "peer_points": Rule({"好": 95, "较好": 90, "一般": 80, "差": 50}, lambda v: isinstance(v, dict),
                        "peer review level → points (S5)"),
    "grade_excellent": Rule(90, number(0, 200), "composite ≥ this: 优秀 (S5)"),
    "grade_competent": Rule(70, number(0, 200), "composite ≥ this: 称职 (S5)"),
    "grade_basic": Rule(60, number(0, 200), "composite ≥ this: 基本称职; below: 不称职 (S5)"),
    "excellent_top_n": Rule(0, integer(0, 100), "优秀 also needs a rank within the top N (0 = off; seed 003 says 2)"),
    "complaint_veto": Rule(True, boolean,
                           "a verified complaint bars 优秀 that quarter and the rest of the year (S5 一票否决)"),
    "unfit_quarters_to_return": Rule(2, integer(1, 8), "this many 不称职 quarters in a row → returned (S5)"),
    "award_max_year_deduction": Rule(60, integer(0, 1000),
                                     "more points deducted in a year → no awards, no honours, no 优秀 from then on (S5/S7)"),
    "yearend_honour_points": Rule(3, number(0, 100),
                                  "each quarterly honour adds this to the year-end assessment (S5, seed 004)"),
    "window_unfit_quarters": Rule(2, integer(1, 4),
                                  "a window with this many 不称职 quarters in a year: its staff lose that year's "
                                  "honours (S5, seed 004)"),
    # -- S6 accountability -----------------------------------------------------------
    "notice_ladder": Rule(list(NOTICE_LADDER), _ladder,
                          "I3 violations of a person, 1st, 2nd, 3rd…: the measure of each; later ones take the "
                          "last (S6, seed 004)"),
    "notice_ladder_per_year": Rule(True, boolean,
                                   "the I3 ladder counts a person's violations in the calendar year (off: ever) (S6)"),
    "same_kind_per_month_notice": Rule(3, integer(1, 100),
                                       "violations of one kind in a month → home unit notified (S6)"),
    "public_criticisms_to_return": Rule(2, integer(1, 10), "public criticisms in a year → returned (S6)"),
    "appeal_days": Rule(30, integer(1, 365),
                        "appeal within N working days of being notified of the decision (S6, seed 004)"),
    # -- S7 honours ---------------------------------------------------------------
    "honour_min_composite": Rule(90, number(0, 200), "honours only at or above this composite (S7)"),
    "honour_red_flag_windows": Rule(1, integer(0, 10), "red-flag windows a quarter (S7)"),
    "honour_service_models": Rule(1, integer(0, 10), "service models a quarter (S7)"),
    "honour_advanced": Rule(3, integer(0, 20), "advanced individuals a quarter (S7)"),
    "notes": Rule(None, anything, "free text"),
    # -- issue 12: S2 study sessions and meetings, monthly home-unit report; S3 certificates --
    "meeting_absence_rule": Rule("absence_half", _code,
                                 "score rule for missing a study session or meeting without leave "
                                 "(S2: counts as absence, seeds 000/002 按旷工论处)"),
    "meeting_late_rule": Rule("meeting_late", _code, "score rule for arriving late at a session or meeting (S2)"),
    "home_unit_report_auto": Rule(True, boolean,
                                  "send each month's home-unit reports once its working days are closed (S2)"),
    "sick_certificate_levels": Rule(["county", "city", "province", "national"], _roles,
                                    "issuer levels a sick-leave certificate may have: county or above (S3)"),
})

# code: (category, points, description). Deductions negative, credits positive.
SCORE_RULE_SEEDS = {
    # 工作纪律 (S2 attendance, seed 004 (1)(3); DOMAIN S4)
    "late": ("工作纪律", -1, "迟到（签到晚于上班时间20分钟以上或无签到）"),
    "early_leave": ("工作纪律", -1, "早退（签退早于下班时间20分钟以上或无签退）"),
    "absence_half": ("工作纪律", -3, "旷工半天以内"),
    "absence_day": ("工作纪律", -4, "旷工一天（含累计5次迟到早退记旷工1天）"),
    "empty_post": ("工作纪律", -2, "工作时间无故空岗（巡查）"),
    "phone": ("工作纪律", -3, "工作时间玩手机、游戏或做与工作无关的事（巡查）"),
    "bribery": ("工作纪律", -10, "吃、拿、卡、要"),
    "fee_violation": ("工作纪律", -10, "擅自收费或不按标准收费（C8）"),
    "meeting_late": ("工作纪律", -1, "学习、会议迟到或早退（每次扣1分）"),
    # 服务态度
    "badge": ("服务态度", -1, "未佩戴工作牌（巡查）"),
    "dress": ("服务态度", -1, "衣冠不整、未按规定着装（巡查）"),
    "forbidden_language": ("服务态度", -1, "使用忌语、语言粗俗"),
    "argument": ("服务态度", -5, "与服务对象争吵（经查实）"),
    "complaint_verified": ("服务态度", -5, "被投诉经查实"),
    # 业务办理
    "overdue_case": ("业务办理", -4, "无特殊原因超过承诺时限未办结（C5）"),
    "notice_incomplete": ("业务办理", -3, "未一次性告知所需材料（I3）"),
    # 环境卫生
    "eating": ("环境卫生", -2, "在窗口进餐、吃零食（巡查）"),
    "untidy": ("环境卫生", -1, "窗口物品摆放杂乱、地面有垃圾（巡查）"),
    # 加分 (credits, on top)
    "praise_written": (CREDIT_CATEGORY, 2, "服务对象书面感谢表扬"),
    "praise_media": (CREDIT_CATEGORY, 5, "新闻媒体宣传表扬"),
    "suggestion_adopted": (CREDIT_CATEGORY, 5, "建设性意见建议被采纳"),
    "holiday_overtime": (CREDIT_CATEGORY, 2, "节假日加班（每日）"),
}

#: S8 patrol findings are these rule codes.
PATROL_CODES = ("badge", "dress", "phone", "eating", "empty_post", "untidy")
