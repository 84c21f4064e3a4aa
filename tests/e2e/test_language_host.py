"""The stand-in Python language host (scripts/pulumi_language_python_host.py) as ensure-pulumi.sh
installs it: it runs each program, and itself, with the program's own virtualenv.

The shared cache is never touched: each test installs the host into a cache of its own
(``XDG_CACHE_HOME``), the CLI linked from the one on PATH, with a throw-away copy of the scripts
standing for another checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from benchmarks.engine import LocalProject

ROOT = Path(__file__).resolve().parents[2]
VERSION = "3.260.0"
HOST = "pulumi_language_python_host.py"
#: The interpreter the virtualenv running the tests was made from: no SDK of its own.
BASE_PYTHON = Path(sys.base_prefix) / "bin" / "python3"

PROGRAM = """\
import sys

import pulumi

pulumi.export("python", sys.executable)
"""


def install_cache(checkout: Path, cache: Path, pulumi_cli: str) -> Path:
    """The tools' cache as ``checkout``'s ensure-pulumi.sh leaves it: the CLI and the shims linked
    from the installed ones, the language host written by the script itself."""
    bin_dir = cache / "pulumi-exo-distributor" / f"pulumi-v{VERSION}" / "bin"
    bin_dir.mkdir(parents=True)
    installed = Path(pulumi_cli).resolve().parent
    for tool in ("pulumi-language-python-exec", "pulumi-resource-pulumi-python"):
        (bin_dir / tool).symlink_to(installed / tool)
    # The CLI looks for its plugins beside its resolved path first: a hard link (or a copy) keeps
    # it from finding the installed host instead.
    try:
        os.link(installed / "pulumi", bin_dir / "pulumi")
    except OSError:
        shutil.copy2(installed / "pulumi", bin_dir / "pulumi")
    # A stale host from another version, for the script to replace.
    (bin_dir / "pulumi-language-python").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "pulumi-language-python").chmod(0o755)
    ensure(checkout, cache)
    return bin_dir


def ensure(checkout: Path, cache: Path) -> str:
    result = subprocess.run(
        [str(checkout / "scripts" / "ensure-pulumi.sh")],
        env={**os.environ, "XDG_CACHE_HOME": str(cache), "ENSURE_PULUMI_IGNORE_PATH": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def a_checkout(tmp_path: Path) -> Path:
    """What ensure-pulumi.sh needs of a checkout, copied: its scripts and constraints.txt."""
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    for name in ("ensure-pulumi.sh", HOST):
        shutil.copy2(ROOT / "scripts" / name, checkout / "scripts" / name)
    shutil.copy2(ROOT / "constraints.txt", checkout / "constraints.txt")
    return checkout


def test_ensure_pulumi_refreshes_the_cached_host_when_its_source_changes(
    pulumi_cli: str, tmp_path: Path
) -> None:
    checkout, cache = a_checkout(tmp_path), tmp_path / "cache"
    bin_dir = install_cache(checkout, cache, pulumi_cli)
    assert (bin_dir / HOST).read_bytes() == (ROOT / "scripts" / HOST).read_bytes()
    wrapper = (bin_dir / "pulumi-language-python").read_text()
    assert HOST in wrapper
    # Nothing in the cache names a checkout's virtualenv.
    assert str(checkout) not in wrapper
    assert not (bin_dir / "host-python").exists()

    assert "using cached pulumi" in ensure(checkout, cache)
    assert "refreshed" not in ensure(checkout, cache)

    # An edited host, or the file an earlier version recorded, makes the next run refresh the copy.
    with (checkout / "scripts" / HOST).open("a") as f:
        f.write("# edited\n")
    (bin_dir / "host-python").write_text(f"{checkout / '.venv' / 'bin' / 'python'}\n")
    assert "refreshed the language host files" in ensure(checkout, cache)
    assert (bin_dir / HOST).read_text().endswith("# edited\n")
    assert not (bin_dir / "host-python").exists()


def a_virtualenv(path: Path) -> Path:
    """A new virtualenv (not the one running the tests) that has the pulumi SDK: it reads the
    packages of the tests' virtualenv through a .pth file. Its python."""
    subprocess.run([str(BASE_PYTHON), "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "tests-packages.pth").write_text("".join(f"{p}\n" for p in sorted(paths)))
    return python


def test_a_program_runs_with_its_own_virtualenv_while_another_checkouts_is_away(
    pulumi_cli: str, tmp_path: Path
) -> None:
    # Another checkout installed the cache, then its .venv went away (a rebuild under way).
    checkout = a_checkout(tmp_path)
    (checkout / ".venv" / "bin").mkdir(parents=True)
    bin_dir = install_cache(checkout, tmp_path / "cache", pulumi_cli)
    (checkout / ".venv").rename(checkout / ".venv-rebuilding")

    # The program's project: its Pulumi.yaml points at a virtualenv of its own, relative to it.
    (tmp_path / "program.py").write_text(PROGRAM)
    project = LocalProject(tmp_path / "work", "host", tmp_path / "program.py", "host", venv=Path("venv"))
    venv_python = a_virtualenv(project.dir / "venv")
    assert "virtualenv: venv\n" in (project.dir / "Pulumi.yaml").read_text()

    # The only python on PATH has no pulumi SDK (no site-packages at all): the wrapper starts the
    # host with it, and the host must move to the program's virtualenv to serve the engine.
    bare = tmp_path / "bare-python"
    bare.mkdir()
    (bare / "python3").write_text(f'#!/bin/sh\nexec "{BASE_PYTHON}" -S "$@"\n')
    (bare / "python3").chmod(0o755)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")},
        **project.env,
        "PATH": os.pathsep.join([str(bin_dir), str(bare), "/usr/bin", "/bin"]),
        "VIRTUAL_ENV": str(checkout / ".venv"),
    }

    def pulumi(*args: str) -> str:
        result = subprocess.run(
            [str(bin_dir / "pulumi"), *args, "--non-interactive"],
            cwd=project.dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "using pulumi-language-python from" not in result.stdout + result.stderr
        return result.stdout

    pulumi("stack", "init", "dev")
    pulumi("up", "--yes", "--skip-preview", "--stack", "dev")
    outputs = json.loads(pulumi("stack", "output", "--json", "--stack", "dev"))
    # The program ran with the interpreter of its own virtualenv.
    assert Path(outputs["python"]) == venv_python
    pulumi("destroy", "--yes", "--skip-preview", "--stack", "dev")
