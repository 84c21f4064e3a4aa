"""The chart: drawn from chart panels, any label as written, the same bytes for the same figures."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pulumi_exo_distributor._billing import ChartPanel, ChartSeries
from pulumi_exo_distributor._chart import _text, draw_chart

# Drawing needs the billing extra (matplotlib), which `make setup` installs for the tests.


def panels() -> list[ChartPanel]:
    periods = ("2026-10", "2026-11", "2026-12")
    return [
        ChartPanel(
            "CHF",
            periods,
            (
                ChartSeries("$5 $ store", (Decimal("1200.50"), Decimal("1300"), Decimal("90.10"))),
                ChartSeries("_underscore AG", (Decimal(40), Decimal(45), Decimal(50))),
                ChartSeries("3 other customers", (Decimal(10), Decimal(0), Decimal(5)), others=3),
            ),
        ),
        ChartPanel("EUR", periods, (ChartSeries("Beta GmbH", (Decimal(0), Decimal("0.40"), Decimal(7))),)),
    ]


def test_labels_are_drawn_as_written() -> None:
    assert _text("$5 $ store") == r"\$5 \$ store"
    assert _text("_underscore AG") == "\u200b_underscore AG"
    assert _text("Acme SA") == "Acme SA"


def test_a_chart_is_a_png_and_the_same_figures_give_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    for path in (first, second):
        draw_chart(panels(), path, title="Usage by customer", open_periods=["2026-12"])
    assert first.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert first.read_bytes() == second.read_bytes()
    assert b"Software" not in first.read_bytes()


def test_no_usage_still_draws(tmp_path: Path) -> None:
    draw_chart([], tmp_path / "empty.png", title="Usage by product")
    assert (tmp_path / "empty.png").stat().st_size > 0
