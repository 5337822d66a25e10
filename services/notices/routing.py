"""N1: who must know, for every rule that says remind, alert, notify or tell.

``ROUTES`` maps each consumed event to a plain function ``(uow, event) -> Plan | None`` that
names the recipients from the event-fed copy of staff's organisation (orgcopy) — only active
people of the event's own township, never another township's — and words the notice from the
event's ids, numbers and dates. No applicant or complainant is named (events carry none), and
all text passes ``hide_identifiers`` as a last guard (DOMAIN "Personal data").

| event | rule | to (✓ = must acknowledge) |
|---|---|---|
| cases.case_reminder | C5 | the person holding the case ✓ |
| cases.case_overdue | C5 | the holder ✓, the directors |
| cases.handler_unavailable | C7 | the directors ✓ (both posts of a window away) |
| intake.application_accepted (deemed) | C12 | the accepting clerk ✓, the directors |
| cases.escalation_silent | I5 | the holder ✓, the directors |
| cases.immediate_target_missed | I5 | the directors ✓ |
| cases.review_reminder | C10 | who may decide the review (not the first decider) ✓; overdue: the directors too |
| complaints.leadership_alerted | P3 / P5 | director and deputy directors ✓ |
| complaints.overdue | P3 / P5 | complaint officers ✓, director and deputy directors |
| complaints.duty_roster_missing | P5 | who publishes the roster: director, deputies, complaint officers ✓ |
| complaints.reception_booked | P5 | the leader on duty it is booked to ✓ |
| complaints.complaint_forwarded | P7 | the department's people named ✓ (none known: complaint officers ✓) |
| complaints.forwarding_answered | P7 | complaint officers ✓ (check the answer) |
| complaints.forwarding_overdue | P7 | the department's people named ✓, complaint officers |
| lending.item_lent | L2 | the other posts: guards and security managers but the lender |
| lending.loan_overdue | L4 | the guard on duty ✓ (else every guard) |
| lending.reminder_escalated | L4 | security managers ✓ |
| staff.home_unit_notified | S6 | the directors ✓ (they tell the home unit), the person |
| staff.removed_from_window | S6 / C7 | the directors ✓ ("the director is told"), the other post now holding the cases |
| staff.week_published | S2 | everyone of the township (objections within the period) |
| intake.agent_submission_reminder | I6 | the village agent ✓ |
| intake.agent_submission_overdue | I6 | the village agent ✓, the directors |
| staff.home_unit_report_sent | S2 | the directors ✓ (they pass the month's report to the home unit) |
"""
from __future__ import annotations

from dataclasses import dataclass, field

from services.common.privacy import hide_identifiers
from services.common.tenancy import COMPLAINT_DESK, GATE, LEADERS

from . import orgcopy

ACK, INFO = True, False


@dataclass
class Plan:
    rule: str
    subject_type: str
    subject_id: str | None
    title: str
    body: str
    to: list[tuple[str, bool]] = field(default_factory=list)  # (person_id, must acknowledge)

    def add(self, people, needs_ack: bool) -> "Plan":
        for p in people:
            if p is not None:
                self.to.append((p.id, needs_ack))
        return self

    def recipients(self) -> dict[str, bool]:
        """Each person once; one who is told twice must acknowledge if either asks it."""
        out: dict[str, bool] = {}
        for person_id, needs_ack in self.to:
            out[person_id] = out.get(person_id, False) or needs_ack
        return out

    def clean(self) -> "Plan":
        self.title = hide_identifiers(self.title)[:200]
        self.body = hide_identifiers(self.body)
        return self


def _window(uow, window_id) -> str:
    w = orgcopy.window(uow, window_id)
    return f"{w.number}号窗口（{w.name}）" if w else "窗口"


