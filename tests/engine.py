"""Throw-away Pulumi projects for the tests that drive the real engine.

One place says how a test runs `pulumi` alone and offline: a project directory holding the
program as ``__main__.py`` and a ``Pulumi.yaml`` pointing at a virtualenv, a file backend beside
it, and the environment every command of it needs (its own ``PULUMI_HOME``, a passphrase, no
update check, no plugin download). ``scripts/reliability.py`` reaches it through tests/e2e.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["VENV", "LocalProject", "offline_env"]

#: The virtualenv running the tests: the programs run in it too.
VENV = Path(sys.executable).parent.parent


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
