"""CSV that a spreadsheet reads as data, never as a formula: every CSV the command writes.

A customer's name comes from whoever created the organization. A cell such as ``=HYPERLINK(...)``
or ``@SUM(...)`` written as it is would be run as a formula by the spreadsheet that opens the
export (CSV injection). A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is therefore written with a ``'`` before it, which spreadsheets take as "this is
text" and do not show. A plain decimal number (``-12.50``, a credit) is left as it is: it is read
as a number, and an invoice needs it as one.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import IO

__all__ = ["FORMULA_STARTS", "safe_cell", "write_csv"]

#: What a cell must not start with (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# ASCII digits only: a spreadsheet reads this as a number, whatever its sign.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def safe_cell(value: object) -> str:
    """``value`` as a CSV cell: empty for None, numbers in plain notation, text neutralised."""
    if type(value) is str and not value.startswith(FORMULA_STARTS):
        return value  # the common case, first: an export has hundreds of thousands of cells
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_csv(stream: IO[str], header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A header and rows, every cell through :func:`safe_cell`."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
