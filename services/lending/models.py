"""Tables of the lending service (DOMAIN L1–L6, seed 000 《便民服务车借用管理规定》).

Personal data kept here: the borrower's phone and address (full, for the guards who call for
a late return) and the ID number *masked only* (L2: the ID is shown, its type and a masked
number recorded; the full number is never stored)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import TenantScoped, make_base, new_id

Base = make_base()


class Item(TenantScoped, Base):
    """L1: one lendable thing with its rules (who may borrow, deposit, period, notes, value)."""

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("township_id", "label"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(30))  # cart, umbrella, reading_glasses, wheelchair, first_aid_kit, other
    label: Mapped[str] = mapped_column(String(60))  # e.g. 便民服务车1号
    spec: Mapped[str | None] = mapped_column(String(60))  # e.g. +2.0D
    eligibility: Mapped[str] = mapped_column(String(30), default="anyone")  # registered_resident, anyone
    deposit_cents: Mapped[int] = mapped_column(default=0)  # 0: free (seed 000 4.1.3)
    loan_days: Mapped[int] = mapped_column(default=0)  # 0: same day, until closing time (4.1.4)
    usage_notes: Mapped[str | None] = mapped_column(Text)  # e.g. in the community only
    max_load_kg: Mapped[int | None]  # carts: 25 (4.2.1)
    replacement_value_cents: Mapped[int] = mapped_column(default=0)  # compensation (4.2.2)
    state: Mapped[str] = mapped_column(String(20), default="in_stock")  # in_stock, lent, lost, retired
    current_loan_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class Loan(TenantScoped, Base):
    """L2 / L3: a row of 《便民服务车登记表》."""

    __tablename__ = "loans"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    borrower_name: Mapped[str] = mapped_column(String(60))
    registered_resident: Mapped[bool] = mapped_column(Boolean, default=False)
    id_type: Mapped[str] = mapped_column(String(30))
    id_number_masked: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(200))
    signature: Mapped[str] = mapped_column(String(200))  # the signed name or a reference to the signature image
    lent_at: Mapped[datetime]
    lent_by: Mapped[str | None] = mapped_column(String(32))
    due_at: Mapped[datetime]
    deposit_cents: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(20), default="out")  # out, returned
    returned_at: Mapped[datetime | None]
    received_by: Mapped[str | None] = mapped_column(String(32))
    condition: Mapped[str | None] = mapped_column(String(20))  # good, worn, damaged, lost
    damage_cause: Mapped[str | None] = mapped_column(String(20))  # L3: borrower, wear, other
    return_note: Mapped[str | None] = mapped_column(Text)
    conditions: Mapped[str | None] = mapped_column(Text)  # L1: usage conditions shown at lending
    conditions_acknowledged_at: Mapped[datetime | None]  # … and acknowledged by the borrower
    overdue_at: Mapped[datetime | None]  # set once by the sweep (L4)


class Compensation(TenantScoped, Base):
    """L3: damage or loss → compensation at replacement value (seed 000 4.2.2 按原价赔偿)."""

    __tablename__ = "compensations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), unique=True)
    item_id: Mapped[str] = mapped_column(String(32))
    condition: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int]
    deposit_applied_cents: Mapped[int] = mapped_column(default=0)
    deposit_refund_cents: Mapped[int] = mapped_column(default=0)
    balance_due_cents: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(20), default="due")  # due, settled
    created_at: Mapped[datetime]


class ReminderTask(TenantScoped, Base):
    """L4: a phone reminder (电话催收) for the guard on duty; escalated to the security
    manager when not done in time."""

    __tablename__ = "reminder_tasks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), unique=True)
    assigned_person_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    escalate_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20), default="open")  # open, escalated, done
    escalated_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class Handover(TenantScoped, Base):
    """L5: a shift handover (交接班) that reconciled with the ledger."""

    __tablename__ = "handovers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    at: Mapped[datetime]
    from_person_id: Mapped[str | None] = mapped_column(String(32))
    to_person_id: Mapped[str] = mapped_column(String(32))
    in_stock: Mapped[list] = mapped_column(JSON, default=list)  # item ids
    lent: Mapped[list] = mapped_column(JSON, default=list)  # [{item_id, loan_id, borrower_name}]
    note: Mapped[str | None] = mapped_column(Text)
