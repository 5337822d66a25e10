"""CSV exports that open as text (issue 8): a cell beginning with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is read by spreadsheet programs as a formula (CSV injection:
``=HYPERLINK("http://…","点我")`` in a borrower's name becomes a live link). Such a cell gets a
leading apostrophe, which spreadsheets show as text; plain numbers (``-4``, ``+2.5``) stay
numbers. Every CSV export writes through :func:`writer`."""
from __future__ import annotations

import csv
import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.match(value):
        return "'" + value
    return value


class SafeWriter:
    def __init__(self, out, **kwargs):
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(out, **kwargs) -> SafeWriter:
    """``csv.writer`` whose every cell is neutralised (``safe_cell``)."""
    return SafeWriter(out, **kwargs)
