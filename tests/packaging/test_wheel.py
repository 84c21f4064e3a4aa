"""The sdist and wheel as a release makes them, in a scratch git repository holding this tree: the
version comes from git (exactly the tag at a tag, greater and ordered after it), the wheel built
from the sdist keeps the sdist's version, `pip install -U` of a newer build replaces an older one,
PyPI would accept both files (`twine check --strict`), each holds what it should, and the newer
wheel, installed (not editable) into a new virtualenv, runs the quickstart through the engine; its
console scripts say which extra they miss.

One isolated build environment serves every build, and one virtualenv every installed test."""

from __future__ import annotations

import email
import email.message
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
from build import ProjectBuilder
from build.env import DefaultIsolatedEnv
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version
from pulumi import automation as auto

from benchmarks.engine import LocalProject
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

# One worker builds and installs once for the whole module. A copy of the files holds
# .git_archival.txt as git stores it, unexpanded: setuptools-scm says so, and falls back.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("packaging"),
    pytest.mark.filterwarnings("ignore:(git archive did not support|unprocessed git archival)"),
]

ROOT = Path(__file__).resolve().parents[2]
KEY, SECRET = "EXOwheeltests0000000000001", "wheel-secret"
TAG = "v0.1.0"
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def setting(name: str) -> str:
    # A plain `name = "value"` line of pyproject.toml (tomllib is not in Python 3.10).
    found = re.search(rf'^{re.escape(name)} = "([^"]+)"$', PYPROJECT, flags=re.MULTILINE)
    assert found, name
    return found.group(1)


REPOSITORY = setting("Source")


