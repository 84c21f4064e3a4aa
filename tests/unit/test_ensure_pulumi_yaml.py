"""scripts/ensure-pulumi-yaml.sh's own logic, with a stand-in `go` (no build, no network): the cache
is used as is, built once under a lock, appears only complete, and a failed build leaves nothing.
The real build is what ``make test`` runs before the tests; tests/e2e/test_yaml.py runs its host."""

from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "ensure-pulumi-yaml.sh"
VERSION = re.search(r"^version=(v\S+)$", SCRIPT.read_text(), re.MULTILINE)

#: A `go` that answers `go mod download -json MODULE@VERSION` with the go.mod of $FAKE_GOMOD and
#: `go install` by writing an executable into $GOBIN, logging each call into $FAKE_GO_LOG.
FAKE_GO = """\
#!/bin/sh
echo "$*" >>"$FAKE_GO_LOG"
case "$1 $2" in
"mod download")
    printf '{\\n\\t"Path": "github.com/pulumi/pulumi-yaml",\\n\\t"GoMod": "%s",\\n' "$FAKE_GOMOD"
    printf '\\t"Dir": "/nowhere"\\n}\\n'
    ;;
"install -trimpath")
    [ -n "${FAKE_GO_FAIL:-}" ] && { echo "build failed" >&2; exit 1; }
    sleep "${FAKE_GO_SLEEP:-0}"
    mkdir -p "$GOBIN"
    printf '#!/bin/sh\\necho fake host\\n' >"$GOBIN/pulumi-language-yaml"
    chmod +x "$GOBIN/pulumi-language-yaml"
    ;;
*) echo "unexpected: go $*" >&2; exit 2 ;;
esac
"""


def version() -> str:
    assert VERSION is not None, "the script has no version=vX.Y.Z line"
    return VERSION.group(1)


@pytest.fixture
def fake(tmp_path: Path) -> dict[str, str]:
    go = tmp_path / "go"
    go.write_text(FAKE_GO)
    go.chmod(0o755)
    gomod = tmp_path / "go.mod"
    gomod.write_text("module github.com/pulumi/pulumi-yaml\n\ngo 1.24\n\nrequire example.com/x v1.0.0\n")
    return {
        **os.environ,
        "GO": str(go),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "FAKE_GOMOD": str(gomod),
        "FAKE_GO_LOG": str(tmp_path / "go.log"),
    }


def ensure(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, check=False, timeout=60)


def calls(env: dict[str, str]) -> list[str]:
    log = Path(env["FAKE_GO_LOG"])
    return log.read_text().splitlines() if log.exists() else []


def cache_root(env: dict[str, str]) -> Path:
    return Path(env["XDG_CACHE_HOME"]) / "pulumi-exo-distributor"


def test_the_pin_is_a_release_and_the_cache_is_named_after_it() -> None:
    assert re.fullmatch(r"v\d+\.\d+\.\d+", version())


def test_a_first_run_builds_the_pinned_release_then_the_cache_serves(fake: dict[str, str]) -> None:
    done = ensure(fake)
    assert done.returncode == 0, done.stderr
    bin_dir = cache_root(fake) / f"pulumi-yaml-{version()}" / "bin"
    assert done.stdout.splitlines()[-1] == str(bin_dir)
    assert (bin_dir / "pulumi-language-yaml").stat().st_mode & 0o111
    install = [c for c in calls(fake) if c.startswith("install")]
    assert len(install) == 1
    assert install[0].endswith(f"github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@{version()}")
    assert f"-X github.com/pulumi/pulumi-yaml/pkg/version.Version={version()}" in install[0]
    assert f"mod download -json github.com/pulumi/pulumi-yaml@{version()}" in calls(fake)
    # Nothing of the build is left beside the cache.
    assert not [p.name for p in cache_root(fake).iterdir() if p.name.startswith(".build")]

    # The next run uses the cache without Go at all.
    again = ensure({**fake, "GO": "/nonexistent/go"})
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == str(bin_dir)
    assert "using cached" in again.stderr


def test_concurrent_first_runs_build_once(fake: dict[str, str]) -> None:
    env = {**fake, "FAKE_GO_SLEEP": "1"}
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: ensure(env), range(3)))
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    assert len({r.stdout.splitlines()[-1] for r in results}) == 1
    assert len([c for c in calls(fake) if c.startswith("install")]) == 1


def test_a_failed_build_fails_and_leaves_no_cache(fake: dict[str, str]) -> None:
    done = ensure({**fake, "FAKE_GO_FAIL": "1"})
    assert done.returncode != 0
    assert "go install" in done.stderr and "failed" in done.stderr
    assert [p.name for p in cache_root(fake).iterdir() if not p.name.endswith(".lock")] == []


def test_a_module_with_replace_directives_is_refused_with_the_way_out(fake: dict[str, str]) -> None:
    Path(fake["FAKE_GOMOD"]).write_text(
        "module github.com/pulumi/pulumi-yaml\n\nreplace example.com/x => ../x\n"
    )
    done = ensure(fake)
    assert done.returncode != 0
    assert "replace directives" in done.stderr and "ensure-pulumi.sh" in done.stderr
    assert not [c for c in calls(fake) if c.startswith("install")]


def test_without_go_it_says_what_is_missing(fake: dict[str, str]) -> None:
    done = ensure({**fake, "GO": "/nonexistent/go"})
    assert done.returncode != 0
    assert "Go is required" in done.stderr


def test_with_tools_puts_the_yaml_host_on_path(fake: dict[str, str], tmp_path: Path) -> None:
    # with-tools.sh, as the Makefile's `make test` line calls it, with the tool built by the fake go.
    assert ensure(fake).returncode == 0
    done = subprocess.run(
        [
            str(ROOT / "scripts" / "with-tools.sh"),
            "pulumi-yaml",
            "--",
            "sh",
            "-c",
            "command -v pulumi-language-yaml",
        ],
        env=fake,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(
        cache_root(fake) / f"pulumi-yaml-{version()}" / "bin" / "pulumi-language-yaml"
    )
    makefile = (ROOT / "Makefile").read_text()
    first_line = makefile.split("\ntest: setup\n", 1)[1].splitlines()[0]
    assert "pulumi-yaml" in first_line.split("$(WITH)", 1)[1].split(" -- ", 1)[0].split(), first_line
