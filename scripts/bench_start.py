"""Start-up and check cost, ours against the floor (benchmarks/floor.py), side by side.

What each command of a fleet pays before any API call, measured outside the engine so that the
engine's own noise does not hide it:

- **program import**: a fresh interpreter imports ``pulumi``, then the resource class a program
  uses (``pulumi_exo_distributor.DistributorOrganization``, or the floor's); the figure is the
  second import alone, "over ``import pulumi``";
- **provider start**: a fresh interpreter imports the dynamic-provider host
  (what ``pulumi/dynamic/__main__.py`` imports), then does what the host does for the first call: decodes the
  pickled provider as the SDK serialised it, calls ``configure()`` and one ``check()``; the figure
  is that second part alone, over the host's own import;
- **provider start to its first API call**: the same, with credentials and a simulator (no
  latency) in reach, so that the first check of a new resource makes the call a first `up` makes
  (the list of organizations, for its takeover rule): the import of the HTTP client stack that the
  first call waits for is in this figure; the floor makes no call;
- **check**: in this process, the provider's ``check()`` of one new resource (the bench program's
  inputs), per call, over blocks of calls.

Fresh interpreters run ours and the floor alternately, ``--reps`` times each; the table gives the
min and the median, and ours minus the floor. Run by ``make bench`` before the phases, or alone:
``.venv/bin/python scripts/bench_start.py``. The figures go, with the run's record, into
``bench-out/start-up.json`` and into the ``start-up`` section of ``docs/benchmarks.md``
(``--no-page`` leaves the page alone; ``--render FILE`` writes the page from a saved file).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from benchmarks.page import PAGE, Run, loadavg, section_text, write_section

ROOT = Path(__file__).resolve().parent.parent

#: Each snippet prints one float: the seconds the measured part took.
_IMPORT = """
import time
import pulumi
t = time.perf_counter()
{load}
print(time.perf_counter() - t)
"""
_LOAD = {
    "ours": "import pulumi_exo_distributor; pulumi_exo_distributor.DistributorOrganization",
    "floor": "from benchmarks.floor import FloorOrganization",
}

_START = """
import base64, time
# What the host (pulumi/dynamic/__main__.py, which serves as soon as it is imported) imports.
import dill, grpc
from google.protobuf import empty_pb2
from pulumi.runtime import configure, proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc
from pulumi.dynamic import Config, ConfigureRequest
blob = {blob!r}
news = {news!r}
t = time.perf_counter()
provider = dill.loads(base64.b64decode(blob))
provider.configure(ConfigureRequest(config=Config(raw_config={{}}, project_name="bench")))
provider.check({{}}, news)
print(time.perf_counter() - t)
"""

VARIANTS = ("ours", "floor")
KEY, SECRET = "EXObenchstart00000000001", "bench-secret"


def news(i: int) -> dict[str, Any]:
    """What the engine hands check() for the bench program's i-th organization (benchmarks/program.py)."""
    from benchmarks import organization_inputs

    return {
        **organization_inputs(i),
        "status": "active",
        "default_client_id": f"pulumi:bench/bench/org-{i:05d}",
    }


def provider(variant: str) -> Any:
    if variant == "ours":
        from pulumi_exo_distributor import DistributorOrganizationProvider

        return DistributorOrganizationProvider()
    from benchmarks.floor import FloorProvider

    return FloorProvider()


def serialised(variant: str) -> str:
    """The provider as the SDK puts it in a resource's ``__provider`` property."""
    from pulumi.dynamic.dynamic import serialize_provider

    blob: str = serialize_provider(provider(variant))
    return blob


def run_fresh(code: str, env: dict[str, str] | None = None) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    ).stdout
    return float(out.split()[-1])


def interleaved(
    snippets: dict[str, str], reps: int, env: dict[str, str] | None = None
) -> dict[str, list[float]]:
    seconds: dict[str, list[float]] = {name: [] for name in snippets}
    for rep in range(reps):
        order = list(snippets) if rep % 2 == 0 else list(reversed(snippets))
        for name in order:
            seconds[name].append(run_fresh(snippets[name], env))
    return seconds


def first_calls(starts: dict[str, str], reps: int) -> dict[str, list[float]]:
    """The provider ``starts``, with the first API call each makes, against a simulator without latency."""
    from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, simulator_process

    config = SimulatorConfig(credentials=(Credential(KEY, SECRET),), latency_ms=0)
    with simulator_process(config) as sim:
        env = {
            **os.environ,
            "EXOSCALE_API_KEY": KEY,
            "EXOSCALE_API_SECRET": SECRET,
            "EXOSCALE_PARTNER_API_ENDPOINT": sim.url,
            "PYTHONPATH": str(ROOT),
        }
        before = sim.stats()
        seconds = interleaved(starts, reps, env)
        calls = sum(sim.stats().values()) - sum(before.values())
    if calls < reps:
        raise RuntimeError(f"ours made {calls} API calls in {reps} starts: the figure would not include one")
    return seconds


