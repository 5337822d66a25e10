"""The demo township's organisation: 青山镇 (code ``qingshan``), modelled on the windows the
regulations in ../shared/seeds name (民政, 计生, 新农合, 土地流转, 农机, 国土). Written for the
project; the names are invented.

``seed(op_staff, director_staff)`` creates it through the staff service's RPCs and returns
``org``: the ids other areas' demo seeds use (``services/<svc>/demo.py``).
"""
from __future__ import annotations

from services.common.clock import DEFAULT_TZ

TOWNSHIP = {"code": "qingshan", "name": "青山镇", "director": {
    "name": "周建国", "phone": "13800001001", "badge_no": "QS-001", "home_unit": "青山镇人民政府"}}

DEPARTMENTS = {
    "civil": "民政办",
    "health": "卫生健康和计生办",
    "insurance": "医保工作站",
    "land": "农业农村办",
    "machinery": "农机服务站",
    "resources": "自然资源所",
    "finance": "财政所",
}

# key: (number, window name, department key)
WINDOWS = {
    "civil": (1, "民政（婚姻登记、社会救助）", "civil"),
    "health": (2, "计生（生育服务）", "health"),
    "insurance": (3, "新农合（城乡居民医保）", "insurance"),
    "land": (4, "土地流转", "land"),
    "machinery": (5, "农机（购置补贴、牌证）", "machinery"),
    "resources": (6, "国土（宅基地）", "resources"),
    "fees": (7, "收费（统一收费）", "finance"),  # C8: the fee window (seed 004 统一收费制)
}

# key: (name, roles, window key or None, department key or None, home unit, badge)
PEOPLE = {
    "deputy": ("刘芳", ["deputy_director"], None, None, "青山镇人民政府", "QS-002"),
    "head_civil": ("陈志强", ["section_head"], None, "civil", "青山镇民政办", "QS-010"),
    "head_land": ("黄德明", ["section_head"], None, "land", "青山镇农业农村办", "QS-011"),
    "clerk_civil_a": ("王晓燕", ["clerk"], "civil", None, "青山镇民政办", "QS-101"),
    "clerk_civil_b": ("李俊", ["clerk"], "civil", None, "青山镇民政办", "QS-102"),
    "clerk_health_a": ("张丽华", ["clerk"], "health", None, "青山镇卫生院", "QS-103"),
    "clerk_health_b": ("赵敏", ["clerk"], "health", None, "青山镇卫生院", "QS-104"),
    "clerk_insurance_a": ("孙伟", ["clerk"], "insurance", None, "县医保局青山工作站", "QS-105"),
    "clerk_insurance_b": ("周婷", ["clerk"], "insurance", None, "县医保局青山工作站", "QS-106"),
    "clerk_land_a": ("吴刚", ["clerk"], "land", None, "青山镇农业农村办", "QS-107"),
    "clerk_land_b": ("郑秀英", ["clerk"], "land", None, "青山镇农业农村办", "QS-108"),
    "clerk_machinery_a": ("冯建军", ["clerk"], "machinery", None, "县农机服务中心", "QS-109"),
    "clerk_machinery_b": ("何小红", ["clerk"], "machinery", None, "县农机服务中心", "QS-110"),
    "clerk_resources_a": ("许国平", ["clerk"], "resources", None, "县自然资源局青山所", "QS-111"),
    "clerk_resources_b": ("韩雪", ["clerk"], "resources", None, "县自然资源局青山所", "QS-112"),
    "clerk_fees_a": ("钱丽", ["clerk"], "fees", None, "青山镇财政所", "QS-113"),
    "clerk_fees_b": ("林海", ["clerk"], "fees", None, "青山镇财政所", "QS-114"),
    "inspector": ("曹建华", ["inspector"], None, None, "青山镇纪委", "QS-201"),
    "complaints": ("彭玉兰", ["complaint_officer"], None, None, "青山镇便民服务中心管理办公室", "QS-202"),
    "security": ("蒋大勇", ["security_manager"], None, None, "青山镇便民服务中心", "QS-301"),
    "guard_1": ("罗二虎", ["guard"], None, None, "青山镇便民服务中心", "QS-302"),
    "guard_2": ("邓长林", ["guard"], None, None, "青山镇便民服务中心", "QS-303"),
    "agent_1": ("谢春花", ["village_agent"], None, None, "青山镇柳溪村委会", "QS-401"),
}