def _local(uow, moment) -> str:
    """A moment as the township's local time (DOMAIN "Time")."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from .rules import RULES

    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(ZoneInfo(RULES.load(uow)["timezone"])).strftime("%Y-%m-%d %H:%M")


def _directors(uow, extra=()) -> list:
    """The township's directors, and any named in the event who are of this township."""
    found = {p.id: p for p in orgcopy.with_role(uow, "director")}
    for person_id in extra or ():
        p = orgcopy.person(uow, person_id)
        if p is not None:
            found[p.id] = p
    return list(found.values())


def case_reminder(uow, ev):
    return Plan("C5", "case", ev["case_id"], f"催办：{ev['receipt_no']} 将于 {ev['due_date']} 到期",
                f"{_window(uow, ev.get('window_id'))}办件 {ev['receipt_no']} 的承诺期限为 {ev['due_date']}"
                f"{'（暂定，日历未载入）' if ev.get('provisional') else ''}，请按时办结。"
                ).add([orgcopy.person(uow, ev["holder_person_id"])], ACK)


def case_overdue(uow, ev):
    return (Plan("C5", "case", ev["case_id"], f"超期：{ev['receipt_no']} 已超过承诺期限 {ev['due_date']}",
                 f"办件 {ev['receipt_no']} 于 {ev['due_date']} 到期未决定，已计超期一次（C5）。")
            .add([orgcopy.person(uow, ev["handler_person_id"])], ACK).add(_directors(uow), INFO))


def handler_unavailable(uow, ev):
    return Plan("C7", "window", ev.get("window_id"), f"AB岗均不在岗：{_window(uow, ev.get('window_id'))}",
                f"{_window(uow, ev.get('window_id'))}的A岗和B岗均不在岗，{ev['open_cases']} 件在办件无人办理，"
                "请指定办理人（C7）。").add(_directors(uow, ev.get("director_person_ids")), ACK)


def application_accepted(uow, ev):
    if not ev.get("deemed_accepted"):
        return None  # only C12's deemed acceptance must be told
    return (Plan("C12", "application", ev["application_id"], f"视为受理：{ev['receipt_no']}",
                 f"申请（{ev['item_name']}）未在期限内出具补正告知，自材料收到之日 {ev['accepted_on']} 起视为受理"
                 f"（C12），受理号 {ev['receipt_no']}。")
            .add([orgcopy.person(uow, ev["handler_person_id"])], ACK).add(_directors(uow), INFO))


def escalation_silent(uow, ev):
    return (Plan("I5", "case", ev["case_id"], f"上报件无答复：{ev['receipt_no']}",
                 f"上报件 {ev['receipt_no']} 于 {ev['escalated_on']} 报送上级，自 {ev['silent_since']} 起逾期无答复，"
                 "请登记说明（I5）。")
            .add([orgcopy.person(uow, ev["holder_person_id"])], ACK).add(_directors(uow), INFO))


def immediate_target_missed(uow, ev):
    return Plan("I5", "case", ev["case_id"], f"即办件超时：{ev['receipt_no']}",
                f"即办件 {ev['receipt_no']} 超过目标时限仍未办结（I5）。"
                ).add(_directors(uow, ev.get("director_person_ids")), ACK)


def review_reminder(uow, ev):
    what = {"rejection": "不予批准", "return": "退回（不予受理）"}.get(ev["subject"], ev["subject"])
    late = bool(ev.get("overdue"))
    plan = Plan("C10", "review", ev["review_id"],
                f"复核{'超期' if late else '将到期'}：{ev['receipt_no']}（{what}）",
                f"申请人对 {ev['receipt_no']} 的{what}申请复核，应于 {ev['due_date']}"
                f"{'（暂定，日历未载入）' if ev.get('provisional') else ''} 前由原决定人以外的人作出答复"
                f"{'，现已超期' if late else ''}（C10）。"
                ).add([orgcopy.person(uow, p) for p in ev.get("decider_person_ids") or ()], ACK)
    return plan.add(_directors(uow), INFO) if late else plan


