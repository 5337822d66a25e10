"""Demo data of complaints for 青山镇 (``seed(rpc, org)``, called by scripts/seed_demo.py): a
phone complaint about attitude at the civil-affairs window (investigated, verified, the
complainant told), a written complaint about a delay at the land window (open), and a
collective petition about homestead approvals (leadership alerted, its reception booked to the
leader on duty), and this month's and next month's leader duty rosters, published (P5: the
director and the deputy director take turns). Names are invented."""
from __future__ import annotations

from datetime import date

from services.common.months import month_of, next_month


def publish_rosters(complaints, leaders) -> list[str]:
    """P5: this month's and next month's rosters (the service's today), leaders taking turns."""
    today = date.fromisoformat(complaints.leader_on_duty()["date"])
    months = [month_of(today), month_of(next_month(today))]
    for month in months:
        working = complaints.set_duty_roster(month, [])["missing_days"]
        complaints.set_duty_roster(month, [{"day": d, "person_id": leaders[i % len(leaders)]}
                                           for i, d in enumerate(working)])
        complaints.publish_duty_roster(month)
    return months


def seed(rpc, org) -> dict:
    people, windows = org["people"], org["windows"]
    out = {}
    with rpc("complaints", "complaints") as complaints:
        out["rosters"] = publish_rosters(complaints, [people["director"]["id"], people["deputy"]["id"]])
        c1 = complaints.record_complaint(
            channel="phone", category="attitude",
            complainant={"name": "杨秀珍", "phone": "13974310055", "address": "青山镇柳溪村2组"},
            target_person_id=people["clerk_civil_a"]["id"], target_window_id=windows["civil"]["id"],
            content="来电反映：办理低保年审时窗口工作人员态度生硬，材料没说清楚，跑了两趟。")
        complaints.conclude(c1["id"], "verified", "经调取录像并询问当事人，情况属实，已批评教育。")
        complaints.reply(c1["id"], "phone", "电话告知调查结果及处理意见，投诉人表示满意。")
        out["verified"] = c1
        out["written"] = complaints.record_complaint(
            channel="written", category="delay", complex=True, several_units=True,
            complainant={"name": "黄志明", "phone": "13874310066", "address": "青山镇石塘村7组"},
            target_window_id=windows["land"]["id"],
            content="书面投诉：土地流转合同备案已超过承诺时限，涉及村委会和农业农村办，请求尽快办理。")
        out["petition"] = complaints.record_petition(
            channel="in_person", category="other", persons=6, reception_requested=True,
            complainant={"name": "谢国强", "phone": "13774310077", "address": "青山镇石塘村"},
            content="石塘村6户村民联名反映宅基地审批进度缓慢，要求镇领导接访。")
    return out
