"""CSV cells a spreadsheet reads as data: text that could start a formula is neutralised,
numbers stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from pulumi_exo_distributor._spreadsheet import FORMULA_STARTS, safe_cell, write_csv


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example","click")',
        "+41 21 555 00 00",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1:A9)",
        "\tindented",
        "\rcarriage",
        "=1+1",
        "-",
        "-1e5",  # not plain notation: text (the command writes every amount in plain notation)
    ],
)
def test_text_that_could_start_a_formula_is_neutralised(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert text.startswith(FORMULA_STARTS)


@pytest.mark.parametrize("number", ["-12.50", "+3", "-0.01", "42", "18.45"])
def test_plain_numbers_stay_numbers(number: str) -> None:
    assert safe_cell(number) == number


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (Decimal("-12.50"), "-12.50"),
        (Decimal("1E+3"), "1000"),
        (Decimal("1E-7"), "0.0000001"),
        (3, "3"),
        ("Acme SA", "Acme SA"),
        ("a=b", "a=b"),  # only the first character matters
        (" =1+1", " =1+1"),
        ("", ""),
    ],
)
def test_other_cells(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_write_csv_neutralises_every_cell_and_reads_back() -> None:
    stream = io.StringIO()
    write_csv(stream, ["name", "amount"], [["=cmd|'/C calc'!A0", Decimal("-5.00")], ["Acme, SA", None]])
    rows = list(csv.reader(io.StringIO(stream.getvalue())))
    assert rows == [["name", "amount"], ["'=cmd|'/C calc'!A0", "-5.00"], ["Acme, SA", ""]]
