"""Throw-away Pulumi projects for what drives the real engine: the tests and ``make reliability``.

One place says how they run `pulumi` alone and offline: a project directory holding the program
as ``__main__.py`` and a ``Pulumi.yaml`` pointing at a virtualenv, a file backend beside it, and
the environment every command of it needs (its own ``PULUMI_HOME``, a passphrase, no update
check, no plugin download).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ORGS_PROGRAM", "VENV", "LocalProject", "kill_tree", "offline_env"]

#: The virtualenv running the tests: the programs run in it too.
VENV = Path(sys.executable).parent.parent
#: The program of the end-to-end tests and of the reliability scenarios: the organizations that
#: the stack config ``orgs`` describes.
ORGS_PROGRAM = Path(__file__).with_name("orgs_program.py")


def offline_env(workdir: Path, passphrase: str) -> dict[str, str]:
    """What any `pulumi` command of a test needs besides its backend: a home of its own (plugins,
    workspaces, the provider's journal), a passphrase for secrets, and nothing fetched."""
    return {
        "PULUMI_CONFIG_PASSPHRASE": passphrase,
        "PULUMI_HOME": str(workdir / "pulumi-home"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }


@dataclass
class LocalProject:
    """``workdir/project`` (the program and its ``Pulumi.yaml``) on the file backend ``workdir/backend``."""

    workdir: Path
    name: str
    program: Path
    passphrase: str
    venv: Path = VENV
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.dir.mkdir(parents=True)
        shutil.copy(self.program, self.dir / "__main__.py")
        (self.dir / "Pulumi.yaml").write_text(
            f"name: {self.name}\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
            f"    virtualenv: {self.venv}\n"
        )
        self.backend.mkdir()
        self.env = {
            "PULUMI_BACKEND_URL": f"file://{self.backend}",
            **offline_env(self.workdir, self.passphrase),
        }

    @property
    def dir(self) -> Path:
        return self.workdir / "project"

    @property
    def backend(self) -> Path:
        return self.workdir / "backend"


def _children() -> dict[int, list[int]]:
    by_parent: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after it.
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        by_parent.setdefault(ppid, []).append(int(entry))
    return by_parent


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and every process below it, as a lost machine would end them.

    The engine starts each plugin (language host, dynamic-provider host) in a process group of its
    own, so killing the CLI's group leaves them running, orphaned: the whole tree is found first
    (through /proc), then killed, parents first so that none starts another.
    """
    by_parent, tree, queue = _children(), [], [pid]
    while queue:
        current = queue.pop()
        tree.append(current)
        queue.extend(by_parent.get(current, []))
    for member in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)
