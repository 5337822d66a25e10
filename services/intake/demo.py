"""Demo data of intake for 青山镇 (``qingshan``): a catalogue of 11 items across the six windows
(modelled on the items the seeds name: 民政, 计生, 新农合, 土地流转, 农机, 国土), a few
applications of every kind and a few inquiries. Applicants and numbers are invented; fee
figures are illustrative.

``seed(rpc, org)``: ``rpc(service, person_key)`` is a context manager giving an RPC proxy whose
call context is that person of the demo township; ``org`` comes from services/staff/demo.py.
"""
from __future__ import annotations

M, A = True, False  # 主件 / 附件


def _mats(*pairs):
    return [{"name": n, "main": main} for n, main in pairs]


# key: (window key, department keys involved, item fields)
ITEMS = [
    ("civil", [], {
        "code": "MZ-001", "name": "结婚登记", "default_kind": "immediate", "promised_days": 0,
        "legal_basis": "《中华人民共和国民法典》第一千零四十九条；《婚姻登记条例》第四条至第七条",
        "materials": _mats(("男女双方居民身份证", M), ("男女双方户口簿", M),
                           ("本人无配偶及与对方无禁止结婚亲属关系的签字声明", M), ("双方近期半身免冠合影照片", A)),
        "procedure": "双方亲自到场—出具证件—填写声明书—审查—登记发证"}),
    ("civil", [], {
        "code": "MZ-002", "name": "城乡居民最低生活保障申请", "default_kind": "promised", "promised_days": 5,
        "major": True,
        "legal_basis": "《社会救助暂行办法》第九条至第十一条；《最低生活保障审核确认办法》",
        "materials": _mats(("低保申请书", M), ("申请人居民身份证", M), ("户口簿", M),
                           ("家庭收入及财产状况申报表", A), ("家庭经济状况核对授权书", A)),
        "procedure": "申请—受理—家庭经济状况调查核对—民主评议—公示—审核确认"}),
    ("civil", [], {
        "code": "MZ-003", "name": "临时救助申请", "default_kind": "promised", "promised_days": 3,
        "legal_basis": "《社会救助暂行办法》第四十七条至第五十条",
        "materials": _mats(("临时救助申请书", M), ("申请人居民身份证", M), ("困难情况证明材料", A)),
        "procedure": "申请—受理—审核—公示—审批发放"}),
    ("civil", [], {
        "code": "MZ-004", "name": "困难残疾人生活补贴和重度残疾人护理补贴申请", "default_kind": "promised",
        "promised_days": 5,
        "legal_basis": "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》（国发〔2015〕52号）",
        "materials": _mats(("补贴申请表", M), ("第二代残疾人证", M), ("居民身份证", M), ("户口簿复印件", A)),
        "procedure": "申请—受理—审核—县级民政部门审定—发放"}),
    ("health", [], {
        "code": "WJ-001", "name": "生育服务登记", "default_kind": "immediate", "promised_days": 0,
        "legal_basis": "《中华人民共和国人口与计划生育法》第十八条；本省生育登记服务办法",
        "materials": _mats(("夫妻双方居民身份证", M), ("结婚证", M), ("户口簿", A)),
        "procedure": "填写生育服务登记表—核对—当场登记"}),
    ("insurance", [], {
        "code": "YB-001", "name": "城乡居民基本医疗保险参保登记", "default_kind": "immediate", "promised_days": 0,
        "legal_basis": "《中华人民共和国社会保险法》第二十五条；《国务院关于整合城乡居民基本医疗保险制度的意见》（国发〔2016〕3号）",
        "materials": _mats(("居民身份证或户口簿", M), ("城乡居民医保参保登记表", A)),
        "procedure": "填表—信息核验—登记—告知缴费渠道"}),
    ("insurance", [], {
        "code": "YB-002", "name": "城乡居民医保医疗费用零星报销", "default_kind": "promised", "promised_days": 5,
        "legal_basis": "《医疗保障基金使用监督管理条例》；本县城乡居民医保经办规程",
        "materials": _mats(("医疗费用原始票据", M), ("出院记录或病历", M), ("居民身份证", M),
                           ("费用明细清单", A), ("本人银行卡复印件", A)),
        "procedure": "收件—初审—县医保中心审核—拨付"}),
    ("land", [], {
        "code": "NY-001", "name": "土地承包经营权流转合同备案", "default_kind": "promised", "promised_days": 3,
        "legal_basis": "《中华人民共和国农村土地承包法》第三十六条；《农村土地经营权流转管理办法》第十七条",
        "materials": _mats(("土地经营权流转合同", M), ("土地承包经营权证复印件", M),
                           ("流转双方身份证复印件", A), ("村委会意见", A)),
        "procedure": "收件—审查合同—登记备案—归档"}),
    ("machinery", ["machinery", "land"], {
        "code": "NJ-001", "name": "农机购置与应用补贴申请", "default_kind": "promised", "promised_days": 5,
        "legal_basis": "《中华人民共和国农业机械化促进法》第二十七条；农业农村部、财政部农机购置与应用补贴实施意见",
        "materials": _mats(("补贴申请表", M), ("购机发票", M), ("购机者居民身份证", M),
                           ("本人银行卡复印件", A), ("人机合影照片", A)),
        "procedure": "申请—受理—农机站核验机具—农业农村办审核—公示—兑付"}),
    ("machinery", [], {
        "code": "NJ-002", "name": "拖拉机和联合收割机注册登记", "default_kind": "promised", "promised_days": 5,
        "level": "county", "fee_cents": 3500,
        "fee_basis": "省发展改革委、省财政厅核定的号牌（含号牌架、固定封装置）工本费标准（示例数额）",
        "legal_basis": "《农业机械安全监督管理条例》第二十一条；《拖拉机和联合收割机登记规定》",
        "materials": _mats(("登记申请表", M), ("机主居民身份证", M), ("来历证明（购机发票）", M),
                           ("出厂合格证明", M), ("安全技术检验合格证明", A)),
        "procedure": "收件—上报县农机监理机构—检验—登记—核发号牌和行驶证"}),
    ("resources", ["resources", "land"], {
        "code": "ZR-001", "name": "农村宅基地和建房（规划许可）审批", "default_kind": "promised",
        "promised_days": 20, "level": "county", "major": True,
        "legal_basis": "《中华人民共和国土地管理法》第六十二条；《中华人民共和国城乡规划法》第四十一条",
        "materials": _mats(("农村宅基地和建房（规划许可）申请表", M), ("申请人居民身份证", M), ("户口簿", M),
                           ("农村宅基地使用承诺书", M), ("村民小组会议讨论记录", A), ("建房设计图或通用图", A)),
        "procedure": "申请—村级审查—受理—联审（国土、农业农村、规划）—上报审批—放线—竣工验收"}),
]