def leadership_alerted(uow, ev):
    rule = "P5" if ev["kind"] == "petition" else "P3"
    what = {"collective_petition": f"集体信访（{ev.get('persons') or 1} 人）",
            "major_complaint": "重大投诉"}.get(ev["reason"], ev["reason"])
    return Plan(rule, "complaint", ev["complaint_id"], f"领导关注：{what} {ev['number']}",
                f"{what}，编号 {ev['number']}，请领导及时处理（{rule}）。"
                ).add(orgcopy.with_role(uow, *LEADERS), ACK)


def complaint_overdue(uow, ev):
    rule = "P5" if ev["item_kind"] in ("petition", "reception") else "P3"
    kind = {"complaint": "投诉", "petition": "信访", "reception": "领导接访", "follow_up": "差评回访"}.get(
        ev["item_kind"], ev["item_kind"])
    return (Plan(rule, ev["item_kind"], ev["item_id"], f"逾期未办结：{kind}（期限 {ev['due_date']}）",
                 f"{kind}已超过期限 {ev['due_date']} 仍未办结，请跟踪至办结（{rule}）。")
            .add(orgcopy.with_role(uow, "complaint_officer"), ACK).add(orgcopy.with_role(uow, *LEADERS), INFO))


def duty_roster_missing(uow, ev):
    late = ev["stage"] == "overdue"
    title = (f"领导带班值班表未公示：{ev['month']}" if late else f"请公示 {ev['month']} 领导带班值班表")
    body = (f"{ev['month']} 的乡镇领导带班值班表应于 {ev['deadline']} 前公示，" +
            ("至今未公示，请立即安排并公示（P5）。" if late else "目前尚未公示，请按时安排并公示（P5）。"))
    return Plan("P5", "duty_roster", ev["month"], title, body).add(
        orgcopy.with_role(uow, *COMPLAINT_DESK), ACK)


def reception_booked(uow, ev):
    return Plan("P5", "complaint", ev["complaint_id"], f"领导接访预约：{ev['day']}（{ev['number']}）",
                f"信访 {ev['number']}（{ev.get('persons') or 1} 人）申请领导接待，已安排在 {ev['day']} "
                "由带班值班领导接访（P5）。").add([orgcopy.person(uow, ev["leader_person_id"])], ACK)


def _department_people(uow, ev) -> list:
    return [p for p in (orgcopy.person(uow, i) for i in ev.get("department_person_ids") or []) if p is not None]


def complaint_forwarded(uow, ev):
    people = _department_people(uow, ev)
    to = people or orgcopy.with_role(uow, "complaint_officer")  # nobody to receive it: the office hands it over
    return Plan("P7", "forwarding", ev["forwarding_id"], f"转办投诉：{ev['number']}，请于 {ev['due_date']} 前答复",
                f"中心转来投诉 {ev['number']}（第 {ev.get('round') or 1} 次转办），请于 {ev['due_date']} 前"
                "处理并将答复报告中心（P7）。").add(to, ACK)


def forwarding_answered(uow, ev):
    return Plan("P7", "forwarding", ev["forwarding_id"], f"部门已答复：{ev['number']}",
                f"转办投诉 {ev['number']} 的部门答复已到，请审核后反馈投诉人（P7）。"
                ).add(orgcopy.with_role(uow, "complaint_officer"), ACK)


def forwarding_overdue(uow, ev):
    return (Plan("P7", "forwarding", ev["forwarding_id"], f"转办逾期未答复：{ev['number']}",
                 f"转办投诉 {ev['number']} 应于 {ev['due_date']} 前答复，至今未答复（P7）。")
            .add(_department_people(uow, ev), ACK).add(orgcopy.with_role(uow, "complaint_officer"), INFO))


def item_lent(uow, ev):
    posts = [p for p in orgcopy.with_role(uow, *GATE) if p.id != ev.get("lent_by")]
    return Plan("L2", "loan", ev["loan_id"], f"已借出：{ev['item_name']}",
                f"{ev['item_name']} 已借出，应于 {_local(uow, ev['due_at'])} 前归还（L2）。").add(posts, INFO)


