"""The example CI workflows pass actionlint (with shellcheck on their scripts), and actionlint really
checks them: a misspelt input or context is caught. `make test` and `make lint` ensure actionlint.
They also do what docs/ci.md says: previews and ups with --refresh, the preview's JSON kept, one
review comment updated in place, a gate on the review's exit code, a drift check."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pulumi_exo_distributor._review import EXIT_ATTENTION, EXIT_DESTRUCTIVE, EXIT_PREVIEW_FAILED

pytestmark = pytest.mark.tools

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "examples/fleet/.github/workflows/pulumi.yml"
SHARDS = ROOT / "examples/shards/.github/workflows/pulumi.yml"
WORKFLOWS = [FLEET, SHARDS]


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
    assert sorted(listed.group(1).split()) == sorted(str(path.relative_to(ROOT)) for path in WORKFLOWS)
    assert sorted(WORKFLOWS) == sorted(ROOT.glob("examples/*/.github/workflows/*.yml"))
