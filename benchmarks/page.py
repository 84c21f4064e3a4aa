"""The benchmark results page, ``docs/benchmarks.md``: each bench writes its own section of it.

A section is the text between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``. A bench
replaces its section whole (the figures, the command that produced them, the date, the load and
the machine) and leaves every other line of the page as it was, so the prose that reads the
figures stays where a person wrote it. A section the page does not have yet is added at its end.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["PAGE", "Run", "loadavg", "machine", "read_section", "section_text", "write_section"]

#: The page every bench writes, from the repository's root.
PAGE = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


@dataclass(frozen=True)
class Run:
    """How one set of figures was produced: enough to tell whether two sets can be compared."""

    #: What was run, as one would type it again.
    command: str
    #: When it started, UTC (``YYYY-MM-DD HH:MM UTC``).
    date: str
    #: CPU model and count, memory, system and Python.
    machine: str
    #: The 1-minute load average at the start and at the end.
    load: str
    #: What else the figures depend on (pulumi version, latency, repetitions, duration ...).
    settings: str = ""

    @classmethod
    def now(cls, script: str, argv: Sequence[str], *, load: str, settings: str = "") -> Run:
        """A run of ``script`` (a path from the repository's root) with ``argv``, starting now."""
        return cls(
            command=shlex.join(["python", script, *argv]),
            date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            machine=machine(),
            load=load,
            settings=settings,
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1) + "\n")

    @classmethod
    def load_from(cls, path: Path) -> Run:
        return cls(**json.loads(path.read_text()))


def loadavg() -> str:
    """The 1-minute load average, or ``?`` where /proc is not there."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "memory unknown"


def machine() -> str:
    """``CPU model, N cores, M GiB, system release, Python X.Y.Z``."""
    cores = os.cpu_count() or 0
    return (
        f"{_cpu_model()}, {cores} core{'s' if cores != 1 else ''}, {_memory()}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def _markers(name: str) -> tuple[str, str]:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise ValueError(f"a section name is lower-case letters, digits and dashes, not {name!r}")
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def section_text(runs: Sequence[Run], tables: str, *, image: str | None = None) -> str:
    """What a section holds: how the figures were made, then the figures (markdown tables)."""
    lines: list[str] = []
    for run in runs:
        lines += [
            "| run | |",
            "| --- | --- |",
            f"| command | `{run.command}` |",
            f"| date | {run.date} |",
            f"| machine | {run.machine} |",
            f"| load average | {run.load} |",
        ]
        if run.settings:
            lines.append(f"| settings | {run.settings} |")
        lines.append("")
    lines.append(tables.strip())
    if image is not None:
        lines += ["", f"![time against N, per provider and phase]({image})"]
    return "\n".join(lines) + "\n"


def read_section(page: Path, name: str) -> str | None:
    """The text of section ``name`` (without its markers), or None if the page has none."""
    start, end = _markers(name)
    text = page.read_text(encoding="utf-8") if page.exists() else ""
    if start not in text:
        return None
    return text.split(start, 1)[1].split(end, 1)[0].strip("\n") + "\n"


def write_section(page: Path, name: str, body: str, *, title: str | None = None) -> None:
    """Replace section ``name`` of ``page`` with ``body``; add it at the end (under ``title``, a
    heading) if the page does not have it yet. Every other line stays as it was."""
    start, end = _markers(name)
    text = page.read_text(encoding="utf-8") if page.exists() else "# Benchmarks\n"
    block = f"{start}\n{body.strip(chr(10))}\n{end}"
    if start in text:
        before, rest = text.split(start, 1)
        if end not in rest:
            raise ValueError(f"{page}: {start} has no {end}: fix the page by hand")
        text = before + block + rest.split(end, 1)[1]
    else:
        heading = f"## {title or name}\n\n"
        text = text.rstrip("\n") + "\n\n" + heading + block + "\n"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text, encoding="utf-8")
    print(f"{page}: section {name} written", file=sys.stderr)
