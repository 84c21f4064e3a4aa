"""How the commands write what they found: tables (rich), JSON, CSV with cells safe for
spreadsheets, and progress on stderr."""

from __future__ import annotations

import csv
import itertools
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, cast

import click
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from .._data import (
    OrganizationInfo,
)
from .._inputs import ADDRESS_FIELDS
from ._base import _stderr_console

# -- output ------------------------------------------------------------------------------------


def _output_option(*choices: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--output",
        "-o",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output format: a table for people, json or csv for programs.",
    )


def _print_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


# A cell a spreadsheet would run as a formula starts with one of these (OWASP, CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number, such as an amount of -12.50 or -1E-7 (as str() writes a Decimal): a spreadsheet
# reads it as the number it is, and it holds nothing a formula could call.
_PLAIN_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _csv_cell(value: object) -> object:
    """A cell that a spreadsheet shows as text rather than running: a name such as
    ``=HYPERLINK(...)`` gets a leading ``'``. Plain numbers stay as they are, signs included."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _print_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Every CSV the command prints goes through here: cells from the API are the caller's
    customers' text, and the file is opened by people in spreadsheets."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    # The csv module quotes a field that holds its line terminator, not one holding a lone CR
    # (before Python 3.13), which readers take for the end of the row: such a row is quoted whole.
    quoting_all = csv.writer(sys.stdout, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in itertools.chain([header], rows):
        cells = [_csv_cell(cell) for cell in row]
        has_cr = any(isinstance(cell, str) and "\r" in cell for cell in cells)
        (quoting_all if has_cr else writer).writerow(cells)


def _cell(value: object) -> Text:
    # Text, not str: a name such as "[bold]" from the API must print as it is, not as markup.
    return Text("" if value is None else str(value))


def _table(*columns: str, title: str | None = None, numeric: Iterable[str] = ()) -> Table:
    table = Table(
        title=title,
        min_width=len(title) if title else None,  # a title wider than the table stays on one line
        box=box.SIMPLE_HEAD,
        title_justify="left",
        title_style="bold",
        pad_edge=False,
        show_edge=False,
    )
    right = set(numeric)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", overflow="fold")
    return table


def _money(value: str | Decimal | None) -> str | None:
    """For a table: at least two decimals (0.4 -> 0.40), never fewer digits than the API gave."""
    if value is None:
        return None
    amount = Decimal(value)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        amount = amount.quantize(Decimal("0.01"))
    return f"{amount:f}"


def _name(org: OrganizationInfo) -> str | None:
    return org["billing_address"]["name"] if org["billing_address"] else None


#: The billing address's fields, as the input model declares them.
_ADDRESS_FIELDS = ADDRESS_FIELDS


def _address(org: OrganizationInfo, key: str) -> str | None:
    address = org["billing_address"]
    return None if address is None else cast("str | None", address.get(key))


@contextmanager
def _progress(description: str, total: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr, shown only to a person (an interactive terminal)."""
    console = _stderr_console()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not (console.is_terminal and console.is_interactive),
    )
    with progress:
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)
