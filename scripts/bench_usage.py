"""`make bench-usage`: the month-end export of a large fleet, `exo-distributor usage --all --lines`.

Against the simulator with a latency per request (20 ms by default), with 1,000 organizations x
12 closed months (12,000 statements) by default, for each ``--parallel`` value:

- **cold**: an empty cache, every statement read from the API;
- **cached**: the same command again: the closed months come from the cache;
- **resumed** (the first ``--parallel`` value only): a cold run killed (SIGKILL) once half the
  statements were read, then the same command again, timed: it must read only what the killed run
  had not cached, and print the cold run's export byte for byte.

Each run is the installed console script, its stdout (the CSV) to a file, timed from start to
exit; API calls are the simulator's books before and after; peak RSS is the command's own
(``wait4``). The simulator serves in this process (its clock set back, so that the customers have
existed for the whole range: ``scripts/billing_fleet.py``). The figures go into
``bench-out/usage-fleet.json`` and into the ``usage-fleet`` section of ``docs/benchmarks.md``
(``--no-page`` leaves the page alone; ``--render FILE`` writes the page from a saved file).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from billing_fleet import History, closed_months, history

from benchmarks.page import PAGE, Run, loadavg, section_text, write_section

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).with_name("exo-distributor")
LIST = "list-distributor-organizations"
USAGE = "list-distributor-organization-usage"
SECTION = "usage-fleet"
TITLE = "The fleet's usage: `usage --all --lines`"


@dataclass
class Figure:
    run: str
    parallel: int
    seconds: float
    usage_calls: int
    list_calls: int
    cached_before: int
    peak_rss_mib: float
    lines: int
    exit_code: int

    @property
    def per_second(self) -> str:
        """Statements read from the API per second of the run ("-" for a run that read none)."""
        return f"{self.usage_calls / self.seconds:.0f}" if self.usage_calls and self.seconds else "-"


def _cache_entries(cache: Path) -> int:
    return sum(1 for _ in (cache / "exo-distributor" / "usage").glob("*/*/*.json"))


def _command(fleet: History, cache: Path, parallel: int, out: Path, kill_after: int | None = None) -> Figure:
    """One run of the export; with ``kill_after``, SIGKILL once that many statements were read."""
    args = ["usage", "--all", "--from", fleet.periods[0], "--to", fleet.periods[-1], "--lines", "-o", "csv"]
    args += ["--parallel", str(parallel)]
    cached_before = _cache_entries(cache)
    before = fleet.simulator.stats()
    with out.open("wb") as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(COMMAND), *args], env=fleet.env(str(cache)), stdout=stdout, stderr=stderr
        )
        if kill_after is not None:
            while fleet.simulator.stats()[USAGE] - before[USAGE] < kill_after and process.poll() is None:
                time.sleep(0.001)  # polls the books: the kill follows the calls
            process.send_signal(signal.SIGKILL)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0 and kill_after is None:
            stderr.seek(0)
            sys.stderr.write(stderr.read().decode("utf-8", "replace"))
            raise SystemExit(f"exo-distributor failed with exit code {process.returncode}")
    if kill_after is not None:
        # A barrier, not a wait: the killed run's requests in flight are counted once their
        # latency has passed, and this one's latency ends after theirs.
        fleet.api.list_organizations()
    after = fleet.simulator.stats()
    return Figure(
        run="killed" if kill_after is not None else "",
        parallel=parallel,
        seconds=seconds,
        usage_calls=after[USAGE] - before[USAGE],
        list_calls=after[LIST] - before[LIST] - (1 if kill_after is not None else 0),
        cached_before=cached_before,
        peak_rss_mib=usage.ru_maxrss / 1024,  # KiB on Linux
        lines=max(0, out.read_bytes().count(b"\n") - 1),
        exit_code=process.returncode,
    )


def bench(fleet: History, parallels: list[int], out: Path) -> list[Figure]:
    figures: list[Figure] = []
    total = len(fleet.ids) * len(fleet.periods)
    for index, parallel in enumerate(parallels):
        with tempfile.TemporaryDirectory(prefix="bench-usage-cache-") as cache_dir:
            cache = Path(cache_dir)
            for run in ("cold", "cached"):
                figure = _command(fleet, cache, parallel, out / f"{run}-{parallel}.csv")
                figure.run = run
                figures.append(figure)
                _report(figure)
        if index == 0:
            with tempfile.TemporaryDirectory(prefix="bench-usage-cache-") as cache_dir:
                cache = Path(cache_dir)
                killed = _command(fleet, cache, parallel, out / "killed.csv", kill_after=total // 2)
                kept = _cache_entries(cache)
                figures.append(killed)
                _report(killed)
                print(f"killed with {kept} of {total} statements cached", flush=True)
                figure = _command(fleet, cache, parallel, out / f"resumed-{parallel}.csv")
                figure.run = "resumed"
                figures.append(figure)
                _report(figure)
                if (out / f"resumed-{parallel}.csv").read_bytes() != (
                    out / f"cold-{parallel}.csv"
                ).read_bytes():
                    raise SystemExit("the resumed run did not print the cold run's export")
                if figure.usage_calls != total - kept:
                    raise SystemExit(
                        f"the resumed run read {figure.usage_calls}, not the {total - kept} it lacked"
                    )
    return figures


def _report(figure: Figure) -> None:
    print(
        f"{figure.run:8} --parallel {figure.parallel:2}: {figure.seconds:7.1f} s, {figure.usage_calls} usage "
        f"call(s), {figure.list_calls} list, {figure.lines} line(s), peak RSS {figure.peak_rss_mib:.0f} MiB",
        flush=True,
    )


def table(figures: list[Figure], total: int) -> str:
    rows = [
        "| run | --parallel | cached before | usage calls | list calls | wall time (s) "
        "| statements read per s | peak RSS (MiB) | CSV lines |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for figure in figures:
        rows.append(
            f"| {figure.run} | {figure.parallel} | {figure.cached_before} of {total} | {figure.usage_calls} "
            f"| {figure.list_calls} | {figure.seconds:.1f} | {figure.per_second} "
            f"| {figure.peak_rss_mib:.0f} | {figure.lines} |"
        )
    return "\n".join(rows) + "\n"


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--organizations", type=int, default=1000, help="how many (default 1000)")
    parser.add_argument("--months", type=int, default=12, help="closed months before this one (default 12)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="the simulator's latency (default 20)")
    parser.add_argument("--parallel", type=_ints, default=[4, 16], help="--parallel values (default 4,16)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "usage", help="where results go")
    parser.add_argument("--no-page", action="store_true", help="print and save the figures, leave the page")
    parser.add_argument("--section", default=SECTION, help=f"the page's section (default {SECTION})")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="FILE",
        help="write the page from a saved usage-fleet.json, run nothing",
    )
    args = parser.parse_args(argv)
    if args.render is not None:
        saved = json.loads(args.render.read_text())
        run, figures = Run(**saved["run"]), [Figure(**figure) for figure in saved["figures"]]
        total = figures[0].cached_before + figures[0].usage_calls  # the first run is a cold one
        write_section(PAGE, args.section, section_text([run], table(figures, total)), title=TITLE)
        return 0
    if not COMMAND.exists():
        raise SystemExit(f"{COMMAND} is missing: run `make bench-usage` (it installs the extras)")

    periods = closed_months(args.months)
    total = args.organizations * len(periods)
    load_start = loadavg()
    run = Run.now(
        "scripts/bench_usage.py",
        sys.argv[1:] if argv is None else argv,
        load="",
        settings=(
            f"{args.organizations} organizations x {len(periods)} months ({periods[0]} to {periods[-1]}) = "
            f"{total} statements; simulator latency {args.latency_ms:g} ms, in the bench's process; "
            "`usage --all --lines -o csv` through the installed console script"
        ),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with history(args.organizations, periods, latency_ms=args.latency_ms) as fleet:
        print(
            f"{args.organizations} organizations ready in {time.perf_counter() - started:.1f} s", flush=True
        )
        figures = bench(fleet, args.parallel, args.out)
    run = Run(**{**asdict(run), "load": f"{load_start} at the start, {loadavg()} at the end"})
    text = table(figures, total)
    print("\n" + text)
    (args.out.parent / "usage-fleet.json").write_text(
        json.dumps({"run": asdict(run), "figures": [asdict(f) for f in figures]}, indent=1) + "\n"
    )
    if not args.no_page:
        write_section(
            PAGE, args.section, section_text([run], text), title="The fleet's usage: `usage --all --lines`"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