def loan_overdue(uow, ev):
    guard = orgcopy.person(uow, ev.get("assigned_person_id"))
    to = [guard] if guard is not None else orgcopy.with_role(uow, "guard")
    return Plan("L4", "loan", ev["loan_id"], "逾期未还：请电话催收",
                f"借出物品（{ev['item_id'][:8]}）于 {_local(uow, ev['due_at'])} 到期未还，请电话催收并登记（L4）。").add(to, ACK)


def reminder_escalated(uow, ev):
    return Plan("L4", "loan", ev["loan_id"], "催收未完成：已升级",
                "逾期借出物品的电话催收未在时限内完成，请安管负责人接手（L4）。"
                ).add(orgcopy.with_role(uow, "security_manager"), ACK)


#: S5/S6: why a person is returned to the home unit, by the cause's prefix (staff)
RETURN_WHY = {"public_criticism": "一年内两次通报批评，退回派出单位", "unfit": "连续两个季度考核不称职，退回派出单位",
              "unfit_year": "年终考核不称职，退回派出单位", "sanction": "受纪律处分，退回派出单位"}


def home_unit_notified(uow, ev):
    person = orgcopy.person(uow, ev["person_id"]) or uow.session.get(orgcopy.PersonCopy, ev["person_id"])
    name = person.name if person is not None and person.township_id == uow.township_id else ev["person_id"][:8]
    unit = ev.get("home_unit") or "派出单位"
    why = (RETURN_WHY.get(ev["cause"].split(":")[0], "退回派出单位") if ev["kind"] == "return"
           else f"同类违规一月三次（{ev['cause']}）")
    return (Plan("S6", "person", ev["person_id"], f"告知派出单位：{name}",
                 f"{name}：{why}，请告知其派出单位（{unit}）（S6）。")
            .add(_directors(uow), ACK).add([orgcopy.person(uow, ev["person_id"])], INFO))


def _name(uow, person_id) -> str:
    person = uow.find(orgcopy.PersonCopy, person_id)
    return person.name if person is not None else str(person_id)[:8]


def removed_from_window(uow, ev):
    """S6: removal from the window takes effect at once, "B holds the cases, the director is
    told". The reason stays in staff's record (T2): the notice says what changed, not why."""
    name, partner = _name(uow, ev["person_id"]), orgcopy.person(uow, ev.get("partner_person_id"))
    held = f"其在办件由 {partner.name} 承接" if partner is not None else "该窗口另一岗位空缺，请指定办理人（C7）"
    return (Plan("S6", "person", ev["person_id"], f"撤离窗口：{name}（{_window(uow, ev.get('window_id'))}）",
                 f"{name} 已按责任追究撤离{_window(uow, ev.get('window_id'))}，即日起不再分派新件；{held}（S6）。")
            .add(_directors(uow, ev.get("director_person_ids")), ACK).add([partner], INFO))


def week_published(uow, ev):
    return Plan("S2", "week", str(ev["week_start"]), f"考勤周报已公示：{ev['week_start']} 起一周",
                f"{ev['week_start']} 起一周的考勤已公示，如有异议请于 {ev['objection_until']} 前提出（S2）。"
                ).add([p for p in orgcopy.everyone(uow)], INFO)


def agent_submission_reminder(uow, ev):
    return Plan("I6", "agent_collection", ev["collection_id"],
                f"代办报送提醒：{ev['village']} {ev['item_code']} 应于 {ev['due_on']} 前报送",
                f"您于 {ev['collected_on']} 在{ev['village']}代办受理的事项（{ev['item_code']}）应于 {ev['due_on']}"
                f"{'（暂定，日历未载入）' if ev.get('provisional') else ''}前报送便民服务中心窗口（I6）。"
                ).add([orgcopy.person(uow, ev["agent_person_id"])], ACK)


