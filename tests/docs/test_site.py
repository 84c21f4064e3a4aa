"""The documentation site: what the code declares is what the pages say, and the site builds strict
(a broken link or anchor, or a page left out of the nav, fails)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    # The Material theme prints a notice about MkDocs' next version unless told not to.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300
    )


def test_the_generated_parts_of_the_pages_are_current() -> None:
    done = _run("scripts/gen_docs.py", "--check")
    assert done.returncode == 0, done.stderr


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    done = _run("-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site"))
    assert done.returncode == 0, done.stderr
    for page in (
        "index.html",
        "reference/cli/index.html",
        "guides/simulator/index.html",
        "benchmarks/index.html",
    ):
        assert (tmp_path / "site" / page).is_file(), page


def test_the_readme_links_lead_somewhere() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)\s]*)?\)", readme)
    local = [target for target in targets if "://" not in target]
    assert any(target.startswith("docs/") for target in local), "the README leads into docs/"
    missing = [target for target in local if not (ROOT / target).exists()]
    assert missing == [], f"README links to missing files: {missing}"
