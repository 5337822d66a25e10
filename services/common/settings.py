"""Rules are data (DOMAIN intro): per-township settings with the seeds' defaults.

Each service declares its rules as a ``RuleBook`` — {key: (default, validator, help)} — and
stores a township's changes in its own ``settings`` table, changeable at run time by a
director. A value not set is the default.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from sqlalchemy import bindparam, select

from .errors import field_error


@dataclass(frozen=True)
class Rule:
    default: Any
    check: Callable[[Any], bool]
    help: str


def integer(lo: int, hi: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def number(lo: float, hi: float) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and lo <= v <= hi


def boolean(v) -> bool:
    return isinstance(v, bool)


def anything(v) -> bool:
    return True


def timezone_name(v) -> bool:
    """An IANA time zone name (e.g. Asia/Shanghai, Asia/Urumqi)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(v, str) or not v:
        return False
    try:
        ZoneInfo(v)
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


class RuleBook:
    def __init__(self, rules: dict[str, Rule]):
        self.rules = rules

    def defaults(self) -> dict:
        return {k: r.default for k, r in self.rules.items()}

    def load(self, uow, township_id: str | None = None) -> dict:
        township_id = township_id or uow.township_id
        rows = uow.session.execute(_settings_of(uow.common.settings), {"township_id": township_id}).all()
        return self._with(self.defaults(), rows)

    def load_many(self, uow, township_ids) -> dict[str, dict]:
        """``load`` for many townships in one statement (a sweep across townships)."""
        out = {township_id: self.defaults() for township_id in township_ids}
        if out:
            rows = uow.session.execute(_settings_of_many(uow.common.settings), {"township_ids": list(out)}).all()
            for township_id, key, value in rows:
                self._with(out[township_id], [(key, value)])
        return out

    def _with(self, values: dict, rows) -> dict:
        """``values`` with the stored ``(key, value)`` rows of known rules."""
        for key, value in rows:
            if key in self.rules:
                values[key] = value
        return values

    def update(self, uow, changes: dict) -> dict:
        table = uow.common.settings
        for key, value in changes.items():
            rule = self.rules.get(key)
            if rule is None:
                raise field_error(key, "no such setting")
            if not rule.check(value):
                raise field_error(key, f"invalid value {value!r}: {rule.help}")
        for key, value in changes.items():
            uow.session.execute(
                table.delete().where(table.c.township_id == uow.township_id, table.c.key == key)
            )
            uow.session.execute(
                table.insert().values(township_id=uow.township_id, key=key, value=value, updated_at=uow.now())
            )
        return self.load(uow)

    def describe(self) -> list[dict]:
        return [{"key": k, "default": r.default, "help": r.help} for k, r in self.rules.items()]


@lru_cache(maxsize=None)
def _settings_of(table):
    """A township's stored settings, the statement built once per table (issue 9)."""
    return select(table.c.key, table.c.value).where(table.c.township_id == bindparam("township_id"))


@lru_cache(maxsize=None)
def _settings_of_many(table):
    return select(table.c.township_id, table.c.key, table.c.value).where(
        table.c.township_id.in_(bindparam("township_ids", expanding=True)))
