"""Intake's rules as data (DOMAIN intro): per-township settings with the defaults DOMAIN gives."""
from __future__ import annotations

from services.common.tenancy import DECIDERS, DESK, STAFF
from services.common.clock import DEFAULT_TZ
from services.common.settings import Rule, RuleBook, integer, timezone_name

SIGNOFF_ROLES = DECIDERS
STAFF_ROLES = STAFF


def _roles(allowed):
    return lambda v: isinstance(v, list) and bool(v) and all(r in allowed for r in v)


def _channels(v) -> bool:
    return isinstance(v, dict) and all(
        isinstance(v.get(k), str) and v.get(k) for k in ("query", "rating", "complaint"))


DEFAULT_CHANNELS = {
    "query": "凭受理编号和查询密码，在本中心网站或大厅自助机查询办理进度（无需登录）",
    "rating": "办结后凭受理编号在窗口评价器或网站评价（好差评，1–5 分）",
    "complaint": "中心管理办公室：现场、电话、书面或网上投诉",
}

def _promises(v) -> bool:
    return (isinstance(v, list) and 1 <= len(v) <= 20
            and all(isinstance(p, str) and 0 < len(p.strip()) <= 200 for p in v))


# T1: 服务承诺 published on the public pages and the hall's display (seed 000, 服务承诺制度)
DEFAULT_PROMISES = [
    "承诺办事程序：来办事时，告知规定的办事程序，并严格按程序办理",
    "承诺办事时限：能立即办结的立即办结，不能立即办结的承诺办结期限",
    "一次性告知：材料不齐时，一次性告知需要补正的全部材料",
    "承诺廉洁办事：不接受吃请，不收受礼品、礼金，不违规收取任何费用",
    "承诺文明办事、依法办事：热情、谦和、有理、有节",
]

RULES = RuleBook({
    "joint_threshold": Rule(2, integer(2, 10),
                            "I5: departments involved at or above which an item is joint (联办件); seeds say 2 or 3"),
    "supplement_notice_days": Rule(5, integer(0, 30),
                                   "C12: working days after the materials arrive to issue the supplement notice"),
    "return_signoff_roles": Rule(list(SIGNOFF_ROLES), _roles(SIGNOFF_ROLES),
                                 "I5: roles that may sign off the return of a major or difficult matter"),
    "receipt_query_max_failures": Rule(5, integer(1, 100),
                                       "I4: wrong receipt queries per number and per client address in the window"),
    "receipt_query_window_minutes": Rule(15, integer(1, 1440),
                                         "I4: the window of the receipt-query guessing limit, in minutes"),
    "escalation_forward_days": Rule(3, integer(1, 30),
                                    "I5: working days after acceptance by which an escalated case (上报件) is "
                                    "forwarded to the upper level — its promise"),
    "immediate_target_minutes": Rule(30, integer(1, 480),
                                     "I5: target for an immediate case (即办件), printed on the receipt"),
    "personal_data_roles": Rule(list(DESK),
                                _roles(STAFF_ROLES),
                                "Personal data: roles that see applicants' ID numbers and phones in full"),
    "receipt_channels": Rule(dict(DEFAULT_CHANNELS), _channels,
                             "I4: query / rating / complaint channels printed on the receipt"),
    "service_promises": Rule(list(DEFAULT_PROMISES), _promises,
                             "T1: service promises (服务承诺) on the public pages and the hall's display"),
    "agent_submission_days": Rule(3, integer(1, 30),
                                  "I6: working days within which a village agent submits what they collected"),
    "agent_submission_max_days": Rule(7, integer(1, 60),
                                      "I6: calendar days the agent's submission never exceeds (seed 001: 不超过一周)"),
    "agent_reminder_days": Rule(1, integer(0, 10),
                                "I6: working days before the agent's deadline when the agent is reminded"),
    "timezone": Rule(DEFAULT_TZ, timezone_name, "The township's time zone for local dates"),
})
