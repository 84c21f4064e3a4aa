"""`make bench`: fleet scale, measured side by side with the real pulumi CLI against the simulator.

For each N, each repetition runs every provider variant in turn (the order rotates from one
repetition to the next), and each variant goes through the phases of a fleet's life on a fresh
stack (file backend): `up` (create N), an unchanged `preview`, an unchanged `up`, `refresh`, a
status change of all N (`up`), and `destroy`. Each phase is one `pulumi` command, timed from its
start to its exit, with the API calls it caused (the simulator's books) and the peak RSS of the
dynamic provider host (polled from /proc among this script's descendants).

Variants: `ours` (this package), `floor` (benchmarks/floor.py: same inputs and outputs, no API
call), `naive` (benchmarks/naive.py: Exoscale's official client, one call per operation). A
variant written `ours@4` runs ours with its host capped at 4 workers (the SDK's own number).

With the floor beside ours, each phase also gets its *API-aware limit*: the floor's time plus the
calls ours made times the simulator's latency, divided by the steps the engine runs at once
(`--parallel`, else pulumi's default of 4 per CPU) -- what no provider that makes those calls can
beat -- and ours over it. Each sample records the 1-minute load average when its phase started.

Prints a markdown table (median and min of the repetitions, and their ratios), writes it with
the raw samples (JSON), the run's record (run.json) and a plot (PNG) into --out, and into its
section of docs/benchmarks.md (--section, default fleet-scale) with the command, the date, the
load and the machine (--no-page to leave the page alone).
"""

from __future__ import annotations

import argparse
import compileall
import functools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmarks.page import PAGE, Run, loadavg, section_text, write_section
from benchmarks.profile import ProfiledRun, descendants
from pulumi_exo_distributor._host import ENV_WORKERS
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, simulator_process

ROOT = Path(__file__).resolve().parent.parent
KEY, SECRET = "EXObench000000000000000001", "bench-secret"
PASSPHRASE = "bench"  # noqa: S105 -- a throw-away stack's
PROGRAM = ROOT / "benchmarks" / "program.py"
PHASES = ("preview-create", "up", "preview", "up-unchanged", "refresh", "status", "destroy")
#: What `make bench` runs; preview-create (the preview of the first up) is for `make bench-5000`.
DEFAULT_PHASES = PHASES[1:]
#: What each phase asks of pulumi (the stack is added); unchanged phases fail on any change.
COMMANDS: dict[str, list[str]] = {
    "preview-create": ["preview"],
    "up": ["up", "--yes", "--skip-preview"],
    "preview": ["preview", "--expect-no-changes"],
    "up-unchanged": ["up", "--yes", "--skip-preview", "--expect-no-changes"],
    "refresh": ["refresh", "--yes", "--skip-preview"],
    "status": ["up", "--yes", "--skip-preview"],
    "destroy": ["destroy", "--yes", "--skip-preview"],
}
PROVIDERS = ("ours", "floor", "naive")


@dataclass(frozen=True)
class Variant:
    name: str
    provider: str
    workers: int | None = None

    @classmethod
    def parse(cls, text: str) -> Variant:
        provider, _, workers = text.partition("@")
        if provider not in PROVIDERS:
            raise argparse.ArgumentTypeError(f"unknown provider {provider!r}: one of {', '.join(PROVIDERS)}")
        if workers and provider != "ours":
            raise argparse.ArgumentTypeError("only ours takes @WORKERS")
        return cls(text, provider, int(workers) if workers else None)


@dataclass
class Sample:
    variant: str
    n: int
    rep: int
    phase: str
    seconds: float
    calls: dict[str, int]
    peak_rss_kib: int | None
    ok: bool
    parallel: int | None = None
    host_threads: int | None = None
    skip_checkpoints: bool = False
    #: The simulator's latency per request, and the 1-minute load average when the phase started.
    latency_ms: float | None = None
    load: float | None = None

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


# -- peak RSS of the dynamic provider host --------------------------------------------------------


