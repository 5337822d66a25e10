"""Personal data (DOMAIN "Personal data"): masks for ID numbers and phones, and the redaction
of free text shown to a role that may not see whom it is about.

* ``mask_phone("13812345678")`` → ``138****5678``;
* ``mask_id_number("110101199003071234")`` → ``110***********1234``;
* ``mask_address("柳溪村 3 组")`` → ``***`` (``WITHHELD``: an address, or a secret, not shown at all);
* ``hide_identifiers(text, names=(...), phones=(...))`` hides the given names and phones (the
  complainant's) and anything shaped like an ID number — 18 characters (17 digits and a digit
  or X) or 15 digits, whatever its check digit — or a mobile number, written anywhere in the text.
"""
from __future__ import annotations

import re

HIDDEN = "[已隐去]"
#: what stands for a value withheld as a whole (an address outside P2's roles, a webhook secret)
WITHHELD = "***"

# an ID-number shape not glued to other letters or digits (CJK text around it is fine)
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|\d{15})(?![0-9A-Za-z])")
# a mainland mobile number, optionally written 138-1234-5678 / 138 1234 5678 / +86…
MOBILE_RE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![0-9A-Za-z])")


def mask_phone(phone: str | None) -> str | None:
    """``138****5678``: the first three and last four digits stay."""
    if not phone:
        return phone
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:] if len(phone) >= 8 else "*" * len(phone)


def mask_id_number(number: str | None) -> str | None:
    """``110***********1234``: the first three and last four characters stay (of a short
    number — a passport's 8 or 9 — the first one: ``E****5678``; under 8, none)."""
    if not number:
        return number
    if len(number) < 8:
        return "*" * len(number)
    head = 3 if len(number) >= 10 else 1
    return number[:head] + "*" * (len(number) - head - 4) + number[-4:]


def mask_id_numbers_in(text: str | None) -> str | None:
    """Every ID-number shape in free text masked like ``mask_id_number``."""
    if not text:
        return text
    return ID_NUMBER_RE.sub(lambda m: mask_id_number(m.group(0)), text)


LONG_DIGITS_RE = re.compile(r"\d[\d\s-]{5,}\d[\dXx]?")


def mask_long_numbers(text: str | None) -> str | None:
    """Every run of 7 or more digits (phones with separators, ID numbers, account numbers) in
    free text kept to its first three and last two characters: ``138****78``."""
    if not text:
        return text
    return LONG_DIGITS_RE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-2:], text)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def hide_identifiers(text: str | None, names=(), phones=(), replacement: str = HIDDEN) -> str | None:
    """Free text as a role without the right to see the person may read it: the given names and
    phones replaced, ID-number shapes masked, mobile numbers masked (``138****5678``).

    A phone given is also found when written with separators (138-1234-5678)."""
    if not text:
        return text
    for secret in sorted((s for s in names if s and len(s.strip()) >= 2), key=len, reverse=True):
        text = text.replace(secret.strip(), replacement)
    wanted = {_digits(p)[-11:] for p in phones if p and len(_digits(p)) >= 6}
    for phone in phones:
        if phone and len(phone.strip()) >= 6:
            text = text.replace(phone.strip(), replacement)
    text = mask_id_numbers_in(text)

    def phone_shape(m: re.Match) -> str:
        digits = _digits(m.group(0))
        return replacement if digits[-11:] in wanted else mask_phone(digits[-11:])

    return MOBILE_RE.sub(phone_shape, text)


def mask_address(address: str | None) -> str:
    """An address is not shown in part: ``***`` whatever it was (P2, L2)."""
    return WITHHELD


def mask_name(name: str) -> str:
    """``王晓燕`` → ``王*燕``, ``王五`` → ``王*`` (what a receipt query shows, I4)."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