APPLICANTS = [
    {"name": "张志明", "phone": "13907310021", "id_no": "430000199002140013"},
    {"name": "李秀兰", "phone": "13907310022", "id_no": "430000195809230028"},
    {"name": "王德福", "phone": "13907310023", "id_no": "430000197101050035"},
    {"name": "刘桂英", "phone": "13907310024", "id_no": "430000196312110046"},
    {"name": "陈建平", "phone": "13907310025", "id_no": "43000019850618005X"},
]


def _register_agent(rpc, person_id: str, village: str, wait: float = 20.0) -> dict:
    """Register the village agent; intake learns the person from staff's event, which may still
    be on its way just after the organisation was created, so this waits for it (bounded)."""
    import time

    deadline = time.monotonic() + wait
    while True:
        try:
            with rpc("intake", "director") as intake:
                return intake.register_agent({"person_id": person_id, "village": village})
        except Exception:  # noqa: BLE001 — the copy does not know the person yet: 422 until it does
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def seed(rpc, org) -> dict:
    windows, departments, people = org["windows"], org["departments"], org["people"]
    items = {}
    with rpc("intake", "director") as intake:
        for window, involved, fields in ITEMS:
            data = dict(fields, window_id=windows[window]["id"],
                        department_id=windows[window].get("department_id"),
                        departments=[departments[k]["id"] for k in involved])
            items[data["code"]] = intake.create_item(data)

    def names(code):
        return [m["name"] for m in items[code]["materials"]]

    def submit(clerk, code, applicant, brought=None, present=(), **extra):
        with rpc("intake", clerk) as intake:
            return intake.submit_application({
                "item_code": code, "applicant": applicant,
                "materials_brought": names(code) if brought is None else brought,
                "materials_present": list(present), **extra})

    out = {"items": items, "applications": {}}
    apps = out["applications"]
    apps["marriage_immediate"] = submit("clerk_civil_a", "MZ-001", APPLICANTS[0])
    lowinc = names("MZ-002")
    apps["dibao_supplement"] = submit("clerk_civil_a", "MZ-002", APPLICANTS[1], brought=lowinc[:2],
                                      present=[lowinc[2]])
    # I6: 谢春花, village agent of 柳溪村, collected a 低保 application there; 民政 window B receives it
    _register_agent(rpc, people["agent_1"]["id"], "柳溪村")
    with rpc("intake", "agent_1") as intake:
        brought = intake.record_collection({"item_code": "MZ-002", "applicant_name": APPLICANTS[2]["name"],
                                            "mandate_no": "QS-DL-2025-0007"})
        out["agent_collections"] = [brought, intake.record_collection({
            "item_code": "MZ-002", "applicant_name": APPLICANTS[3]["name"], "mandate_no": "QS-DL-2025-0008",
            "note": "申请人行动不便，代办员上门收件"})]  # still to be brought: on the agent's list
    apps["dibao_proxy_promised"] = submit("clerk_civil_b", "MZ-002", APPLICANTS[2], collection_id=brought["id"])
    apps["subsidy_joint"] = submit("clerk_machinery_a", "NJ-001", APPLICANTS[3])
    apps["homestead_escalated"] = submit("clerk_resources_a", "ZR-001", APPLICANTS[4],
                                         first_asked_person_id=people["clerk_civil_a"]["id"])
    transfer = names("NY-001")
    apps["transfer_returned"] = submit("clerk_land_a", "NY-001", APPLICANTS[0], brought=[transfer[0]])
    apps["birth_immediate"] = submit("clerk_health_a", "WJ-001", APPLICANTS[0],
                                     first_asked_person_id=people["clerk_insurance_a"]["id"])
    # the supplement's missing materials arrive
    missing = apps["dibao_supplement"]["notice"]["missing"]
    with rpc("intake", "clerk_civil_a") as intake:
        intake.record_arrival(apps["dibao_supplement"]["application"]["id"], missing)

    inquiries = out["inquiries"] = []
    with rpc("intake", "clerk_insurance_a") as intake:
        inquiries.append(intake.log_inquiry({
            "topic": "2025年度城乡居民医保个人缴费标准和缴费渠道", "item_code": "YB-001",
            "answer": "按本年度县医保局公布的标准缴纳，可通过税务APP、银行或村代办员缴纳"}))
    with rpc("intake", "clerk_civil_a") as intake:
        inquiries.append(intake.log_inquiry({
            "topic": "翻建老宅需要办理什么手续", "item_code": "ZR-001",
            "refer_to_window_id": windows["resources"]["id"]}))
        inquiries.append(intake.log_inquiry({
            "topic": "低保申请需要准备哪些材料", "item_code": "MZ-002",
            "answer": "已一次性告知：申请书、身份证、户口簿、家庭收入及财产申报表、核对授权书"}))
    with rpc("intake", "clerk_machinery_a") as intake:
        inquiries.append(intake.log_inquiry({
            "topic": "宅基地审批进度查询", "refer_to_window_id": windows["resources"]["id"]}))
    with rpc("intake", "clerk_resources_a") as intake:
        intake.resolve_inquiry(inquiries[-1]["id"], "已查询：材料已上报县自然资源局，预计两周内批复，已电话告知")
    return out
