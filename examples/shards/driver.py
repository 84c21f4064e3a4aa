"""Run a command over every shard stack of this project at once, and print one line per shard.

    python driver.py init       # create the shard stacks that do not exist yet (the others run it first)
    python driver.py preview    # what `pulumi up` would do, in every shard
    python driver.py up         # apply customers.yaml
    python driver.py refresh    # read every organization back from the Partner API
    python driver.py destroy    # delete every shard's organizations (protected ones refuse)

Options: ``--project DIR`` (default: this file's directory), ``--parallel P`` (shards run at once,
default 4), ``--log DIR`` (each shard's full output, one file per shard and command).

The shard stacks are ``shard-0`` ... ``shard-{K-1}``, K being the ``shards`` value of Pulumi.yaml.
Everything else comes from the environment, as for the `pulumi` command itself:
``PULUMI_BACKEND_URL`` (the backend all shards share, such as ``s3://bucket``),
``PULUMI_CONFIG_PASSPHRASE``, ``EXOSCALE_API_KEY``, ``EXOSCALE_API_SECRET`` and, for another
endpoint than Exoscale's, ``EXOSCALE_PARTNER_API_ENDPOINT``. Each shard is an ordinary stack:
``pulumi preview --stack shard-2`` works as well.

It uses Pulumi's Automation API (the `pulumi` CLI underneath, one process per shard) and exits
with 1 when any shard failed; the lines after the table say why.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pulumi import automation as auto

from pulumi_exo_distributor import shard_stacks

HERE = Path(__file__).resolve().parent
COMMANDS = ("init", "preview", "up", "refresh", "destroy")
#: Shards run at once: each is an engine, a language host and a provider process.
DEFAULT_PARALLEL = 4


def shard_count(project: Path) -> int:
    """The ``shards`` value declared in the project's Pulumi.yaml."""
    declared = yaml.safe_load((project / "Pulumi.yaml").read_text(encoding="utf-8"))
    try:
        return int(declared["config"]["shards"]["value"])
    except (KeyError, TypeError, ValueError):
        raise SystemExit(f"{project / 'Pulumi.yaml'}: declares no `config: shards: value: K`") from None


@dataclass
class Outcome:
    """What one command did on one shard."""

    stack: str
    command: str
    ok: bool = False
    seconds: float = 0.0
    #: Resource operation -> count (create, update, delete, same, ...).
    changes: dict[str, int] = field(default_factory=dict)
    error: str = ""


def _changes(summary: dict[str, int] | None) -> dict[str, int]:
    return {op: n for op, n in sorted((summary or {}).items()) if n}


def _run_one(command: str, project: Path, name: str, env: dict[str, str] | None, log: Path | None) -> Outcome:
    outcome = Outcome(name, command)
    lines: list[str] = []
    start = time.monotonic()
    try:
        workspace = auto.LocalWorkspace(work_dir=str(project), env_vars=env)
        if command == "init":
            auto.Stack.create(name, workspace)
            outcome.changes = {"created": 1}
            outcome.ok = True
            return outcome
        stack = auto.Stack.select(name, workspace)
        common = {"color": "never", "on_output": lines.append}
        if command == "preview":
            outcome.changes = _changes(stack.preview(**common).change_summary)  # type: ignore[arg-type]
        elif command == "up":
            outcome.changes = _changes(stack.up(**common).summary.resource_changes)  # type: ignore[arg-type]
        elif command == "refresh":
            outcome.changes = _changes(stack.refresh(**common).summary.resource_changes)  # type: ignore[arg-type]
        elif command == "destroy":
            outcome.changes = _changes(stack.destroy(**common).summary.resource_changes)  # type: ignore[arg-type]
        outcome.ok = True
    except auto.CommandError as exc:
        outcome.error = _reason(str(exc))
        lines.append(str(exc))
    finally:
        outcome.seconds = time.monotonic() - start
        if log is not None:
            log.mkdir(parents=True, exist_ok=True)
            (log / f"{name}.{command}.log").write_text("".join(lines), encoding="utf-8")
    return outcome