class HostMemory:
    """Polls /proc for this process's descendants running ``python -m pulumi.dynamic`` and keeps
    the highest VmHWM (the kernel's own peak RSS of each) seen during a phase, and the most
    threads it ran at once (the gRPC workers show there)."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self._peak: int | None = None
        self._threads: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _poll(self) -> None:
        hosts = [pid for pid, cmdline in descendants(os.getpid()).items() if "pulumi.dynamic" in cmdline]
        for pid in hosts:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        kib = int(line.split()[1])
                        self._peak = kib if self._peak is None else max(self._peak, kib)
                    elif line.startswith("Threads:"):
                        threads = int(line.split()[1])
                        self._threads = threads if self._threads is None else max(self._threads, threads)
            except OSError:
                pass

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._poll()

    @contextmanager
    def watch(self) -> Iterator[HostMemory]:
        self._peak = self._threads = None
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()

    @property
    def peak_kib(self) -> int | None:
        return self._peak

    @property
    def peak_threads(self) -> int | None:
        return self._threads


# -- one stack through the phases ---------------------------------------------------------------


class Bench:
    def __init__(
        self,
        workdir: Path,
        sim: Any,
        *,
        parallel: int | None,
        skip_checkpoints_from: int,
        log: Path,
        latency_ms: float,
        profile: Path | None = None,
    ) -> None:
        self.workdir = workdir
        self.profiler = ProfiledRun(profile) if profile is not None else None
        self.sim = sim
        self.latency_ms = latency_ms
        self.parallel = parallel
        self.skip_checkpoints_from = skip_checkpoints_from
        self.skip_checkpoints = False
        self.log = log
        self.project = workdir / "project"
        self.project.mkdir()
        shutil.copy(PROGRAM, self.project / "__main__.py")
        venv = Path(sys.executable).parent.parent
        (self.project / "Pulumi.yaml").write_text(
            f"name: bench\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: {venv}\n"
        )
        self.home = workdir / "pulumi-home"
        self.memory = HostMemory()
        self.count = 0

    def env(self, backend: Path, variant: Variant) -> dict[str, str]:
        env = {
            **os.environ,
            "PULUMI_BACKEND_URL": f"file://{backend}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_HOME": str(self.home),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PYTHONPATH": str(ROOT),
            "EXOSCALE_API_KEY": KEY,
            "EXOSCALE_API_SECRET": SECRET,
            "EXOSCALE_PARTNER_API_ENDPOINT": self.sim.url,
        }
        env.pop(ENV_WORKERS, None)
        env.pop("PULUMI_SKIP_CHECKPOINTS", None)
        if self.skip_checkpoints:
            env["PULUMI_SKIP_CHECKPOINTS"] = "true"
        if variant.workers is not None:
            env[ENV_WORKERS] = str(variant.workers)
        return env

    def pulumi(
        self, args: Sequence[str], env: dict[str, str], *, profile: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        with self.log.open("a") as log:
            log.write(f"\n$ pulumi {' '.join(args)}\n")
            log.flush()
            if profile is not None and self.profiler is not None:
                proc = self.profiler.run(
                    ["pulumi", *args, "--non-interactive"],
                    prefix=profile,
                    cwd=self.project,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                cpu = ", ".join(f"{name} {sec:.2f} s" for name, sec in sorted(self.profiler.cpu.items()))
                log.write(f"CPU: {cpu}\n")
                return subprocess.CompletedProcess(proc.args, proc.returncode or 0)
            return subprocess.run(
                ["pulumi", *args, "--non-interactive"],
                cwd=self.project,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
            )

    def run(self, variant: Variant, n: int, rep: int, phases: Sequence[str]) -> list[Sample]:
        self.count += 1
        self.skip_checkpoints = n >= self.skip_checkpoints_from
        backend = self.workdir / f"backend-{self.count}"
        backend.mkdir()
        env = self.env(backend, variant)
        stack = f"s{self.count}"
        setup = [
            ["stack", "init", stack],
            ["config", "set", "--stack", stack, "provider", variant.provider],
            ["config", "set", "--stack", stack, "count", str(n)],
            ["config", "set", "--stack", stack, "status", "active"],
        ]
        for args in setup:
            if self.pulumi(args, env).returncode:
                raise RuntimeError(f"pulumi {' '.join(args)} failed: see {self.log}")
        samples = []
        try:
            for phase in phases:
                if phase == "status":
                    self.pulumi(["config", "set", "--stack", stack, "status", "suspended"], env)
                args = COMMANDS[phase]
                args = [*args, "--stack", stack]
                if self.parallel is not None and phase != "preview":
                    args += ["--parallel", str(self.parallel)]
                before = self.sim.stats()
                load = os.getloadavg()[0]
                with self.memory.watch():
                    started = time.perf_counter()
                    done = self.pulumi(args, env, profile=f"{variant.name}-{n}-{rep}-{phase}-")
                    seconds = time.perf_counter() - started
                after = self.sim.stats()
                calls = {op: after[op] - before.get(op, 0) for op in after if after[op] - before.get(op, 0)}
                sample = Sample(
                    variant.name,
                    n,
                    rep,
                    phase,
                    seconds,
                    calls,
                    self.memory.peak_kib,
                    ok=done.returncode == 0,
                    parallel=self.parallel or engine_parallel(),
                    host_threads=self.memory.peak_threads,
                    skip_checkpoints=self.skip_checkpoints,
                    latency_ms=self.latency_ms,
                    load=load,
                )
                samples.append(sample)
                print(
                    f"  {variant.name:>8} N={n:<5} rep {rep} {phase:<13} {seconds:8.2f} s "
                    f"{sample.total_calls:6d} calls  {_mib(sample.peak_rss_kib):>6} MiB "
                    f"{sample.host_threads or '-':>4} threads"
                    + ("" if sample.ok else f"  FAILED (see {self.log})"),
                    flush=True,
                )
                if not sample.ok:
                    break
        finally:
            # Without a destroy, the organizations stay in the simulator, thrown away with the bench.
            self.pulumi(["stack", "rm", "--yes", "--force", stack], env)
            shutil.rmtree(backend, ignore_errors=True)
        return samples


def _mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.0f}"


# -- summary --------------------------------------------------------------------------------------


@dataclass
class Cell:
    seconds: list[float] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    threads: list[int] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    latency_ms: float | None = None
    parallel: int | None = None
    failed: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def min(self) -> float:
        return min(self.seconds)


def summarise(samples: Sequence[Sample]) -> dict[tuple[int, str, str], Cell]:
    cells: dict[tuple[int, str, str], Cell] = {}
    for s in samples:
        cell = cells.setdefault((s.n, s.phase, s.variant), Cell())
        if not s.ok:
            cell.failed += 1
            continue
        cell.seconds.append(s.seconds)
        cell.calls.append(s.total_calls)
        if s.peak_rss_kib is not None:
            cell.rss.append(s.peak_rss_kib)
        if s.host_threads is not None:
            cell.threads.append(s.host_threads)
        if s.load is not None:
            cell.loads.append(s.load)
        cell.latency_ms = s.latency_ms if s.latency_ms is not None else cell.latency_ms
        cell.parallel = s.parallel if s.parallel is not None else cell.parallel
    return cells


@functools.cache
def engine_parallel() -> int:
    """The engine's `--parallel` when none is given, as `pulumi up --help` states it (4 steps per
    CPU in pulumi 3.260), for samples that did not record it."""
    try:
        text = subprocess.run(["pulumi", "up", "--help"], capture_output=True, text=True, check=True).stdout
        return int(re.search(r"--parallel int32 .*\(default (\d+)\)", text).group(1))  # type: ignore[union-attr]
    except (OSError, subprocess.CalledProcessError, AttributeError, ValueError):
        return 4 * (os.cpu_count() or 1)


@dataclass(frozen=True)
class Limit:
    """The API-aware limit of a phase: the floor's time plus the API's own share of the phase, the
    calls the provider made times the latency, spread over the steps the engine runs at once."""

    median: float
    min: float
    api_seconds: float


def api_aware_limit(ours: Cell | None, floor: Cell | None, latency_ms: float) -> Limit | None:
    if ours is None or floor is None or not ours.seconds or not floor.seconds or not ours.calls:
        return None
    latency = ours.latency_ms if ours.latency_ms is not None else latency_ms
    parallel = ours.parallel or engine_parallel()
    api = statistics.median(ours.calls) * latency / 1000 / parallel
    return Limit(floor.median + api, floor.min + api, api)


def _over(cell: Cell | None, limit: Limit | None) -> str:
    if cell is None or limit is None or not cell.seconds:
        return "-"
    return f"{cell.median / limit.median:.2f}x ({cell.min / limit.min:.2f}x)"


def _loads(cells: Sequence[Cell | None]) -> str:
    loads = [load for c in cells if c is not None for load in c.loads]
    if not loads:
        return "-"
    return f"{min(loads):.1f}-{max(loads):.1f}"


def _time(cell: Cell | None) -> str:
    if cell is None or not cell.seconds:
        return "failed" if cell is not None and cell.failed else "-"
    return f"{cell.median:.2f} ({cell.min:.2f})"


def _ratio(a: Cell | None, b: Cell | None) -> str:
    if a is None or b is None or not a.seconds or not b.seconds:
        return "-"
    return f"{a.median / b.median:.2f}x ({a.min / b.min:.2f}x)"


def _calls(cell: Cell | None) -> str:
    if cell is None or not cell.calls:
        return "-"
    low, high = min(cell.calls), max(cell.calls)
    return str(low) if low == high else f"{low}-{high}"


def table(
    samples: Sequence[Sample], variants: Sequence[str], *, threads: bool = False, latency_ms: float = 20.0
) -> str:
    """The markdown table; with a floor beside the first variant, its API-aware limit and the ratio to
    it (``latency_ms`` for samples that did not record the simulator's latency)."""
    cells = summarise(samples)
    sizes = sorted({s.n for s in samples})
    phases = [p for p in PHASES if any(s.phase == p for s in samples)]
    base = variants[0]
    others = [v for v in variants if v != base]
    limited = "floor" in others
    head = ["N", "phase", *(f"{v} s, median (min)" for v in variants)]
    head += [f"{base}/{v}, of medians (of mins)" for v in others]
    if limited:
        head += ["API-aware limit s, median (min)", f"{base}/limit, of medians (of mins)"]
    head += [f"calls {v}" for v in variants]
    head += [f"peak RSS MiB {v}" for v in variants]
    if threads:
        head += [f"host threads {v}" for v in variants]
    head += ["load (1 min) at the phases' start"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for n in sizes:
        skipped = any(s.skip_checkpoints for s in samples if s.n == n)
        for phase in phases:
            row = [f"{n} (no checkpoints)" if skipped else str(n), phase]
            row += [_time(cells.get((n, phase, v))) for v in variants]
            row += [_ratio(cells.get((n, phase, base)), cells.get((n, phase, v))) for v in others]
            if limited:
                ours, floor = cells.get((n, phase, base)), cells.get((n, phase, "floor"))
                limit = api_aware_limit(ours, floor, latency_ms)
                row += [
                    "-" if limit is None else f"{limit.median:.2f} ({limit.min:.2f})",
                    _over(cells.get((n, phase, base)), limit),
                ]
            row += [_calls(cells.get((n, phase, v))) for v in variants]
            row += [
                _mib(max(c.rss)) if (c := cells.get((n, phase, v))) is not None and c.rss else "-"
                for v in variants
            ]
            if threads:
                row += [
                    str(max(c.threads)) if (c := cells.get((n, phase, v))) is not None and c.threads else "-"
                    for v in variants
                ]
            row.append(_loads([cells.get((n, phase, v)) for v in variants]))
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def plot(samples: Sequence[Sample], variants: Sequence[str], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter
    except ImportError:
        print("matplotlib is not installed (the bench extra): no plot", file=sys.stderr)
        return False
    cells = summarise(samples)
    sizes = sorted({s.n for s in samples})
    phases = [p for p in PHASES if any(s.phase == p for s in samples)]
    cols = 3
    rows = (len(phases) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(10, 3.1 * rows), squeeze=False)
    for ax, phase in zip(axes.flat, phases, strict=False):
        for variant in variants:
            points = [
                (n, c.median)
                for n in sizes
                if (c := cells.get((n, phase, variant))) is not None and c.seconds
            ]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o", label=variant)
        ax.set_title(phase)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(ScalarFormatter())
            axis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("organizations (N)")
        ax.set_ylabel("seconds (median)")
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(phases) :]:
        ax.set_visible(False)
    axes.flat[0].legend()
    skipped = sorted({s.n for s in samples if s.skip_checkpoints})
    note = f"; N={', '.join(map(str, skipped))} without per-step state writes" if skipped else ""
    fig.suptitle(f"pulumi CLI against the simulator, file backend{note}")
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)
    return True


# -- main -----------------------------------------------------------------------------------------


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=_ints, default=[10, 100, 1000], help="N values (default 10,100,1000)")
    parser.add_argument("--reps", type=int, default=2, help="repetitions of each N below --large (default 2)")
    parser.add_argument(
        "--large", type=int, default=1000, help="from this N on, --large-reps repetitions (default 1000)"
    )
    parser.add_argument("--large-reps", type=int, default=1, help="repetitions at N >= --large (default 1)")
    parser.add_argument(
        "--variants",
        type=lambda text: [Variant.parse(part) for part in text.split(",")],
        default=[Variant.parse(p) for p in PROVIDERS],
        help="comma list of ours, floor, naive, or ours@WORKERS (default ours,floor,naive)",
    )
    parser.add_argument(
        "--phases", default=",".join(DEFAULT_PHASES), help=f"comma list, in order, among {','.join(PHASES)}"
    )
    parser.add_argument("--parallel", type=int, default=None, help="pulumi --parallel (default: the CLI's)")
    parser.add_argument(
        "--skip-checkpoints-from",
        type=int,
        default=1000,
        metavar="N",
        help="from this N on, PULUMI_SKIP_CHECKPOINTS=true: the engine writes the state once at the end, "
        "not after every step, which costs minutes per phase at N=1000 and grows with N squared "
        "(unsafe for real fleets; default 1000; 0: always)",
    )
    parser.add_argument(
        "--keep-checkpoints",
        action="store_const",
        const=sys.maxsize,
        dest="skip_checkpoints_from",
        help="every state write at every N",
    )
    parser.add_argument(
        "--skip-checkpoints",
        action="store_const",
        const=0,
        dest="skip_checkpoints_from",
        help="same as --skip-checkpoints-from 0",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=20.0,
        help="the simulator's latency (default 20); with --render, for samples that did not record it",
    )
    parser.add_argument(
        "--rate-limit", type=float, default=0.0, help="the simulator's --rate-limit (default 0)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out", help="where results go (bench-out/)")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="profile every phase with py-spy (benchmarks/profile.py): a speedscope file per Python "
        "process into DIR, each process's CPU seconds into the log; the figures then include py-spy's cost",
    )
    parser.add_argument("--plot", type=Path, default=None, help="PNG path (default OUT/fleet-scale.png)")
    parser.add_argument(
        "--page",
        type=Path,
        default=None,
        help="the results page whose section this run writes (default docs/benchmarks.md)",
    )
    parser.add_argument(
        "--section",
        default="fleet-scale",
        help="the page's section these figures replace (default fleet-scale; make bench-5000: fleet-5000)",
    )
    parser.add_argument("--no-page", action="store_true", help="print and save the figures, leave the page")
    parser.add_argument(
        "--render",
        nargs="+",
        type=Path,
        metavar="DIR",
        help="no run: one table and plot, into --out, from the samples.json (and meta.txt) of earlier runs",
    )
    args = parser.parse_args()
    if args.render:
        loaded: list[Sample] = []
        metas: list[str] = []
        for directory in args.render:
            loaded += [Sample(**item) for item in json.loads((directory / "samples.json").read_text())]
            meta_path = directory / "meta.txt"
            if meta_path.exists():
                metas.append(meta_path.read_text().strip())
        names = list(dict.fromkeys(s.variant for s in loaded))
        args.out.mkdir(parents=True, exist_ok=True)
        plotted = report(loaded, names, "\n".join(metas), args.out, args.plot, latency_ms=args.latency_ms)
        runs = [recorded_run(directory) for directory in args.render]
        if not args.no_page:
            write_page(args.page, args.section, runs, loaded, names, plotted, latency_ms=args.latency_ms)
        return 0
    phases = [p for p in args.phases.split(",") if p]
    unknown = set(phases) - set(PHASES)
    if unknown or not phases or phases != sorted(phases, key=PHASES.index):
        parser.error(f"--phases must name, in this order, some of {', '.join(PHASES)}")
    if shutil.which("pulumi") is None:
        parser.error("the pulumi CLI is not on PATH: run `make bench`")
    variants: list[Variant] = args.variants
    # As installed from a wheel: the programs and hosts load the project's modules compiled, not
    # compiled again in every process (an editable install writes no .pyc with
    # PYTHONDONTWRITEBYTECODE set, and the package has more modules than the floor).
    for folder in ("pulumi_exo_distributor", "benchmarks"):
        compileall.compile_dir(ROOT / folder, quiet=1)
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "pulumi.log"
    log.write_text("")
    config = SimulatorConfig(
        credentials=(Credential(KEY, SECRET),), latency_ms=args.latency_ms, rate_limit=args.rate_limit
    )
    version = subprocess.run(["pulumi", "version"], capture_output=True, text=True, check=True).stdout.strip()
    print(
        f"bench: pulumi {version}, sizes {args.sizes}, variants {[v.name for v in variants]}, "
        f"latency {args.latency_ms} ms, rate limit {args.rate_limit or 'none'}, "
        f"--parallel {args.parallel or 'default'}; log in {log}",
        flush=True,
    )
    samples: list[Sample] = []
    load_before = _loadavg()
    run = Run.now("scripts/bench.py", sys.argv[1:], load="")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, simulator_process(config) as sim:
        bench = Bench(
            Path(tmp),
            sim,
            parallel=args.parallel,
            skip_checkpoints_from=args.skip_checkpoints_from,
            log=log,
            latency_ms=args.latency_ms,
            profile=args.profile,
        )
        for n in args.sizes:
            reps = args.large_reps if n >= args.large else args.reps
            for rep in range(reps):
                # Interleaved: every variant once per repetition, the order rotating.
                shift = rep % len(variants)
                for variant in variants[shift:] + variants[:shift]:
                    samples += bench.run(variant, n, rep, phases)
                    (args.out / "samples.json").write_text(json.dumps([asdict(s) for s in samples], indent=1))
    elapsed = time.perf_counter() - started
    meta = (
        f"pulumi {version}; simulator latency {args.latency_ms:g} ms"
        + (f", rate limit {args.rate_limit:g}/s" if args.rate_limit else "")
        + (
            f"; PULUMI_SKIP_CHECKPOINTS=true from N={args.skip_checkpoints_from}"
            if args.skip_checkpoints_from <= max(args.sizes)
            else ""
        )
        + f"; --parallel {args.parallel or 'default'}; repetitions {args.reps} (N < {args.large}), "
        f"{args.large_reps} (N >= {args.large}); {elapsed / 60:.1f} min; "
        f"load average {load_before} before, {_loadavg()} after ({os.cpu_count()} cores)"
    )
    (args.out / "meta.txt").write_text(meta + "\n")
    settings = meta.rsplit("; load average", 1)[0]
    run = replace(run, load=f"{load_before} at the start, {_loadavg()} at the end", settings=settings)
    run.save(args.out / "run.json")
    names = [v.name for v in variants]
    plotted = report(samples, names, meta, args.out, args.plot, latency_ms=args.latency_ms)
    if not args.no_page:
        write_page(args.page, args.section, [run], samples, names, plotted, latency_ms=args.latency_ms)
    return 0 if all(s.ok for s in samples) else 1


