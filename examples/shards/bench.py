"""One stack of N customers against K shard stacks of N/K each, side by side in one run.

    python bench.py [--customers 400] [--shards 4] [--latency-ms 20] [--backend s3|file]
                    [--parallel 4] [--destroy] [--no-matrix] [--no-one-stack]

Every layout runs this directory's program (the single stack is the same program with one
shard), over the same generated customers file, against one local simulator (``--latency-ms``
added to every API request) and one backend: an S3-compatible server on 127.0.0.1 (moto, the
default), or a local directory (``--backend file``). The layouts, each a project of its own:

- one stack of N;
- K shards run in parallel by driver.py, at most ``--parallel`` at once, timed from start to end;
- the same K shards run one at a time, each alone on the machine, timed by the slowest: what a CI
  matrix with one runner per shard would take, on runners like this machine.

Each phase runs the layouts one after the other, the order reversed from one phase to the next.
It prints, per phase, the wall time of each layout and their ratios, the CPU time of the pulumi
processes and of the two servers, and the API calls; then the machine's load average, since the
shards share its cores with whatever else runs.

`make shards-bench` runs it (needs the Pulumi CLI on PATH, as `make` sets it).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import driver

from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, simulator_process

HERE = Path(__file__).resolve().parent
#: The third layout: the shards one at a time, each alone, timed by the slowest (a CI matrix).
MATRIX = "shards one at a time"
KEY, SECRET = "EXObenchshards00000000001", "bench-shards-secret"


def customers_yaml(count: int) -> str:
    """``count`` customers, each a valid entry; unprotected, so the benchmark can destroy them."""
    lines = ["customers:"]
    for i in range(count):
        name = f"Customer {i:05d} SA"
        lines += [
            f"  c{i:05d}:",
            f"    display_name: {name}",
            f"    owner_email: ops{i}@customer.example",
            f"    billing_address: {{name: {name}, country: CH, city: Lausanne, postal_code: '1003', "
            "street_name: Rue de Bourg}",
            "    protect: false",
        ]
    return "\n".join(lines) + "\n"


def project(root: Path, name: str, shards: int, customers: str) -> Path:
    """A copy of this program as project ``name`` with ``shards`` shards, in this Python's venv."""
    work = root / name
    work.mkdir()
    shutil.copy(HERE / "__main__.py", work / "__main__.py")
    (work / "customers.yaml").write_text(customers, encoding="utf-8")
    text = (HERE / "Pulumi.yaml").read_text(encoding="utf-8")
    text = text.replace("name: exo-shards", f"name: {name}", 1)
    text = text.replace("virtualenv: venv", f"virtualenv: {sys.prefix}").replace(
        "value: 4", f"value: {shards}"
    )
    (work / "Pulumi.yaml").write_text(text, encoding="utf-8")
    return work


