"""The built wheel, installed (not editable) into a new virtualenv, runs the quickstart through the
engine; its console scripts say which extra they miss; the README installs what `make dist` builds."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from benchmarks.engine import LocalProject
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
KEY, SECRET = "EXOwheeltests0000000000001", "wheel-secret"


def run(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    # Away from the checkout, whose package `python -c` would otherwise import from the cwd.
    kwargs.setdefault("cwd", tempfile.gettempdir())
    return subprocess.run(  # type: ignore[call-overload,no-any-return]
        [str(arg) for arg in args], capture_output=True, text=True, check=False, timeout=600, **kwargs
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = run(sys.executable, "-m", "build", "--wheel", "--outdir", out, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("venv") / "venv"
    assert run(sys.executable, "-m", "venv", where).returncode == 0
    done = run(
        where / "bin" / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-c",
        ROOT / "constraints.txt",
        wheel,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return where


def test_the_wheel_ships_the_plugin_file_and_the_types(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"pulumi_exo_distributor/pulumi-plugin.json", "pulumi_exo_distributor/py.typed"} <= names
    assert json.loads(zipfile.ZipFile(wheel).read("pulumi_exo_distributor/pulumi-plugin.json")) == {
        "resource": False
    }
    assert not any(name.startswith(("tests/", "examples/", "scripts/")) for name in names)


def test_the_readme_installs_what_make_dist_builds(wheel: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    lines = re.findall(r"^pip install '?(dist/[^ '\[]+\.whl)", readme, flags=re.MULTILINE)
    assert lines and set(lines) == {f"dist/{wheel.name}"}


def test_installed_from_the_wheel_not_the_checkout(venv: Path) -> None:
    done = run(venv / "bin" / "python", "-c", "import pulumi_exo_distributor as p; print(p.__file__)")
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(venv)


@pytest.mark.parametrize(
    ("script", "extra"), [("exo-distributor", "cli"), ("exo-distributor-simulator", "simulator")]
)
def test_a_script_without_its_extra_says_how_to_install_it(venv: Path, script: str, extra: str) -> None:
    done = run(venv / "bin" / script, "--help")
    assert done.returncode == 3
    assert f"{script}: the '{extra}' extra of pulumi-exo-distributor is not installed" in done.stderr
    assert f"[{extra}]'" in done.stderr and "Traceback" not in done.stderr


@pytest.fixture
def simulator() -> Iterator[object]:
    with run_simulator(SimulatorConfig(credentials=(Credential(KEY, SECRET),))) as running:
        yield running


def test_the_quickstart_runs_from_the_wheel(
    venv: Path, wheel: Path, simulator: object, tmp_path: Path
) -> None:
    if shutil.which("pulumi") is None:
        pytest.fail("the Pulumi CLI is not on PATH: run the tests with `make test`", pytrace=False)
    url: str = simulator.url  # type: ignore[attr-defined]
    quickstart = ROOT / "examples" / "quickstart" / "__main__.py"
    local = LocalProject(tmp_path, "wheel", quickstart, "wheel", venv=venv)
    env = {
        **local.env,
        "EXOSCALE_API_KEY": KEY,
        "EXOSCALE_API_SECRET": SECRET,
        "EXOSCALE_PARTNER_API_ENDPOINT": url,
    }
    workspace = auto.LocalWorkspace(work_dir=str(local.dir), env_vars=env)
    stack = auto.Stack.create("wheel", workspace)
    try:
        result = stack.up(color="never")
        assert result.summary.result == "succeeded"
        outputs = {name: value.value for name, value in stack.outputs().items()}
        assert set(outputs) == {"acme", "globex", "initech"}
        assert {org["status"] for org in outputs.values()} == {"active"}
        assert stack.preview(color="never").change_summary == {"same": 4}

        # The cli extra, from the same wheel: the command sees what the program made.
        done = run(
            venv / "bin" / "python",
            "-m",
            "pip",
            "install",
            "--quiet",
            "-c",
            ROOT / "constraints.txt",
            f"{wheel}[cli]",
        )
        assert done.returncode == 0, done.stderr
        listed = run(
            venv / "bin" / "exo-distributor", "orgs", "list", "-o", "json", env={**os.environ, **env}
        )
        assert listed.returncode == 0, listed.stderr
        assert {org["id"] for org in json.loads(listed.stdout)} == {org["id"] for org in outputs.values()}
    finally:
        stack.destroy(color="never")
        workspace.remove_stack("wheel", force=True)
