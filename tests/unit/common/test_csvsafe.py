"""CSV exports open as text (issue 8): a cell that a spreadsheet would read as a formula gets a
leading apostrophe; plain numbers and ordinary text are written as given."""
from __future__ import annotations

import csv
import io

import pytest

from services.common.csvsafe import safe_cell, writer


@pytest.mark.parametrize("value,written", [
    ("=1+1", "'=1+1"),
    ('=HYPERLINK("http://x.example","点我")', '\'=HYPERLINK("http://x.example","点我")'),
    ("+86 138", "'+86 138"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("张伟", "张伟"),
    ("a=1", "a=1"),
    ("-4", "-4"),
    ("+2.5", "+2.5"),
    (-4, -4),
    (None, None),
    ("", ""),
])
def test_cells_that_would_be_formulas_are_text(value, written):
    assert safe_cell(value) == written


def test_the_writer_neutralises_every_cell_of_every_row():
    out = io.StringIO()
    w = writer(out, lineterminator="\n")
    w.writerow(["姓名", "=1+1"])
    w.writerows([["@cmd", 3], ["李四", "-1"]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["姓名", "'=1+1"], ["'@cmd", "3"], ["李四", "-1"]]