def _reason(error: str) -> str:
    """The lines of a failed command worth showing: its errors and the problems they list."""
    keep: list[str] = []
    listing = False  # inside the lines of an "error: ...: N problems, nothing deployed:" message
    for line in error.splitlines():
        text = line.strip()
        if text.startswith("error:"):
            keep.append(text)
            listing = text.endswith("nothing deployed:")
        elif listing and text:
            keep.append(f"  {text}")
        else:
            listing = False
    return "\n".join(dict.fromkeys(keep)) or error.strip().splitlines()[-1]


def run(
    command: str,
    project: Path = HERE,
    *,
    parallel: int = DEFAULT_PARALLEL,
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> list[Outcome]:
    """Run ``command`` on every shard of ``project``, at most ``parallel`` at once; one outcome each.

    ``init`` runs first for every command: each shard's program reads every shard's state, so all
    must exist. ``env`` adds to the environment of the `pulumi` processes.
    """
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}: one of {', '.join(COMMANDS)}")
    names = shard_stacks(shard_count(project))
    existing = {s.name for s in auto.LocalWorkspace(work_dir=str(project), env_vars=env).list_stacks()}
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        missing = [name for name in names if name not in existing]
        created = {
            o.stack: o for o in pool.map(lambda name: _run_one("init", project, name, env, log), missing)
        }
        if command == "init":
            return [created.get(name) or Outcome(name, "init", ok=True) for name in names]
        if not all(outcome.ok for outcome in created.values()):
            return list(created.values())
        return list(pool.map(lambda name: _run_one(command, project, name, env, log), names))


def table(outcomes: Sequence[Outcome], wall: float) -> str:
    """The summary: one line per shard, then the failures' reasons."""
    rows = [("stack", "command", "result", "changes", "seconds")]
    for o in outcomes:
        changes = ", ".join(f"{op} {n}" for op, n in o.changes.items()) or "-"
        rows.append((o.stack, o.command, "ok" if o.ok else "FAILED", changes, f"{o.seconds:.1f}"))
    failed = sum(not o.ok for o in outcomes)
    rows.append(("all", outcomes[0].command if outcomes else "", f"{failed} failed", "", f"{wall:.1f} wall"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for o in outcomes:
        if not o.ok:
            lines += ["", f"{o.stack}: {o.command} failed:", *(f"  {line}" for line in o.error.splitlines())]
    return "\n".join(lines)


# -- a shared backend on this machine, for trying the driver, the tests and the benchmark ---------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def local_s3_backend(bucket: str = "pulumi-state", *, timeout_s: float = 60.0) -> Iterator[dict[str, str]]:
    """An S3-compatible server on 127.0.0.1 (moto, from PyPI: ``pip install 'moto[server]'``), in a
    child process, with one bucket; yields the environment that points Pulumi at it."""
    port = _free_port()
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            endpoint = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    request = urllib.request.Request(f"{endpoint}/{bucket}", method="PUT")
                    urllib.request.urlopen(request, timeout=5).close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(
                            f"moto server did not start: {log.read().decode()[-2000:]}"
                        ) from None
                    time.sleep(0.2)
            yield {
                "PULUMI_BACKEND_URL": (
                    f"s3://{bucket}?endpoint=127.0.0.1:{port}&disableSSL=true&s3ForcePathStyle=true&region=us-east-1"
                ),
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_REGION": "us-east-1",
                # moto sends no response checksums; without this, the AWS SDK warns on every read.
                "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
                # Not for Pulumi: the server's process, for whoever measures it.
                "LOCAL_S3_PID": str(server.pid),
            }
        finally:
            server.terminate()
            server.wait(timeout=30)


def main(argv: Sequence[str] | None = None, *, out: Callable[[str], object] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("--project", type=Path, default=HERE, help="the project directory (default: here)")
    parser.add_argument("--parallel", type=int, default=DEFAULT_PARALLEL, help="shards run at once")
    parser.add_argument("--log", type=Path, help="a directory for each shard's full output")
    args = parser.parse_args(argv)
    start = time.monotonic()
    outcomes = run(args.command, args.project, parallel=args.parallel, log=args.log)
    out(table(outcomes, time.monotonic() - start))
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
