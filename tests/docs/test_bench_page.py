"""`make bench` writes docs/benchmarks.md: each bench its own section, nothing else, with how the
figures were made. Proved on small synthetic results: no benchmark runs here."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from benchmarks.page import PAGE, Run, read_section, section_text, write_section

ROOT = Path(__file__).resolve().parents[2]
RUN = Run(
    command="python scripts/bench.py --sizes 10",
    date="2030-01-02 03:04 UTC",
    machine="Test CPU, 2 cores, 1.0 GiB, Linux 6, Python 3.12.0",
    load="0.50 at the start, 1.50 at the end",
    settings="simulator latency 20 ms",
)
PAGE_TEXT = """# Benchmarks

Prose a person wrote.

<!-- bench:start-up -->
old start-up figures
<!-- /bench:start-up -->

Reading of the old start-up figures.

<!-- bench:fleet-scale -->
old fleet figures
<!-- /bench:fleet-scale -->

Reading of the old fleet figures.
"""


def test_a_section_is_replaced_and_nothing_else(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE_TEXT)
    write_section(page, "fleet-scale", "new fleet figures\n")
    expected = PAGE_TEXT.replace("old fleet figures\n<!--", "new fleet figures\n<!--")
    assert page.read_text() == expected
    write_section(page, "fleet-scale", "new fleet figures\n")
    assert page.read_text() == expected, "writing the same figures twice changes nothing"
    assert read_section(page, "start-up") == "old start-up figures\n"


def test_a_section_the_page_lacks_is_added_at_its_end(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE_TEXT)
    write_section(page, "workers-20ms", "worker figures\n", title="Beyond 4 workers")
    text = page.read_text()
    assert text.startswith(PAGE_TEXT.rstrip("\n"))
    assert text.endswith(
        "## Beyond 4 workers\n\n<!-- bench:workers-20ms -->\nworker figures\n<!-- /bench:workers-20ms -->\n"
    )


def test_a_section_without_its_end_is_refused_and_the_page_kept(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    broken = PAGE_TEXT.replace("<!-- /bench:fleet-scale -->\n", "")
    page.write_text(broken)
    with pytest.raises(ValueError, match="has no <!-- /bench:fleet-scale -->"):
        write_section(page, "fleet-scale", "new\n")
    assert page.read_text() == broken


def test_a_section_says_how_its_figures_were_made() -> None:
    text = section_text([RUN], "| N | phase |\n| --- | --- |\n| 10 | up |", image="img/fleet-scale.png")
    for fact in (RUN.command, RUN.date, RUN.machine, RUN.load, RUN.settings):
        assert fact in text
    assert text.endswith("| 10 | up |\n\n![time against N, per provider and phase](img/fleet-scale.png)\n")


def test_the_machine_is_described() -> None:
    machine = Run.now("scripts/bench.py", ["--sizes", "10"], load="1").machine
    assert "core" in machine and "Python" in machine


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )


def test_bench_writes_its_figures_into_the_page(tmp_path: Path) -> None:
    results = tmp_path / "run"
    results.mkdir()
    samples = [
        {
            "variant": variant,
            "n": 10,
            "rep": 0,
            "phase": "up",
            "seconds": seconds,
            "calls": {"create-distributor-organization": calls},
            "peak_rss_kib": 70 * 1024,
            "ok": True,
            "parallel": 8,
            "latency_ms": 20.0,
            "load": load,
        }
        for variant, seconds, calls, load in (
            ("ours", 3.25, 21, 1.5),
            ("floor", 2.5, 0, 1.25),
            ("naive", 4.0, 20, 2.0),
        )
    ]
    (results / "samples.json").write_text(json.dumps(samples))
    RUN.save(results / "run.json")
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE_TEXT)

    done = _run(
        "scripts/bench.py", "--render", str(results), "--out", str(tmp_path / "out"), "--page", str(page)
    )

    assert done.returncode == 0, done.stderr
    section = read_section(page, "fleet-scale")
    assert section is not None
    assert f"| command | `{RUN.command}` |" in section and f"| date | {RUN.date} |" in section
    # The API-aware limit: the floor's 2.5 s and 21 calls of 20 ms, 8 at a time (2.5525 s).
    assert (
        "| 10 | up | 3.25 (3.25) | 2.50 (2.50) | 4.00 (4.00) | 1.30x (1.30x) | 0.81x (0.81x) "
        "| 2.55 (2.55) | 1.27x (1.27x) | 21 | 0 | 20 | 70 | 70 | 70 | 1.2-2.0 |" in section
    )
    assert read_section(page, "start-up") == "old start-up figures\n"
    assert "Reading of the old fleet figures." in page.read_text()


def test_bench_start_writes_its_figures_into_the_page(tmp_path: Path) -> None:
    seconds = {
        "imports": {"ours": [0.021, 0.023], "floor": [0.0015, 0.0019]},
        "starts": {"ours": [0.054, 0.060], "floor": [0.0017, 0.0020]},
        "checks": {"ours": [0.00008, 0.00009], "floor": [0.000002, 0.000002]},
    }
    saved = tmp_path / "start-up.json"
    saved.write_text(json.dumps({"run": asdict(RUN), "seconds": seconds}))
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE_TEXT)

    done = _run("scripts/bench_start.py", "--render", str(saved), "--page", str(page))

    assert done.returncode == 0, done.stderr
    section = read_section(page, "start-up")
    assert section is not None and f"| machine | {RUN.machine} |" in section
    assert (
        "| program import, over `import pulumi` (ms) | 21.00 | 22.00 | 1.50 | 1.70 | +19.50 | +20.30 |"
        in section
    )
    assert read_section(page, "fleet-scale") == "old fleet figures\n"


@pytest.mark.parametrize("name", ["start-up", "fleet-scale", "fleet-5000"])
def test_the_page_holds_the_sections_make_bench_writes(name: str) -> None:
    section = read_section(PAGE, name)
    assert section is not None, f"docs/benchmarks.md has no section {name}"
    assert "| command | `python scripts/" in section and "| date | " in section