def seed(op_staff, director_staff_for) -> dict:
    """``op_staff``: staff RPC proxy with an operator context; ``director_staff_for(township_id,
    director_person_id)``: a context manager giving a staff proxy with that director's context."""
    created = op_staff.create_township(TOWNSHIP["code"], TOWNSHIP["name"], TOWNSHIP["director"])
    township, director = created["township"], created["director"]
    org = {"township": township, "departments": {}, "windows": {}, "people": {"director": director}}
    with director_staff_for(township["id"], director["id"]) as staff:
        for key, name in DEPARTMENTS.items():
            org["departments"][key] = staff.create_department(name)
        for key, (number, name, dept) in WINDOWS.items():
            org["windows"][key] = staff.create_window(number, name, org["departments"][dept]["id"],
                                                      fee_window=key == "fees")
        for key, (name, roles, window, dept, unit, badge) in PEOPLE.items():
            org["people"][key] = staff.create_person(
                name, roles,
                window_id=org["windows"][window]["id"] if window else None,
                department_id=org["departments"][dept]["id"] if dept else None,
                phone=f"139{badge[-3:]:0>8}", badge_no=badge, home_unit=unit,
            )
        for key in WINDOWS:
            window = staff.set_ab_pair(org["windows"][key]["id"],
                                       org["people"][f"clerk_{key}_a"]["id"],
                                       org["people"][f"clerk_{key}_b"]["id"])
            org["windows"][key] = window
    return org


# -- staff discipline (S2, S3, S8): a little realistic history ---------------------------------

# Everyone whose attendance is kept signs in and out normally, except (person key →
# {weekday: (am in, am out, pm in, pm out)}, None for no mark):
ATTENDANCE_WEEK = {
    "clerk_civil_b": {1: ("08:27", "12:00", "14:28", "17:31")},   # Tuesday: late (27 min)
    "clerk_health_a": {3: ("07:55", "12:01", "14:25", "17:00")},  # Thursday: early leave (30 min)
    "clerk_land_a": {4: ("08:00", "12:00", None, None)},          # Friday afternoon: absent
}
NORMAL_DAY = ("07:56", "12:02", "14:26", "17:33")


def seed_discipline(rpc, org) -> dict:
    """Last week's attendance of the clerks and section heads, three with a lapse (closed day by day), one approved leave of the
    民政 A clerk with the B clerk as substitute, and one patrol finding. ``rpc(service, person
    key)`` is a context manager giving an RPC proxy in that person's call context."""
    from datetime import date, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from services.common.calendar import WorkingCalendar
    from services.common.errors import Conflict

    tz = ZoneInfo(org["township"].get("timezone") or DEFAULT_TZ)
    cal = WorkingCalendar()
    today = datetime.now(tz).date()
    monday = today - timedelta(days=today.weekday() + 7)
    week = [monday + timedelta(days=i) for i in range(5) if cal.is_working_day(monday + timedelta(days=i))]
    people = org["people"]
    done = {"days": [], "leave": None, "patrol": None}

    def moment(day: date, hhmm: str) -> str:
        h, m = map(int, hhmm.split(":"))
        return datetime.combine(day, time(h, m), tzinfo=tz).isoformat()

    with rpc("staff", "inspector") as staff:
        for day in week:
            try:
                for key in people:
                    if not key.startswith(("clerk_", "head_")):
                        continue
                    times = ATTENDANCE_WEEK.get(key, {}).get(day.weekday(), NORMAL_DAY)
                    for kind, hhmm in zip(("in", "out", "in", "out"), times):
                        if hhmm:
                            staff.record_attendance_mark(people[key]["id"], kind, moment(day, hhmm))
                staff.close_attendance_day(day.isoformat())
                done["days"].append(day.isoformat())
            except Conflict:
                continue  # already closed (the nightly sweep or an earlier seed)
        # on a day the hall was open (C2a: no finding for a closed day, and today may be Sunday)
        done["patrol"] = staff.record_patrol("am", [{"person_id": people["clerk_land_a"]["id"],
                                                     "rule_code": "phone", "note": "上班时间刷手机"}],
                                             day=week[-1].isoformat())
    leave_day = cal.next_working_day(today + timedelta(days=1))
    with rpc("staff", "clerk_civil_a") as staff:
        requested = staff.request_leave(moment(leave_day, "14:30"), moment(leave_day, "17:30"), "带孩子体检",
                                        people["clerk_civil_b"]["id"])
    with rpc("staff", "head_civil") as staff:
        done["leave"] = staff.decide_leave(requested["id"], True, "同意，李俊顶岗")
    return done
