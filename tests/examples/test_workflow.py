"""The example CI workflow passes actionlint (with shellcheck on its scripts), and actionlint really
checks it: a misspelt input or context is caught. `make test` and `make lint` ensure actionlint."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.tools

WORKFLOW = Path(__file__).resolve().parents[2] / "examples/fleet/.github/workflows/pulumi.yml"


@pytest.fixture(scope="module")
def actionlint() -> str:
    found = shutil.which("actionlint")
    if found is None:
        pytest.fail(
            "actionlint is not on PATH: run the tests with `make test`, which ensures it "
            "(scripts/ensure-actionlint.sh), or put its directory on PATH",
            pytrace=False,
        )
    return found


def lint(actionlint: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint, "-no-color", str(path)], capture_output=True, text=True, check=False, timeout=120
    )


def test_the_example_workflow_is_clean(actionlint: str) -> None:
    assert shutil.which("shellcheck"), "shellcheck (dev extra) checks the workflow's run: scripts"
    done = lint(actionlint, WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_what_a_typo_breaks(actionlint: str, tmp_path: Path) -> None:
    broken = tmp_path / "pulumi.yml"
    text = WORKFLOW.read_text()
    text = text.replace("pulumi-version:", "pulumi-versoin:").replace(
        "secrets.EXOSCALE_API_KEY", "secret.KEY"
    )
    text = text.replace("tail -c 60000 preview.txt", "tail -c 60000 $PREVIEW_FILE")
    broken.write_text(text)
    done = lint(actionlint, broken)
    assert done.returncode == 1
    assert 'input "pulumi-versoin" is not defined in action "pulumi/actions@v6"' in done.stdout
    assert 'undefined variable "secret"' in done.stdout
    assert "SC2086" in done.stdout  # shellcheck: an unquoted variable in a run: script


def test_the_workflow_takes_credentials_from_secrets_through_the_environment() -> None:
    text = WORKFLOW.read_text()
    assert "EXOSCALE_API_KEY: ${{ secrets.EXOSCALE_API_KEY }}" in text
    assert "EXOSCALE_API_SECRET: ${{ secrets.EXOSCALE_API_SECRET }}" in text
    assert "pulumi config set" not in text.split("jobs:", 1)[1]
    assert "pulumi preview --stack" in text and "pulumi up --stack" in text
    assert "actions/upload-artifact@" in text
