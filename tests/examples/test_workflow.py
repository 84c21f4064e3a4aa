"""The example workflows (the fleet's CI, the package's release) pass actionlint (with shellcheck on
their scripts), and actionlint really checks them: a misspelt input or context is caught. The
release workflow publishes only what it tested, and its changelog step finds a version's section.
`make test` and `make lint` ensure actionlint."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.tools

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples/fleet/.github/workflows/pulumi.yml"
RELEASE = ROOT / "examples/release/.github/workflows/release.yml"


def test_make_lint_checks_every_example_workflow() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    listed = re.search(r"^WORKFLOWS := (.+)$", makefile, flags=re.MULTILINE)
    assert listed and set(listed.group(1).split()) == {
        str(path.relative_to(ROOT)) for path in ROOT.glob("examples/*/.github/workflows/*.yml")
    }


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


@pytest.mark.parametrize("workflow", [WORKFLOW, RELEASE], ids=["fleet", "release"])
def test_the_example_workflow_is_clean(actionlint: str, workflow: Path) -> None:
    assert shutil.which("shellcheck"), "shellcheck (dev extra) checks the workflow's run: scripts"
    done = lint(actionlint, workflow)
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


# -- the release workflow ---------------------------------------------------------------------------


def release() -> dict[Any, Any]:
    loaded = yaml.safe_load(RELEASE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = (each for each in job["steps"] if each.get("name") == name)
    return found  # type: ignore[no-any-return]


def test_the_release_runs_on_version_tags_only() -> None:
    workflow = release()
    assert workflow[True] == {"push": {"tags": ["v*"]}}  # YAML 1.1 reads the key `on` as true
    assert workflow["permissions"] == {"contents": "read"}


def test_the_release_publishes_what_it_built_once_and_tested() -> None:
    jobs = release()["jobs"]
    assert (
        "make dist"
        in step(jobs["build"], "Build the sdist and the wheel, and check them as PyPI will")["run"]
    )
    assert jobs["build"]["steps"][0]["with"]["fetch-depth"] == 0  # the tags the version comes from
    assert jobs["test"]["needs"] == "build"
    assert set(jobs["publish"]["needs"]) == {"build", "test"}
    assert set(jobs["github-release"]["needs"]) == {"build", "publish"}
    # No job but build runs a build: the others take its artifact.
    for name in ("test", "publish", "github-release"):
        assert "make dist" not in str(jobs[name]) and "python -m build" not in str(jobs[name])
        assert any(
            each.get("uses", "").startswith("actions/download-artifact@") for each in jobs[name]["steps"]
        )


def test_the_release_publishes_with_trusted_publishing() -> None:
    publish = release()["jobs"]["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    (upload,) = (each for each in publish["steps"] if "gh-action-pypi-publish" in each.get("uses", ""))
    assert upload["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert "with" not in upload  # no password, no token: the OIDC token proves who publishes
    assert "secrets." not in RELEASE.read_text(encoding="utf-8")


def test_the_release_tests_every_python_the_package_claims() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    claimed = re.findall(r'"Programming Language :: Python :: (3\.[0-9]+)"', pyproject)
    assert release()["jobs"]["test"]["strategy"]["matrix"]["python"] == claimed
    requires = re.search(r'^requires-python = ">=(3\.[0-9]+)"$', pyproject, flags=re.MULTILINE)
    assert requires and claimed[0] == requires.group(1)


def test_the_release_smoke_test_uses_the_pinned_pulumi() -> None:
    pinned = re.search(r"^pulumi==(\S+)$", (ROOT / "constraints.txt").read_text(), flags=re.MULTILINE)
    assert pinned and release()["env"]["PULUMI_VERSION"] == pinned.group(1)


def notes(tmp_path: Path, version: str, changelog: str) -> subprocess.CompletedProcess[str]:
    """The build job's changelog step, run as the runner runs it."""
    (tmp_path / "CHANGELOG.md").write_text(changelog, encoding="utf-8")
    script = step(release()["jobs"]["build"], "The changelog's section of this version")["run"]
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "VERSION": version},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_release_notes_are_the_changelogs_section(tmp_path: Path) -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    done = notes(tmp_path, "0.1.0", changelog)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = changelog.split("\n## [0.1.0] - ", 1)[1].split("\n", 1)[1].split("[Unreleased]: ", 1)[0]
    assert (tmp_path / "release-notes.md").read_text(encoding="utf-8") == expected
    assert "### Added" in expected and "[0.1.0]:" not in expected


def test_the_release_notes_stop_at_the_next_version(tmp_path: Path) -> None:
    changelog = (
        "# Changelog\n\n## [Unreleased]\n\n- next\n\n"
        "## [1.2.0] - 2027-01-02\n\n- this\n\n## [1.1.0] - 2026-12-01\n\n- before\n"
    )
    assert notes(tmp_path, "1.2.0", changelog).returncode == 0
    assert (tmp_path / "release-notes.md").read_text(encoding="utf-8") == "\n- this\n\n"


def test_a_release_without_a_changelog_section_fails(tmp_path: Path) -> None:
    done = notes(tmp_path, "9.9.9", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert done.returncode == 1
    assert "CHANGELOG.md has no section" in done.stdout