def run(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    # Away from the checkout, whose package `python -c` would otherwise import from the cwd.
    kwargs.setdefault("cwd", tempfile.gettempdir())
    return subprocess.run(  # type: ignore[call-overload,no-any-return]
        [str(arg) for arg in args], capture_output=True, text=True, check=False, timeout=600, **kwargs
    )


def git(repo: Path, *args: str) -> str:
    done = run(
        "git",
        "-c",
        "user.name=Release Test",
        "-c",
        "user.email=release-test@example.com",
        "-c",
        "commit.gpgsign=false",
        "-c",
        "tag.gpgsign=false",
        *args,
        cwd=repo,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def copy_tree(destination: Path) -> Path:
    """This checkout's files as they are now (committed or not; what git ignores left out)."""
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    assert listed.returncode == 0, listed.stderr
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file():  # not a file deleted in the work tree
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def change_the_code(repo: Path, commit: int) -> None:
    # A change to a module, so that an upgrade can be told from a reinstall of the same code.
    with (repo / "pulumi_exo_distributor" / "__init__.py").open("a", encoding="utf-8") as module:
        module.write(f"# scratch commit {commit}\n")
    git(repo, "commit", "--quiet", "--all", "--message", f"Change {commit}")


def metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = (name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(archive.read(name))


def wheel_version(wheel: Path) -> Version:
    return parse_wheel_filename(wheel.name)[1]


@dataclass(frozen=True)
class Builds:
    #: The version of a copy with no git metadata and no PKG-INFO.
    copied: Version
    #: The version of the first commit, before any tag.
    untagged: Version
    #: The wheel at the tag.
    tagged: Path
    #: The wheel one commit after the tag.
    older: Path
    #: The sdist two commits after the tag, and the wheel built from it (as `python -m build` does).
    sdist: Path
    newer: Path
    #: The version of `git archive` two commits after the tag (a forge's source download).
    archived: Version


class Builder:
    """Builds in one isolated environment, whose build requirements are pinned by constraints.txt."""

    def __init__(self, env: DefaultIsolatedEnv, out: Path) -> None:
        self.env = env
        self.out = out

    def project(self, source: Path) -> ProjectBuilder:
        return ProjectBuilder.from_isolated_env(self.env, source)

    def version(self, source: Path) -> Version:
        dist_info = Path(self.project(source).metadata_path(self.out / f"metadata-{source.name}"))
        return Version(email.message_from_bytes((dist_info / "METADATA").read_bytes())["Version"])

    def build(self, source: Path, distribution: Literal["sdist", "wheel"]) -> Path:
        return Path(self.project(source).build(distribution, self.out / f"{distribution}-{source.name}"))


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    work = tmp_path_factory.mktemp("release")
    with pytest.MonkeyPatch.context() as patch, DefaultIsolatedEnv() as env:
        # As make dist and the release workflow do: the build backend and its plugins pinned.
        patch.setenv("PIP_CONSTRAINT", str(ROOT / "constraints.txt"))
        requirements = ProjectBuilder.from_isolated_env(env, ROOT).build_system_requires
        env.install(requirements)
        builder = Builder(env, work / "out")

        copied = builder.version(copy_tree(work / "copied"))

        repo = copy_tree(work / "repo")
        git(repo, "init", "--quiet", "--initial-branch", "main")
        git(repo, "add", "--all")
        git(repo, "commit", "--quiet", "--message", "First")
        untagged = builder.version(repo)

        git(repo, "tag", "--annotate", TAG, "--message", "First release")
        tagged = builder.build(repo, "wheel")
        change_the_code(repo, 1)
        older = builder.build(repo, "wheel")
        change_the_code(repo, 2)
        sdist = builder.build(repo, "sdist")
        with tarfile.open(sdist) as archive:
            archive.extractall(work / "unpacked", filter="data")
        (unpacked,) = (work / "unpacked").iterdir()
        newer = builder.build(unpacked, "wheel")

        archive_file = work / "archive.tar"
        git(repo, "archive", "--output", str(archive_file), "--prefix", "archived/", "HEAD")
        with tarfile.open(archive_file) as archive:
            archive.extractall(work, filter="data")
        archived = builder.version(work / "archived")

        yield Builds(copied, untagged, tagged, older, sdist, newer, archived)


# -- versions ---------------------------------------------------------------------------------------


def test_at_the_tag_the_version_is_the_tags(builds: Builds) -> None:
    # Exactly, with no local part: what a release publishes (an index refuses local versions).
    assert str(wheel_version(builds.tagged)) == TAG.removeprefix("v")


def test_each_commit_after_the_tag_is_a_greater_version_in_commit_order(builds: Builds) -> None:
    tag, older, newer = (
        Version(TAG.removeprefix("v")),
        wheel_version(builds.older),
        wheel_version(builds.newer),
    )
    assert tag < older < newer
    # Pre-releases of the next minor version, numbered by their distance to the tag, naming their commit.
    assert (older.public, newer.public) == ("0.2.0.dev1", "0.2.0.dev2")
    assert older.local and older.local.startswith("g") and newer.local and newer.local != older.local


def test_the_wheel_built_from_the_sdist_keeps_the_sdists_version(builds: Builds) -> None:
    # The unpacked sdist has no git metadata: its PKG-INFO gives the version.
    assert parse_sdist_filename(builds.sdist.name)[1] == wheel_version(builds.newer)


def test_a_forge_source_download_knows_its_version(builds: Builds) -> None:
    # `git archive` fills .git_archival.txt in (export-subst): the same version as the checkout.
    assert builds.archived.public == wheel_version(builds.newer).public


def test_without_a_tag_a_dev_version_below_the_first_release(builds: Builds) -> None:
    assert builds.untagged.is_devrelease and builds.untagged < Version(TAG.removeprefix("v"))


def test_without_git_metadata_the_fallback_version(builds: Builds) -> None:
    assert str(builds.copied) == setting("fallback-version") == "0.0.0"


# -- contents and metadata --------------------------------------------------------------------------


def test_the_wheel_holds_the_package_only(builds: Builds) -> None:
    names = set(zipfile.ZipFile(builds.newer).namelist())
    dist_info = f"pulumi_exo_distributor-{wheel_version(builds.newer)}.dist-info/"
    assert {name for name in names if not name.startswith(("pulumi_exo_distributor/", dist_info))} == set()
    assert {"pulumi_exo_distributor/pulumi-plugin.json", "pulumi_exo_distributor/py.typed"} <= names
    assert "pulumi_exo_distributor/simulator/__init__.py" in names
    assert f"{dist_info}licenses/LICENSE" in names
    assert json.loads(zipfile.ZipFile(builds.newer).read("pulumi_exo_distributor/pulumi-plugin.json")) == {
        "resource": False
    }


def test_the_sdist_holds_what_rebuilds_and_tests_the_package(builds: Builds) -> None:
    with tarfile.open(builds.sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in (
        "pulumi_exo_distributor/__init__.py",
        "tests/packaging/test_wheel.py",
        "examples/quickstart/__main__.py",
        "examples/release/.github/workflows/release.yml",
        "scripts/ensure-pulumi.sh",
        "benchmarks/program.py",
        "docs/releases.md",
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "Makefile",
        "mkdocs.yml",
        "constraints.txt",
        "pyproject.toml",
        "PKG-INFO",
    ):
        assert needed in names, needed
    assert not any(name.startswith((".ci/", ".venv", "dist/", ".git/")) for name in names)
    assert not any("__pycache__" in name for name in names)


def test_twine_check_strict_passes(builds: Builds) -> None:
    # What PyPI checks on upload: the metadata, and that the long description renders.
    done = run(sys.executable, "-m", "twine", "check", "--strict", builds.sdist, builds.newer)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2


def test_the_metadata_a_pypi_page_shows(builds: Builds) -> None:
    meta = metadata(builds.newer)
    assert meta["Metadata-Version"] == "2.4"
    assert meta["License-Expression"] == "Apache-2.0"
    classifiers = meta.get_all("Classifier") or []
    # PEP 639: a license expression replaces the License :: classifiers, and PyPI refuses both.
    assert not [classifier for classifier in classifiers if classifier.startswith("License ::")]
    assert {f"Programming Language :: Python :: 3.{minor}" for minor in range(10, 14)} <= set(classifiers)
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL") or [])
    assert set(urls) == {"Homepage", "Documentation", "Changelog", "Issues", "Source"}
    assert all(url.startswith(REPOSITORY) for url in urls.values())
    assert meta["Description-Content-Type"] == "text/markdown"


def test_the_long_description_links_only_to_absolute_urls(builds: Builds) -> None:
    description = metadata(builds.newer).get_payload()
    assert isinstance(description, str)
    assert description.startswith("# pulumi-exo-distributor")
    targets = re.findall(r"\]\(([^)\s]+)\)", description)
    assert targets and all(target.startswith("https://") for target in targets), [
        target for target in targets if not target.startswith("https://")
    ]
    references = re.findall(r"^ {0,3}\[[^\]]+\]:\s+(\S+)", description, flags=re.MULTILINE)
    assert all(target.startswith("https://") for target in references), references
    html = re.findall(r"""<(?:img|a)\s[^>]*?(?:src|href)=["']([^"']+)""", description)
    assert all(target.startswith("https://") for target in html), html
    # Every relative link of the README went to this repository (images to their raw files).
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    relative = [
        t for t in re.findall(r"\]\(([^)\s]+)\)", readme) if not t.startswith(("https://", "http://"))
    ]
    raw = REPOSITORY.replace("https://github.com/", "https://raw.githubusercontent.com/")
    ours = [target for target in targets if target.startswith((REPOSITORY, raw))]
    assert len(ours) >= len(relative) > 0


def test_the_readme_installs_what_make_dist_builds(builds: Builds) -> None:
    # The README names wheels by their file name: this project's, for any version make dist builds.
    readme = (ROOT / "README.md").read_text()
    lines = re.findall(r"^pip install '?dist/([^ '\[]+\.whl)", readme, flags=re.MULTILINE)
    built_name, _, _, built_tags = parse_wheel_filename(builds.newer.name)
    assert lines
    for line in lines:
        name, _, _, tags = parse_wheel_filename(line)
        assert (canonicalize_name(name), tags) == (built_name, built_tags)


# -- installed --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    venv: Path
    #: What the virtualenv held after installing the older build, then after `pip install -U` of the newer.
    before: str
    after: str
    upgrade: subprocess.CompletedProcess[str]


def installed_version(venv: Path) -> str:
    done = run(venv / "bin" / "python", "-c", "import pulumi_exo_distributor as p; print(p.__version__)")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def installed(builds: Builds, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    where = tmp_path_factory.mktemp("venv") / "venv"
    assert run(sys.executable, "-m", "venv", where).returncode == 0
    pip = (where / "bin" / "python", "-m", "pip", "--disable-pip-version-check")
    done = run(*pip, "install", "--quiet", "-c", ROOT / "constraints.txt", builds.older)
    assert done.returncode == 0, done.stdout + done.stderr
    before = installed_version(where)
    upgrade = run(*pip, "install", "-U", "-c", ROOT / "constraints.txt", builds.newer)
    return Installed(where, before, installed_version(where), upgrade)


@pytest.fixture(scope="module")
def venv(installed: Installed) -> Path:
    return installed.venv


def test_pip_install_upgrade_replaces_an_older_build(builds: Builds, installed: Installed) -> None:
    assert installed.upgrade.returncode == 0, installed.upgrade.stdout + installed.upgrade.stderr
    assert (installed.before, installed.after) == (
        str(wheel_version(builds.older)),
        str(wheel_version(builds.newer)),
    )
    assert (
        f"Successfully installed pulumi-exo-distributor-{wheel_version(builds.newer)}"
        in installed.upgrade.stdout
    )
    # The code too, not only the metadata.
    done = run(
        installed.venv / "bin" / "python", "-c", "import pulumi_exo_distributor as p; print(p.__file__)"
    )
    assert (Path(done.stdout.strip())).read_text(encoding="utf-8").endswith("# scratch commit 2\n")


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


def test_the_wheel_installs_the_provider_plugin_beside_the_package(venv: Path) -> None:
    # The engine finds the plugin on PATH: the virtualenv's bin, with no extra needed.
    plugin = venv / "bin" / "pulumi-resource-exo-distributor"
    done = run(plugin)
    assert done.returncode == 2, done.stderr
    assert "the Pulumi engine starts this plugin (package exo-distributor, version" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def simulator() -> Iterator[object]:
    with run_simulator(SimulatorConfig(credentials=(Credential(KEY, SECRET),))) as running:
        yield running


def test_the_quickstart_runs_from_the_wheel(
    venv: Path, builds: Builds, simulator: object, tmp_path: Path
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
            f"{builds.newer}[cli]",
        )
        assert done.returncode == 0, done.stderr
        version = run(venv / "bin" / "exo-distributor", "--version")
        assert version.stdout == f"exo-distributor {wheel_version(builds.newer)}\n"
        listed = run(
            venv / "bin" / "exo-distributor", "orgs", "list", "-o", "json", env={**os.environ, **env}
        )
        assert listed.returncode == 0, listed.stderr
        assert {org["id"] for org in json.loads(listed.stdout)} == {org["id"] for org in outputs.values()}
    finally:
        stack.destroy(color="never")
        workspace.remove_stack("wheel", force=True)
