"""`exo-distributor review` through its console script: exit codes, outputs, stdin, bad files.

It needs no credentials and no API: every run here has none in its environment.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from pulumi_exo_distributor._review import (
    EXIT_ATTENTION,
    EXIT_CLEAN,
    EXIT_DESTRUCTIVE,
    EXIT_PREVIEW_FAILED,
    Review,
    markdown,
    read_preview,
)

from .conftest import Run

PREVIEWS = Path(__file__).parents[1] / "unit" / "previews"


@dataclass
class ReviewCommand:
    """`exo-distributor review ...`, run in the previews' directory with no credentials at all."""

    script: Path

    def __call__(self, *args: str, stdin: str | None = None) -> Run:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("EXOSCALE_") and name not in ("COLUMNS", "FORCE_COLOR")
        }
        done = subprocess.run(
            [str(self.script), "review", *args],
            input=stdin,
            env=env,
            cwd=PREVIEWS,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def review(script: Path) -> ReviewCommand:
    return ReviewCommand(script)


@pytest.mark.parametrize(
    ("preview", "code", "headline"),
    [
        ("create.json", EXIT_CLEAN, "Nothing destructive or disruptive."),
        ("suspend.json", EXIT_ATTENTION, "Needs attention"),
        ("policy.json", EXIT_ATTENTION, "Needs attention"),
        ("delete.json", EXIT_DESTRUCTIVE, "DESTRUCTIVE"),
        ("replace.json", EXIT_DESTRUCTIVE, "DESTRUCTIVE"),
        ("failed.json", EXIT_PREVIEW_FAILED, "The preview failed"),
    ],
)
def test_the_exit_code_says_what_the_change_does(
    review: ReviewCommand, preview: str, code: int, headline: str
) -> None:
    done = review(preview)
    assert done.returncode == code, done.text
    assert done.stdout.startswith(headline)
    assert f"exit code {code} " in done.stdout
    assert done.stderr == ""


def test_the_table_names_each_organization_and_its_stack(review: ReviewCommand) -> None:
    done = review("mixed.json", "protected.json")
    assert done.returncode == EXIT_PREVIEW_FAILED
    lines = done.stdout.splitlines()
    purged = next(line for line in lines if line.startswith("47fc22c6-7872-49f2-8085-a165b81ed88b"))
    assert "Purged SA" in purged and " prod " in purged and "purged" in purged
    guarded = next(line for line in lines if line.startswith("73221375-f849-40a4-a576-275726a8885e"))
    assert " staging " in guarded
    assert "Terminate and purge (2)" in done.stdout
    assert "protected.json: the preview reported 2 error(s)" in done.stdout
    assert "cannot be deleted" in done.stdout


def test_stdin_is_one_preview(review: ReviewCommand) -> None:
    done = review("-", "--output", "json", stdin=(PREVIEWS / "suspend.json").read_text())
    assert done.returncode == EXIT_ATTENTION
    result = json.loads(done.stdout)
    assert result["previews"][0]["source"] == "stdin"
    assert [change["consequence"] for change in result["changes"]] == ["suspend"]


def test_json_output_has_the_counts_the_rows_and_the_verdict(review: ReviewCommand) -> None:
    done = review("delete.json", "--output", "json")
    assert done.returncode == EXIT_DESTRUCTIVE
    result = json.loads(done.stdout)
    assert result["verdict"] == "destructive"
    assert result["exit_code"] == EXIT_DESTRUCTIVE
    assert {key: n for key, n in result["counts"].items() if n} == {
        "terminate-and-purge": 2,
        "terminate": 1,
        "leave-running": 1,
        "unchanged": 5,
    }
    purged = next(change for change in result["changes"] if change["resource"] == "purged")
    assert purged == {
        "consequence": "terminate-and-purge",
        "level": "destructive",
        "source": "delete.json",
        "stack": "prod",
        "resource": "purged",
        "urn": "urn:pulumi:prod::exo-fleet::pulumi-python:dynamic/exoscale:DistributorOrganization::purged",
        "organization_id": "47fc22c6-7872-49f2-8085-a165b81ed88b",
        "name": "Purged SA",
        "client_id": "pulumi:exo-fleet/prod/purged",
        "detail": purged["detail"],
    }


def test_markdown_output_is_the_pull_request_comment(review: ReviewCommand) -> None:
    done = review("mixed.json", "--output", "markdown")
    assert done.returncode == EXIT_DESTRUCTIVE
    expected = markdown(Review([read_preview((PREVIEWS / "mixed.json").read_text(), "mixed.json")]))
    assert done.stdout == expected


def test_all_lists_the_unchanged_organizations(review: ReviewCommand) -> None:
    done = review("show-sames.json", "--all")
    assert done.returncode == EXIT_CLEAN
    assert "Unchanged (2)" in done.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("missing.json",), "error: cannot read missing.json: No such file or directory"),
        (("create.json", "-"), "error: stdin is empty: `pulumi preview --json` printed nothing"),
    ],
)
def test_an_unreadable_preview_is_an_error_naming_it(
    review: ReviewCommand, args: tuple[str, ...], says: str
) -> None:
    done = review(*args, stdin="")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(says)
    assert "Traceback" not in done.stderr


def test_a_file_that_is_no_preview_is_an_error_naming_it(review: ReviewCommand, tmp_path: Path) -> None:
    export = tmp_path / "state.json"
    export.write_text(json.dumps({"version": 3, "deployment": {"resources": []}}))
    binary = tmp_path / "preview.bin"
    binary.write_bytes(b"\xff\xfe\x00junk")
    for path, says in (
        (export, "is JSON but not the output of `pulumi preview --json`"),
        (binary, "is not UTF-8 text"),
    ):
        done = review(str(path))
        assert done.returncode == 1
        assert done.stderr.startswith(f"error: {path} ")
        assert says in done.stderr


def test_help_documents_the_exit_codes(review: ReviewCommand) -> None:
    done = review("--help")
    assert done.returncode == 0
    for code in (EXIT_CLEAN, EXIT_ATTENTION, EXIT_DESTRUCTIVE, EXIT_PREVIEW_FAILED):
        assert re.search(rf"^ +- {code}: [a-z]", done.stdout, re.MULTILINE), code
    assert "no credentials, no API call" in done.stdout