def agent_submission_overdue(uow, ev):
    agent = orgcopy.person(uow, ev["agent_person_id"])
    who = agent.name if agent is not None else "代办员"
    return (Plan("I6", "agent_collection", ev["collection_id"],
                 f"代办超期未报送：{ev['village']} {ev['item_code']}（期限 {ev['due_on']}）",
                 f"{who}于 {ev['collected_on']} 在{ev['village']}代办受理的事项（{ev['item_code']}）"
                 f"超过报送期限 {ev['due_on']} 仍未报送中心（I6），请尽快报送。")
            .add([agent], ACK).add(_directors(uow), INFO))


def home_unit_report_sent(uow, ev):
    """S2: a home unit's month — each person's attendance and scores, one line each."""
    lines = []
    for row in ev.get("people") or []:
        name = _name(uow, row.get("person_id", ""))
        score = row.get("quarter_score")
        lines.append(f"{name}：迟到 {row.get('late', 0)}、早退 {row.get('early', 0)}、旷工 {row.get('absent_halves', 0)} 个半天"
                     f"（累计旷工 {row.get('accumulated_days', 0)} 天）、请假 {row.get('leave_halves', 0)} 个半天；"
                     f"学习会议无故缺席 {row.get('sessions_absent_unexcused', 0)}、迟到 {row.get('sessions_late', 0)}；"
                     f"本月扣 {row.get('deducted', 0)} 分、加 {row.get('credits', 0)} 分；本季度考核分 {score}")
    unit = ev["home_unit"]
    return Plan("S2", "home_unit_report", ev["report_id"], f"{ev['month']} 考勤考核月报：{unit}",
                f"请将 {ev['month']} 考勤和考核情况通报派出单位（{unit}）（S2）：\n" + "\n".join(lines)
                ).add(_directors(uow), ACK)


ROUTES = {
    "cases.case_reminder": case_reminder,
    "cases.case_overdue": case_overdue,
    "cases.handler_unavailable": handler_unavailable,
    "intake.application_accepted": application_accepted,
    "cases.escalation_silent": escalation_silent,
    "cases.immediate_target_missed": immediate_target_missed,
    "cases.review_reminder": review_reminder,
    "complaints.leadership_alerted": leadership_alerted,
    "complaints.overdue": complaint_overdue,
    "complaints.duty_roster_missing": duty_roster_missing,
    "complaints.reception_booked": reception_booked,
    "complaints.complaint_forwarded": complaint_forwarded,
    "complaints.forwarding_answered": forwarding_answered,
    "complaints.forwarding_overdue": forwarding_overdue,
    "lending.item_lent": item_lent,
    "lending.loan_overdue": loan_overdue,
    "lending.reminder_escalated": reminder_escalated,
    "staff.home_unit_notified": home_unit_notified,
    "staff.removed_from_window": removed_from_window,
    "staff.week_published": week_published,
    "intake.agent_submission_reminder": agent_submission_reminder,
    "intake.agent_submission_overdue": agent_submission_overdue,
    "staff.home_unit_report_sent": home_unit_report_sent,
}

#: the fields of each event that name a person (the copy must know them first: staffdir)
NAMED = ("holder_person_id", "handler_person_id", "assigned_person_id", "person_id", "lent_by", "leader_person_id",
         "agent_person_id", "partner_person_id")


def named_people(body) -> list[str]:
    if not isinstance(body, dict):
        return []
    ids = [body.get(k) for k in NAMED] + list(body.get("director_person_ids") or [])
    people = body.get("people") if isinstance(body.get("people"), list) else []
    ids += [row.get("person_id") for row in people if isinstance(row, dict)]  # S2: the home-unit report
    ids += list(body.get("decider_person_ids") or []) if isinstance(body.get("decider_person_ids"), list) else []
    ids += list(body.get("department_person_ids") or []) if isinstance(body.get("department_person_ids"), list) else []
    return [i for i in ids if isinstance(i, str) and i]


def plan(uow, event_type: str, event: dict) -> Plan | None:
    made = ROUTES[event_type](uow, event)
    return made.clean() if made is not None else None
