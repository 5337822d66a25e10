"""Small checks of plain input data, raising ``ValidationFailed`` that names the field."""
from __future__ import annotations

from .errors import field_error


def text(data: dict, name: str, limit: int, required: bool = False, prefix: str = "") -> str | None:
    """``data[name]`` stripped; None when absent or blank (or 422 if required); 422 when not
    text or longer than ``limit``. ``prefix`` names a nested field (``complainant.name``)."""
    value = data.get(name)
    field = prefix + name
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise field_error(field, "required")
        return None
    if not isinstance(value, str):
        raise field_error(field, "must be text")
    value = value.strip()
    if len(value) > limit:
        raise field_error(field, f"at most {limit} characters")
    return value


# -- hostile input (issue 7): one check that every schema uses ------------------------------

import os  # noqa: E402
import re  # noqa: E402

from marshmallow import Schema as _MarshmallowSchema  # noqa: E402
from marshmallow import ValidationError, pre_load  # noqa: E402

MAX_LIST_ITEMS = int(os.environ.get("GATEWAY_MAX_LIST_ITEMS", "1000"))
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def bad_text_problem(value) -> str | None:
    """Why a string cannot be stored (NUL, which PostgreSQL refuses; a lone surrogate, which is
    not text and cannot be encoded), or None."""
    if isinstance(value, str):
        found = _BAD_TEXT.search(value)
        if found:
            return "must not contain NUL characters" if found.group() == "\x00" else \
                "must not contain unpaired surrogates (not valid Unicode text)"
    return None


def input_problems(data, path: str = "", limit: int | None = None) -> dict:
    """``{field path: [problem]}`` for every string (keys too) with NUL or a lone surrogate and
    every list longer than ``limit`` (``GATEWAY_MAX_LIST_ITEMS``) anywhere in ``data``."""
    limit = MAX_LIST_ITEMS if limit is None else limit
    problems: dict = {}
    stack = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            problem = bad_text_problem(value)
            if problem:
                problems[where or "_schema"] = [problem]
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{where}.{key}" if where else str(key)
                problem = bad_text_problem(key)
                if problem:
                    problems[(where or "_schema")] = [f"a key {problem}"]
                    continue
                stack.append((name, item))
        elif isinstance(value, list):
            if len(value) > limit:
                problems[where or "_schema"] = [f"at most {limit} items"]
                continue
            stack.extend((f"{where}.{i}" if where else str(i), item) for i, item in enumerate(value))
    return problems


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether JSON ``text`` nests arrays/objects deeper than ``limit`` (checked before parsing,
    so a 2 KB body nested 1,000 deep never reaches the recursive parser)."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


class Schema(_MarshmallowSchema):
    """The base of every input schema (the gateway's bodies and queries): before any field is
    read, strings with NUL or lone surrogates and over-long lists are refused with 422 naming
    the field (issue 7), wherever they are in the input."""

    @pre_load
    def _refuse_hostile_input(self, data, **kwargs):
        problems = input_problems(data)
        if problems:
            raise ValidationError(problems)
        return data
