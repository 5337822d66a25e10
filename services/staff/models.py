"""Tables of the staff service."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import TenantScoped, make_base, new_id

Base = make_base()


class Township(Base):
    """The tenant. Its own id is its township_id."""

    __tablename__ = "townships"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]


class Department(TenantScoped, Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("township_id", "name"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))


class Window(TenantScoped, Base):
    __tablename__ = "windows"
    __table_args__ = (UniqueConstraint("township_id", "number"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))
    a_person_id: Mapped[str | None] = mapped_column(String(32))
    b_person_id: Mapped[str | None] = mapped_column(String(32))


class Person(TenantScoped, Base):
    __tablename__ = "people"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(60))
    badge_no: Mapped[str | None] = mapped_column(String(30))
    phone: Mapped[str | None] = mapped_column(String(30))  # personal data: masked outside staff
    home_unit: Mapped[str | None] = mapped_column(String(100))
    window_id: Mapped[str | None] = mapped_column(ForeignKey("windows.id"))
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))
    roles: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class TokenRecord(Base):
    """An account's token: issued by a director (or the operator tool), revocable.

    ``township_id`` is empty for platform operators."""

    __tablename__ = "tokens"
    jti: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    township_id: Mapped[str | None] = mapped_column(String(32), index=True)
    person_id: Mapped[str | None] = mapped_column(String(32))
    roles: Mapped[list] = mapped_column(JSON)
    label: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
