"""I1 Service catalogue (办事指南): versioned items, public when published (T1 政务公开).

A change never edits a version in place: it writes version n+1 and marks it current; an
application references the exact version row it was accepted under (I5, last paragraph).
"""
from __future__ import annotations

from sqlalchemy import bindparam, select

from services.common.errors import Conflict, NotFound

from .models import CatalogueItem
from services.contracts.intake import CatalogueItem as ItemOut, PublicCatalogueItem as PublicItemOut

from services.contracts.intake_input import ItemIn, load
from services.contracts import shared

FIELDS = ("name", "legal_basis", "window_id", "department_id", "materials", "procedure", "default_kind",
          "promised_days", "fee_cents", "fee_basis", "departments", "tacit_approval", "level", "major",
          "published")


def current_item(uow, code: str) -> CatalogueItem:
    item = uow.session.scalar(_CURRENT, {"code": code})
    if item is None:
        raise NotFound(f"catalogue item {code} not found")
    return item


#: built once (issue 9): every submission reads its item
_CURRENT = select(CatalogueItem).where(CatalogueItem.code == bindparam("code"), CatalogueItem.current.is_(True))


def create_item(uow, person_id: str | None, data: dict) -> dict:
    """I1: a new item, version 1."""
    data = load(ItemIn, data)
    exists = uow.session.scalar(select(CatalogueItem.id).where(CatalogueItem.code == data["code"]))
    if exists:
        raise Conflict(f"catalogue item {data['code']} exists; change it to make a new version",
                       {"code": ["exists"]})
    item = CatalogueItem(version=1, current=True, created_at=uow.now(), created_by=person_id, **data)
    uow.session.add(item)
    uow.session.flush()
    return shared(ItemOut).dump(item)


def change_item(uow, person_id: str | None, code: str, changes: dict) -> dict:
    """I1: a change makes a new version; the old one stays, referenced by its applications."""
    old = current_item(uow, code)
    if "code" in changes and changes["code"] != code:
        raise Conflict("an item's code cannot change", {"code": ["immutable"]})
    merged = {"code": code, **{f: getattr(old, f) for f in FIELDS}, **changes}
    data = load(ItemIn, merged)
    if all(data[f] == getattr(old, f) for f in FIELDS):
        return shared(ItemOut).dump(old)  # nothing changed: no new version
    old.current = False
    uow.session.flush()
    item = CatalogueItem(version=old.version + 1, current=True, created_at=uow.now(),
                         created_by=person_id, **data)
    uow.session.add(item)
    uow.session.flush()
    return shared(ItemOut).dump(item)


def get_item(uow, code: str, version: int | None = None) -> dict:
    if version is None:
        return shared(ItemOut).dump(current_item(uow, code))
    item = uow.session.scalar(
        select(CatalogueItem).where(CatalogueItem.code == code, CatalogueItem.version == int(version)))
    if item is None:
        raise NotFound(f"catalogue item {code} version {version} not found")
    return shared(ItemOut).dump(item)


def list_items(uow, include_unpublished: bool = True) -> list[dict]:
    stmt = select(CatalogueItem).where(CatalogueItem.current.is_(True))
    if not include_unpublished:
        stmt = stmt.where(CatalogueItem.published.is_(True))
    return shared(ItemOut, many=True).dump(uow.scalars(stmt.order_by(CatalogueItem.code)))


def public_catalogue(uow) -> list[dict]:
    """T1/I1: the township's published catalogue, current versions."""
    stmt = (select(CatalogueItem)
            .where(CatalogueItem.current.is_(True), CatalogueItem.published.is_(True))
            .order_by(CatalogueItem.code))
    return shared(PublicItemOut, many=True).dump(uow.scalars(stmt))


def public_item(uow, code: str) -> dict:
    item = current_item(uow, code)
    if not item.published:
        raise NotFound(f"catalogue item {code} not found")
    return shared(PublicItemOut).dump(item)
