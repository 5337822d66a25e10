"""The one way a service reads staff's organisation (ARCHITECTURE "One shape for one job").

1. **Its own copy**, kept current by ``staff.organisation_changed`` events (each service's
   ``apply_…`` handler). Rules read the copy inside their unit of work.
2. **What the copy lacks** — an event not yet arrived — comes from staff's
   ``organisation_snapshot(township_id)`` by the bounded RPC of ``services/common/rpc.py``,
   asked *before* the unit of work opens, never inside an open transaction (a slow staff would
   hold the transaction, its locks and a database connection), and is then stored in the copy.
   A service that keeps no copy (lending's register) asks :func:`snapshot` the same way.

::

    staffdir.ensure(self.db, self.staff, township_id,
                    knows=lambda uow: posts.knows(uow, window_id, person_id),
                    store=posts.apply_snapshot)
    with self.db(township_id) as uow:      # the rules read the copy
        ...

A handler that runs for every application checks the copy inside its own unit of work instead
(:class:`CopyLacks`, :func:`first_from_copy`): one transaction, not two, when the copy knows —
as it nearly always does — and the ask-then-store path only when it does not.
"""
from __future__ import annotations

import logging
from typing import Callable

from .db import in_unit_of_work
from .rpc import call

log = logging.getLogger(__name__)

TIMEOUT = 5.0  # at most; less when the request's own deadline is nearer (rpc.call)


class AskedInsideTransaction(RuntimeError):
    """Staff was about to be asked with a unit of work open: ask before opening it."""


class CopyLacks(Exception):
    """Raised inside a unit of work whose rules need what the copy lacks: the unit rolls back,
    staff is asked with none open, and the work runs again (:func:`first_from_copy`)."""


def first_from_copy(run: Callable, fill: Callable):
    """``run(checked=True)`` — the work, which raises :class:`CopyLacks` (rolling its unit of
    work back) when the copy lacks what it needs; then ``fill()`` (asks staff, stores the
    answer, no unit of work open) and ``run(checked=False)``: staff may not know it either (a
    wrong id), and the work then goes on without it, as after :func:`ensure`."""
    try:
        return run(checked=True)
    except CopyLacks:
        fill()
        return run(checked=False)


def snapshot(staff, township_id: str, required: bool = False) -> dict | None:
    """staff's organisation of a township (``township``, ``departments``, ``windows``,
    ``people`` without personal data) by a bounded RPC, outside any transaction. When staff
    does not answer: ``ServiceUnavailable`` (or staff's error) if ``required``, else ``None``
    (logged)."""
    if in_unit_of_work():
        raise AskedInsideTransaction("ask staff before opening the unit of work, not inside it")
    try:
        return call(staff.organisation_snapshot, township_id, timeout=TIMEOUT)
    except Exception as exc:  # ServiceUnavailable, or staff's own error
        if required:
            raise
        log.warning("staff's organisation unavailable: %s", type(exc).__name__)
        return None


def ensure(open_unit: Callable, staff, township_id: str, knows: Callable, store: Callable,
           required: bool = False) -> bool:
    """Make the copy know what ``knows(uow)`` asks for: checked in a short unit of work, asked
    of staff (:func:`snapshot`) with none open, stored by ``store(uow, snapshot)`` in another.
    True when the copy knew already or was filled; staff may still not know it (a wrong id)."""
    open_unit = getattr(open_unit, "aside", open_unit)  # in a @command: not the command's unit
    with open_unit(township_id) as uow:
        if knows(uow):
            return True
    answer = snapshot(staff, township_id, required)
    if answer is None:
        return False
    with open_unit(township_id) as uow:
        store(uow, answer)
    return True


# -- keeping a copy ---------------------------------------------------------------------------

def person_values(data: dict, action: str | None = None, extra: tuple[str, ...] = ()) -> dict:
    """A person of staff's ``organisation_changed`` event or snapshot as a copy keeps it: name,
    roles, window and whether active (a ``deactivated`` action is never active), plus the
    ``extra`` fields the copy also needs (e.g. ``home_unit``) as given. Public fields only: staff
    announces no personal data (DOMAIN "Personal data")."""
    values = {"name": data.get("name") or "", "roles": list(data.get("roles") or []),
              "window_id": data.get("window_id"),
              "active": bool(data.get("active", True)) and action != "deactivated"}
    values.update({key: data.get(key) for key in extra})
    return values


def upsert_copy(uow, model, ident: str, values: dict):
    """The copy's row ``ident`` of ``model`` (a ``TenantScoped`` table with an ``id`` key): this
    township's row (``UnitOfWork.find``) updated, else created in it; flushed. Idempotent, so an event
    delivered twice or a snapshot over events already applied changes nothing."""
    row = uow.find(model, ident)
    if row is None:
        row = model(id=ident, township_id=uow.township_id)
        uow.session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    uow.session.flush()
    return row
