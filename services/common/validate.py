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