def children_cpu() -> float:
    """CPU seconds (user and system) of this process's finished children and theirs: the pulumi
    processes of the driver, with the language hosts and providers they ran and waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds of a running process (a server: the simulator, the S3 server), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def backend(kind: str, root: Path) -> Iterator[tuple[dict[str, str], int | None]]:
    """The backend's environment, and the pid of its server if it has one."""
    if kind == "s3":
        with driver.local_s3_backend() as env:
            yield env, int(env["LOCAL_S3_PID"])
    else:
        (root / "backend").mkdir()
        yield {"PULUMI_BACKEND_URL": f"file://{root / 'backend'}"}, None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--backend", choices=("s3", "file"), default="s3")
    parser.add_argument("--parallel", type=int, default=driver.DEFAULT_PARALLEL)
    parser.add_argument("--destroy", action="store_true", help="also time the destroy of both layouts")
    parser.add_argument(
        "--no-matrix",
        dest="matrix",
        action="store_false",
        help="leave out the third layout: K shards run one at a time, each alone on the machine, as "
        "the jobs of a CI matrix would run on runners of their own",
    )
    parser.add_argument(
        "--no-one-stack",
        dest="one_stack",
        action="store_false",
        help="leave out the one stack of N (where it would take hours: its up grows with N squared); "
        "the table then has no factors",
    )
    args = parser.parse_args()

    load_before = os.getloadavg()
    config = SimulatorConfig(credentials=(Credential(KEY, SECRET),), latency_ms=args.latency_ms)
    with tempfile.TemporaryDirectory(prefix="shards-bench-") as tmp, simulator_process(config) as sim:
        root = Path(tmp)
        customers = customers_yaml(args.customers)
        # label -> (project, shards at once)
        layouts: dict[str, tuple[Path, int]] = {}
        if args.one_stack:
            layouts["one stack"] = (project(root, "exo-one", 1, customers), 1)
        layouts[f"{args.shards} shards"] = (
            project(root, "exo-shards", args.shards, customers),
            args.parallel,
        )
        if args.matrix:
            layouts[MATRIX] = (project(root, "exo-matrix", args.shards, customers), 1)
        with backend(args.backend, root) as (backend_env, s3_pid):
            servers = [pid for pid in (sim.process.pid, s3_pid) if pid is not None]
            env = {
                **backend_env,
                "PULUMI_CONFIG_PASSPHRASE": "bench",
                "PULUMI_HOME": str(root / "pulumi-home"),
                "PULUMI_SKIP_UPDATE_CHECK": "true",
                "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                "EXOSCALE_API_KEY": KEY,
                "EXOSCALE_API_SECRET": SECRET,
                "EXOSCALE_PARTNER_API_ENDPOINT": sim.url,
            }
            for work, _ in layouts.values():
                driver.run("init", work, env=env)
            phases = ["up", "preview"] + (["destroy"] if args.destroy else [])
            rows: list[tuple[str, dict[str, tuple[float, float, float, int]]]] = []
            for index, phase in enumerate(phases):
                order = list(layouts.items())
                if index % 2:
                    order.reverse()
                results: dict[str, tuple[float, float, float, int]] = {}
                for label, (work, parallel) in order:
                    before = sum(sim.stats().values())
                    cpu, server_cpu = children_cpu(), sum(process_cpu(pid) for pid in servers)
                    start = time.monotonic()
                    outcomes = driver.run(phase, work, parallel=parallel, env=env)
                    wall = time.monotonic() - start
                    if label == MATRIX:  # the runners of a matrix work at once: the slowest job counts
                        wall = max(o.seconds for o in outcomes)
                    cpu = children_cpu() - cpu
                    server_cpu = sum(process_cpu(pid) for pid in servers) - server_cpu
                    calls = sum(sim.stats().values()) - before
                    print(f"\n{label}, {phase}:\n{driver.table(outcomes, wall)}", flush=True)
                    if not all(o.ok for o in outcomes):
                        return 1
                    results[label] = (wall, cpu, server_cpu, calls)
                rows.append(("preview, unchanged" if phase == "preview" else phase, results))

    sharded = f"{args.shards} shards"
    one = "one stack" if args.one_stack else sharded
    print(
        f"\nN={args.customers} customers, K={args.shards} shards (at most {args.parallel} at once), "
        f"simulator latency {args.latency_ms:g} ms, backend {args.backend}"
        + (" (moto on 127.0.0.1)" if args.backend == "s3" else " (local directory)")
    )
    header = (
        ["phase", f"{one}: wall s", f"{sharded}: wall s", "factor"]
        if args.one_stack
        else ["phase", f"{sharded}: wall s"]
    )
    if args.matrix:
        header += ["slowest shard alone: s"] + (["factor"] if args.one_stack else [])
    header += ["CPU s, pulumi; servers (" + " / ".join(layouts) + ")", "API calls"]
    table = [header]
    for phase, results in rows:
        t1 = results[one][0]
        row = [phase, f"{t1:.1f}"]
        if args.one_stack:
            row += [f"{results[sharded][0]:.1f}", f"{t1 / results[sharded][0]:.2f}x"]
        if args.matrix:
            row += [f"{results[MATRIX][0]:.1f}"] + (
                [f"{t1 / results[MATRIX][0]:.2f}x"] if args.one_stack else []
            )
        row.append(" / ".join(f"{results[label][1]:.0f}; {results[label][2]:.0f}" for label in layouts))
        row.append(" / ".join(str(results[label][3]) for label in layouts))
        table.append(row)
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for number, line in enumerate(table):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if number == 0:
            print("  ".join("-" * w for w in widths))
    load_after = os.getloadavg()
    print(
        f"factor: the one stack's wall time over the other's. CPU: of the pulumi processes (engines, "
        f"language hosts, providers), then of the simulator and the S3 server. "
        f"Load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after, on "
        f"{os.cpu_count()} cores."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
