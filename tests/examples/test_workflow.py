"""The example CI workflows pass actionlint (with shellcheck on their scripts), and actionlint really
checks them: a misspelt input or context is caught. `make test` and `make lint` ensure actionlint.
They also do what docs/ci.md says: previews and ups with --refresh, the preview's JSON kept, one
review comment updated in place, a gate on the review's exit code, a drift check. The package's
release workflow passes actionlint too, publishes only what it tested, and its changelog step finds
a version's section (docs/releases.md)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_exo_distributor._review import EXIT_ATTENTION, EXIT_DESTRUCTIVE, EXIT_PREVIEW_FAILED

pytestmark = pytest.mark.tools

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "examples/fleet/.github/workflows/pulumi.yml"
SHARDS = ROOT / "examples/shards/.github/workflows/pulumi.yml"
WORKFLOWS = [FLEET, SHARDS]
RELEASE = ROOT / "examples/release/.github/workflows/release.yml"


def name(path: Path) -> str:
    return path.relative_to(ROOT / "examples").parts[0]


each = pytest.mark.parametrize("workflow", WORKFLOWS, ids=name)


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


def jobs(path: Path) -> dict[str, dict[str, object]]:
    loaded: dict[str, dict[str, object]] = yaml.safe_load(path.read_text())["jobs"]
    return loaded


def scripts(path: Path, job: str) -> str:
    steps = jobs(path)[job]["steps"]
    assert isinstance(steps, list)
    return "\n".join(str(step.get("run", "")) for step in steps)


@each
def test_the_example_workflow_is_clean(actionlint: str, workflow: Path) -> None:
    assert shutil.which("shellcheck"), "shellcheck (dev extra) checks the workflow's run: scripts"
    done = lint(actionlint, workflow)
    assert done.returncode == 0, done.stdout + done.stderr


@each
def test_actionlint_catches_what_a_typo_breaks(actionlint: str, workflow: Path, tmp_path: Path) -> None:
    broken = tmp_path / "pulumi.yml"
    text = workflow.read_text()
    text = text.replace("pulumi-version:", "pulumi-versoin:").replace(
        "secrets.EXOSCALE_API_KEY", "secret.KEY"
    )
    text = text.replace('--stack "$STACK"', "--stack $STACK")
    broken.write_text(text)
    done = lint(actionlint, broken)
    assert done.returncode == 1
    assert 'input "pulumi-versoin" is not defined in action "pulumi/actions@v6"' in done.stdout
    assert 'undefined variable "secret"' in done.stdout
    assert "SC2086" in done.stdout  # shellcheck: an unquoted variable in a run: script


@each
def test_the_workflow_takes_credentials_from_secrets_through_the_environment(workflow: Path) -> None:
    text = workflow.read_text()
    assert "EXOSCALE_API_KEY: ${{ secrets.EXOSCALE_API_KEY }}" in text
    assert "EXOSCALE_API_SECRET: ${{ secrets.EXOSCALE_API_SECRET }}" in text
    assert "pulumi config set" not in text.split("jobs:", 1)[1]
    assert 'pulumi preview --stack "$STACK"' in text and 'pulumi up --stack "$STACK"' in text
    assert "actions/upload-artifact@" in text


@each
def test_every_preview_and_up_refreshes(workflow: Path) -> None:
    text = workflow.read_text()
    commands = re.findall(r"pulumi (?:preview|up) --stack [^\n]*", text)
    assert len(commands) >= 3
    for command in commands:
        assert "--refresh" in command, command


@each
def test_the_preview_json_is_reviewed_and_kept(workflow: Path) -> None:
    job = "preview" if workflow == FLEET else "review"
    script = scripts(workflow, job)
    assert "exo-distributor review" in script and "--output markdown" in script
    preview = scripts(workflow, "preview")
    assert "--json" in preview
    uploads = [
        step
        for step in jobs(workflow)["preview"]["steps"]  # type: ignore[attr-defined]
        if "upload-artifact" in str(step.get("uses", ""))
    ]
    assert uploads and ".json" in str(uploads[0]["with"]["path"])
    assert uploads[0].get("if") == "always()"


@each
def test_the_review_is_one_comment_updated_in_place(workflow: Path) -> None:
    text = workflow.read_text()
    job = "preview" if workflow == FLEET else "review"
    script = scripts(workflow, job)
    assert 'REVIEW_MARKER: "<!-- exo-distributor-review:' in text
    assert "printf '%s\\n' \"$REVIEW_MARKER\"" in script  # the comment starts with the marker
    assert 'startswith(\\"$REVIEW_MARKER\\")' in script  # and is found by it
    assert "gh api --method PATCH" in script and "gh api --method POST" in script
    assert "gh pr comment" not in script  # that would add a comment per run
    assert jobs(workflow)[job]["permissions"] == {"contents": "read", "pull-requests": "write"}


@each
def test_the_gate_follows_the_review_exit_codes(workflow: Path) -> None:
    job = "preview" if workflow == FLEET else "review"
    steps = jobs(workflow)[job]["steps"]
    assert isinstance(steps, list)
    gate = next(step for step in steps if step.get("name") == "Gate on the review")
    script = gate["run"]
    for code in (0, EXIT_ATTENTION, EXIT_DESTRUCTIVE, EXIT_PREVIEW_FAILED):
        assert re.search(rf"^\s*{code}\)", script, re.MULTILINE), code
    destructive = script.split(f"{EXIT_DESTRUCTIVE})", 1)[1].split(";;", 1)[0]
    assert '"$APPROVED" = "true"' in destructive and "exit 1" in destructive
    assert "exit 1" in script.split(f"{EXIT_PREVIEW_FAILED})", 1)[1].split(";;", 1)[0]
    assert "exit 1" not in script.split(f"{EXIT_ATTENTION})", 1)[1].split(";;", 1)[0]
    # The label the gate reads is the one whose events trigger a new preview.
    text = workflow.read_text()
    assert "APPROVAL_LABEL: destructive-change-approved" in text
    assert "github.event.label.name == 'destructive-change-approved'" in text


@each
def test_a_scheduled_drift_job_expects_no_changes(workflow: Path) -> None:
    loaded = yaml.safe_load(workflow.read_text())
    triggers = loaded[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["schedule"] and "workflow_dispatch" in triggers
    drift = jobs(workflow)["drift"]
    assert "schedule" in str(drift["if"])
    script = scripts(workflow, "drift")
    assert "--refresh --expect-no-changes" in script
    assert 'exit "$status"' in script
    # A schedule never deploys.
    assert "schedule" not in str(jobs(workflow)["up"]["if"])


def test_the_shards_run_as_a_matrix_and_one_job_reviews_them_all() -> None:
    shards = jobs(SHARDS)
    for job in ("preview", "up", "drift"):
        strategy = shards[job]["strategy"]
        assert strategy == {
            "fail-fast": False,
            "matrix": {"shard": "${{ fromJSON(needs.stacks.outputs.shards) }}"},
        }, job
        assert shards[job]["env"] == {"STACK": "${{ matrix.shard }}"}
    assert "driver.py init" in scripts(SHARDS, "stacks")
    review = shards["review"]
    assert review["needs"] == ["stacks", "preview"]
    assert str(review["if"]).startswith("always()")
    download = next(step for step in review["steps"] if "download-artifact" in str(step.get("uses")))  # type: ignore[attr-defined]
    assert download["with"] == {"pattern": "preview-*", "path": "previews", "merge-multiple": True}


def test_the_programs_install_the_cli_extra() -> None:
    for example in ("fleet", "shards"):
        requirements = (ROOT / "examples" / example / "requirements.txt").read_text()
        lines = [line for line in requirements.splitlines() if line and not line.startswith("#")]
        assert lines == ["./vendor/pulumi_exo_distributor-0.1.0-py3-none-any.whl[cli]"], example


def test_make_lint_checks_every_example_workflow() -> None:
    makefile = (ROOT / "Makefile").read_text()
    listed = re.search(r"^WORKFLOWS := (.*)$", makefile, re.MULTILINE)
    assert listed is not None
    every = [*WORKFLOWS, RELEASE]
    assert sorted(listed.group(1).split()) == sorted(str(path.relative_to(ROOT)) for path in every)
    assert sorted(every) == sorted(ROOT.glob("examples/*/.github/workflows/*.yml"))


# -- the release workflow ---------------------------------------------------------------------------


def test_the_release_workflow_is_clean(actionlint: str) -> None:
    done = lint(actionlint, RELEASE)
    assert done.returncode == 0, done.stdout + done.stderr


def release() -> dict[Any, Any]:
    loaded = yaml.safe_load(RELEASE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = (one for one in job["steps"] if one.get("name") == name)
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
    for later in ("test", "publish", "github-release"):
        assert "make dist" not in str(jobs[later]) and "python -m build" not in str(jobs[later])
        assert any(
            one.get("uses", "").startswith("actions/download-artifact@") for one in jobs[later]["steps"]
        )


def test_the_release_publishes_with_trusted_publishing() -> None:
    publish = release()["jobs"]["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    (upload,) = (one for one in publish["steps"] if "gh-action-pypi-publish" in one.get("uses", ""))
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