def _loadavg() -> str:
    return loadavg()


def report(
    samples: Sequence[Sample],
    names: Sequence[str],
    meta: str,
    out: Path,
    plot_path: Path | None,
    *,
    latency_ms: float,
) -> Path | None:
    """Print the table and write it into ``out``; the plot's path, if one was drawn."""
    text = table(samples, names, threads=any("@" in name for name in names), latency_ms=latency_ms)
    (out / "table.md").write_text(meta + "\n\n" + text + "\n")
    print("\n" + meta + "\n\n" + text)
    plot_path = plot_path or out / "fleet-scale.png"
    if plot(samples, names, plot_path):
        print(f"\nplot: {plot_path}")
        return plot_path
    return None


def recorded_run(directory: Path) -> Run:
    """How the figures in ``directory`` were made: its run.json, else what its meta.txt says."""
    if (directory / "run.json").exists():
        return Run.load_from(directory / "run.json")
    meta = directory / "meta.txt"
    unknown = "not recorded"
    return Run(
        command=f"python scripts/bench.py (its arguments not recorded in {directory})",
        date=unknown,
        machine=unknown,
        load=unknown,
        settings=meta.read_text().strip() if meta.exists() else "",
    )


def write_page(
    page: Path | None,
    section: str,
    runs: Sequence[Run],
    samples: Sequence[Sample],
    names: Sequence[str],
    plotted: Path | None,
    *,
    latency_ms: float,
) -> None:
    """The figures into their section of the results page; the plot beside it, in its img/."""
    page = page or PAGE
    image = None
    if plotted is not None:
        target = page.parent / "img" / f"{section}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(plotted, target)
        image = f"img/{section}.png"
    text = table(samples, names, threads=any("@" in name for name in names), latency_ms=latency_ms)
    write_section(page, section, section_text(runs, text, image=image))


if __name__ == "__main__":
    sys.exit(main())
