"""L6: the register 《便民服务车登记表》 as a CSV file (UTF-8 with BOM, so that spreadsheet
programs used in township offices open the Chinese text correctly)."""
from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.common import csvsafe
from services.common.errors import field_error
from services.common.privacy import mask_address, mask_phone

from .ledger import FULL_VIEW_ROLES
from .models import Item, Loan
from .rules import RULES

HEADER = ["序号", "物品", "编号", "借用人", "证件类型", "证件号码", "联系电话", "住址", "用途",
          "借用时间", "应还时间", "使用条件（借用人已确认）", "归还时间", "归还状况", "借出经手人", "收回经手人",
          "借用人签名"]
KIND_NAMES = {"cart": "便民服务车", "umbrella": "雨伞", "reading_glasses": "老花镜", "wheelchair": "轮椅",
              "first_aid_kit": "急救箱", "other": "其他"}
ID_NAMES = {"resident_id_card": "居民身份证", "household_register": "户口簿", "residence_permit": "居住证",
            "passport": "护照", "other": "其他"}
CONDITION_NAMES = {"good": "完好", "worn": "正常磨损", "damaged": "损坏", "lost": "丢失", None: "未归还"}
CAUSE_NAMES = {"borrower": "人为，按原价赔偿", "wear": "正常损耗，不赔偿", "other": "非借用人原因，不赔偿"}
MAX_DAYS = 366


def export_csv(uow, start: date, end: date, kind: str | None, roles=(), names=None) -> str:
    """Loans lent between ``start`` and ``end`` (local dates, inclusive) as CSV text with a BOM.
    ``names``: person id → name, so the guards who lent and took back read as people (ids when
    staff could not be asked)."""
    names = names or {}
    if end < start:
        raise field_error("to", "must not be before 'from'")
    if (end - start).days > MAX_DAYS:
        raise field_error("to", f"at most {MAX_DAYS} days per export")
    rules = RULES.load(uow)
    zone = ZoneInfo(rules["timezone"])
    lo = datetime.combine(start, time(0), tzinfo=zone)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone)
    stmt = (select(Loan, Item).join(Item, Item.id == Loan.item_id)
            .where(Loan.lent_at >= lo, Loan.lent_at < hi).order_by(Loan.lent_at))
    if kind:
        stmt = stmt.where(Item.kind == kind)
    full = any(r in FULL_VIEW_ROLES for r in roles or ())

    def local(moment):
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    out = io.StringIO()
    out.write("\ufeff")
    writer = csvsafe.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for n, (loan, item) in enumerate(uow.session.execute(stmt).all(), start=1):
        writer.writerow([
            n, KIND_NAMES.get(item.kind, item.kind) + (f"（{item.spec}）" if item.spec else ""), item.label,
            loan.borrower_name, ID_NAMES.get(loan.id_type, loan.id_type), loan.id_number_masked,
            loan.phone if full else mask_phone(loan.phone), loan.address if full else mask_address(loan.address),
            loan.purpose, local(loan.lent_at), local(loan.due_at),
            (loan.conditions or "") + (f"（{local(loan.conditions_acknowledged_at)} 确认）"
                                       if loan.conditions and loan.conditions_acknowledged_at else ""),
            local(loan.returned_at),
            CONDITION_NAMES.get(loan.condition, loan.condition)
            + (f"（{CAUSE_NAMES[loan.damage_cause]}）" if loan.damage_cause in CAUSE_NAMES
               and loan.condition in ("damaged", "lost") else "")
            + ("（逾期）" if loan.overdue_at else ""),
            names.get(loan.lent_by, loan.lent_by or ""), names.get(loan.received_by, loan.received_by or ""),
            loan.signature,
        ])
    return out.getvalue()
