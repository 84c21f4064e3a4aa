"""Profiles of every Python process a command starts: the program, the language host, the provider host.

``py-spy record --subprocesses`` does not reach them when the command is the Go ``pulumi`` CLI
(they are its grandchildren, in process groups of their own), so this watches the command's process
tree and attaches one ``py-spy record --pid`` to each Python process as soon as it appears. When the
command exits, it prints, per process, the functions that held the CPU the longest (their own
samples, and with what they called), and leaves the speedscope files (https://www.speedscope.app/)
in the output folder::

    python -m benchmarks.profile --out prof/ -- pulumi preview --expect-no-changes
    python scripts/bench.py --sizes 1000 --reps 1 --variants ours,floor --profile prof/   # each phase

py-spy is in the ``bench`` extra. Attaching needs ptrace rights over the processes: the same user,
and ``kernel.yama.ptrace_scope`` at most 1 when py-spy runs as root, else 0.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["ProfiledRun", "descendants", "summary"]

#: What a Python process is, from its command line: the roles worth telling apart.
ROLES = (
    ("pulumi-language-python-exec", "program"),
    ("pulumi.dynamic", "provider-host"),
    ("pulumi_language_python_host", "language-host"),
    ("pulumi-language-python", "language-host"),
    ("pulumi-resource-", "provider-plugin"),
    ("pulumi.runtime", "program"),
)


def _role(cmdline: str) -> str:
    if cmdline.split(" ", 1)[0].endswith("/pulumi") or cmdline.startswith("pulumi "):
        return "engine"
    for needle, role in ROLES:
        if needle in cmdline:
            return role
    return "program"


def descendants(root: int) -> dict[int, str]:
    """Every process under ``root``, with its command line (NUL-separated parts joined by spaces)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry.name))
    found: dict[int, str] = {}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            with contextlib.suppress(OSError):
                found[child] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return found


def _is_python(pid: int) -> bool:
    try:
        return Path(os.readlink(f"/proc/{pid}/exe")).name.startswith("python")
    except OSError:
        return False


def _cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of ``pid`` so far (its own threads, not its children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ProfiledRun:
    """Run ``command`` and profile each Python process of its tree into ``out`` (``spy=False``:
    only the CPU time of each process, read from /proc while the command runs)."""

    def __init__(
        self, out: Path, *, rate: int = 250, idle: bool = False, py_spy: str | None = None, spy: bool = True
    ) -> None:
        self.out = out
        self.rate = rate
        self.idle = idle
        self.spy = spy
        #: CPU seconds of each process of the last run, by ``role-pid`` (the last figure seen).
        self.cpu: dict[str, float] = {}
        self.py_spy = py_spy or shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if spy and not Path(self.py_spy).exists() and shutil.which(self.py_spy) is None:
            raise SystemExit("py-spy is not installed: pip install -e '.[bench]' (or `make bench` once)")

    def run(self, command: Sequence[str], *, prefix: str = "", **popen: object) -> subprocess.Popen[bytes]:
        self.out.mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen(list(command), **popen)  # type: ignore[call-overload]
        spies: dict[int, subprocess.Popen[bytes]] = {}
        self.cpu = {}
        while proc.poll() is None:
            tree = {proc.pid: "pulumi (engine)", **descendants(proc.pid)}
            for pid, cmdline in tree.items():
                seconds = _cpu_seconds(pid)
                if seconds is not None and not cmdline.startswith("py-spy"):
                    # A process may exec another program (the language host runs the program's
                    # interpreter): its last command line names it.
                    for name in [name for name in self.cpu if name.endswith(f"-{pid}")]:
                        del self.cpu[name]
                    self.cpu[f"{_role(cmdline)}-{pid}"] = seconds
            for pid, cmdline in tree.items():
                if not self.spy or pid in spies or pid == proc.pid or not _is_python(pid):
                    continue
                name = f"{prefix}{_role(cmdline)}-{pid}.json"
                args = [self.py_spy, "record", "--pid", str(pid), "--rate", str(self.rate)]
                args += ["--format", "speedscope", "--output", str(self.out / name), "--nonblocking"]
                if self.idle:
                    args.append("--idle")
                spies[pid] = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.05)
        for spy in spies.values():
            # py-spy writes its file when its target exits; a target left running is let go.
            try:
                spy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=10)
        return proc


def summary(path: Path, top: int = 12) -> str:
    """The functions of one speedscope profile with the most samples of their own, and inclusive."""
    data = json.loads(path.read_text())
    frames = data["shared"]["frames"]
    own: collections.Counter[int] = collections.Counter()
    inclusive: collections.Counter[int] = collections.Counter()
    total = 0
    for profile in data["profiles"]:
        for stack in profile.get("samples", []):
            total += 1
            if stack:
                own[stack[-1]] += 1
            for frame in set(stack):
                inclusive[frame] += 1
    lines = [f"{path.name}: {total} samples"]
    for frame, count in own.most_common(top):
        where = frames[frame]
        place = f"{Path(where.get('file', '?')).name}:{where.get('line', '?')}"
        lines.append(
            f"  {100 * count / total:5.1f}% own {100 * inclusive[frame] / total:5.1f}% incl  "
            f"{where['name']} ({place})"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        usage="python -m benchmarks.profile [--out DIR] [--idle] -- COMMAND...",
    )
    parser.add_argument("--out", type=Path, default=Path("bench-out/profile"), help="where profiles go")
    parser.add_argument("--rate", type=int, default=250, help="samples per second (default 250)")
    parser.add_argument("--idle", action="store_true", help="also sample threads that wait (wall time)")
    parser.add_argument("--top", type=int, default=12, help="functions shown per process (default 12)")
    parser.add_argument("--cpu-only", action="store_true", help="no py-spy: each process's CPU time only")
    parser.add_argument("command", nargs="+", help="the command, after --")
    args = parser.parse_args(argv)
    started = time.monotonic()
    before = set(args.out.glob("*.json")) if args.out.exists() else set()
    profiled = ProfiledRun(args.out, rate=args.rate, idle=args.idle, spy=not args.cpu_only)
    proc = profiled.run(args.command)
    print(f"exit {proc.returncode} after {time.monotonic() - started:.2f} s; profiles in {args.out}/")
    print("CPU seconds (the last figure seen, every 0.05 s):")
    for name, seconds in sorted(profiled.cpu.items(), key=lambda item: -item[1]):
        if seconds >= 0.05:
            print(f"  {seconds:7.2f}  {name}")
    for path in sorted(set(args.out.glob("*.json")) - before):
        print(summary(path, args.top))
    return proc.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