def check_cost(calls: int, blocks: int) -> dict[str, list[float]]:
    """Seconds per check() call, one figure per block, ours and the floor alternately."""
    inputs = [news(i) for i in range(calls)]
    providers = {variant: provider(variant) for variant in VARIANTS}
    per_call: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for block in range(blocks):
        order = VARIANTS if block % 2 == 0 else tuple(reversed(VARIANTS))
        for variant in order:
            check: Callable[[dict[str, Any], dict[str, Any]], Any] = providers[variant].check
            started = time.perf_counter()
            for item in inputs:
                check({}, dict(item))
            per_call[variant].append((time.perf_counter() - started) / calls)
    return per_call


def row(what: str, seconds: dict[str, list[float]], goal: str, digits: int = 2) -> str:
    ours, floor = seconds["ours"], seconds["floor"]
    figures = (
        min(ours),
        statistics.median(ours),
        min(floor),
        statistics.median(floor),
        min(ours) - min(floor),
        statistics.median(ours) - statistics.median(floor),
    )
    cells = [f"{value * 1000:.{digits}f}" for value in figures]
    cells[4:] = ["+" + cell if not cell.startswith("-") else cell for cell in cells[4:]]
    return f"| {what} | {' | '.join(cells)} | {goal} |"


HEADER = ("what", "ours min", "ours median", "floor min", "floor median", "ours - floor, of mins")


def start_table(seconds: dict[str, dict[str, list[float]]]) -> str:
    """The markdown table of ``{"imports": ..., "starts": ..., "checks": ...}``, each ``{variant: [s]}``."""
    lines = [
        "| " + " | ".join((*HEADER, "of medians", "goal")) + " |",
        "| --- " * (len(HEADER) + 2) + "|",
        row("program import, over `import pulumi` (ms)", seconds["imports"], "ours ≤ 100"),
        row("provider start: unpickle, configure, first check (ms)", seconds["starts"], "ours - floor ≤ 100"),
        *(
            [
                row(
                    "provider start to its first API call: the same, the check listing the "
                    "organizations (ms)",
                    seconds["first-call"],
                    "-",
                )
            ]
            if "first-call" in seconds
            else []
        ),
        row("`check()` of one new resource, per call (ms)", seconds["checks"], "ours - floor ≤ 1", digits=3),
    ]
    return "\n".join(lines)


def publish(run: Run, seconds: dict[str, dict[str, list[float]]], page: Path | None) -> None:
    """Print the table; write it, with how it was made, into the results page unless ``page`` is None."""
    text = start_table(seconds)
    print(f"{run.settings}; load average {run.load}.\n\n{text}")
    if page is not None:
        write_section(page, "start-up", section_text([run], text))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--reps", type=int, default=15, help="fresh interpreters per variant (default 15)")
    parser.add_argument("--calls", type=int, default=1000, help="check() calls per block (default 1000)")
    parser.add_argument("--blocks", type=int, default=10, help="blocks of calls per variant (default 10)")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench-out" / "start-up.json",
        help="the figures and the run's record",
    )
    parser.add_argument(
        "--page", type=Path, default=PAGE, help="the results page (default docs/benchmarks.md)"
    )
    parser.add_argument("--no-page", action="store_true", help="print and save the figures, leave the page")
    parser.add_argument(
        "--render", type=Path, metavar="FILE", help="no run: the table and the page from a saved --out file"
    )
    args = parser.parse_args(argv)
    page = None if args.no_page else args.page
    if args.render:
        saved = json.loads(args.render.read_text())
        publish(Run(**saved["run"]), saved["seconds"], page)
        return 0

    sys.path.insert(0, str(ROOT))
    load_before = loadavg()
    run = Run.now(
        "scripts/bench_start.py",
        sys.argv[1:] if argv is None else argv,
        load="",
        settings=f"{args.reps} fresh interpreters per variant, {args.blocks} blocks of {args.calls} checks "
        "each; milliseconds",
    )
    starts = {v: _START.format(blob=serialised(v), news=news(0)) for v in VARIANTS}
    seconds = {
        "imports": interleaved({v: _IMPORT.format(load=_LOAD[v]) for v in VARIANTS}, args.reps),
        "starts": interleaved(starts, args.reps),
        "first-call": first_calls(starts, args.reps),
        "checks": check_cost(args.calls, args.blocks),
    }
    run = replace(run, load=f"{load_before} at the start, {loadavg()} at the end")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"run": asdict(run), "seconds": seconds}, indent=1) + "\n")
    publish(run, seconds, page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
