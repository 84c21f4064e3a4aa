"""What pyproject.toml and CHANGELOG.md declare for a release, checked without building: one
repository URL everywhere, README links made absolute for PyPI, the build pinned where it must be,
and a changelog in the Keep a Changelog shape the release workflow reads."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
REPOSITORY = PYPROJECT["project"]["urls"]["Source"]
RAW = REPOSITORY.replace("https://github.com/", "https://raw.githubusercontent.com/")
CHANGELOG = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split("==", 1) for line in lines if "==" in line and not line.startswith("#"))


def test_one_repository_url_everywhere() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    urls = re.findall(r"https://(?:github\.com|raw\.githubusercontent\.com)/[^\s'\"\\)]+", text)
    assert urls and all(url.startswith((REPOSITORY, RAW)) for url in urls), urls
    assert set(PYPROJECT["project"]["urls"]) == {"Homepage", "Documentation", "Changelog", "Issues", "Source"}
    assert all(url.startswith(REPOSITORY) for url in PYPROJECT["project"]["urls"].values())


def substitute(text: str) -> str:
    # As hatch-fancy-pypi-readme applies them: in order, each over the whole text.
    hook = PYPROJECT["tool"]["hatch"]["metadata"]["hooks"]["fancy-pypi-readme"]
    for substitution in hook["substitutions"]:
        text = re.sub(substitution["pattern"], substitution["replacement"], text)
    return text


def test_the_readme_relative_links_become_absolute_on_pypi() -> None:
    readme = "\n".join(
        [
            "See [the fleet](examples/fleet) and [its CI](examples/fleet/.github/workflows/pulumi.yml),",
            "[the CLI](#the-pulumi-cli), ![a plot](benchmarks/fleet-scale.png), [a page](docs/releases.md),",
            "[Exoscale](https://www.exoscale.com/) and [mail](mailto:ops@example.com).",
            "[ref]: docs/index.md",
            "[anchor]: #install",
            '<img src="docs/logo.png" alt="logo"> <a href="docs/a.md">a</a> <a href="#top">top</a>',
        ]
    )
    assert substitute(readme).splitlines() == [
        f"See [the fleet]({REPOSITORY}/blob/main/examples/fleet) and "
        f"[its CI]({REPOSITORY}/blob/main/examples/fleet/.github/workflows/pulumi.yml),",
        f"[the CLI]({REPOSITORY}/blob/main/README.md#the-pulumi-cli), "
        f"![a plot]({RAW}/main/benchmarks/fleet-scale.png), "
        f"[a page]({REPOSITORY}/blob/main/docs/releases.md),",
        "[Exoscale](https://www.exoscale.com/) and [mail](mailto:ops@example.com).",
        f"[ref]: {REPOSITORY}/blob/main/docs/index.md",
        f"[anchor]: {REPOSITORY}/blob/main/README.md#install",
        f'<img src="{RAW}/main/docs/logo.png" alt="logo"> <a href="{REPOSITORY}/blob/main/docs/a.md">a</a> '
        f'<a href="{REPOSITORY}/blob/main/README.md#top">top</a>',
    ]


def test_the_long_description_is_the_readme() -> None:
    assert "readme" in PYPROJECT["project"]["dynamic"] and "readme" not in PYPROJECT["project"]
    hook = PYPROJECT["tool"]["hatch"]["metadata"]["hooks"]["fancy-pypi-readme"]
    assert hook["content-type"] == "text/markdown"
    assert hook["fragments"] == [{"path": "README.md"}]


def test_the_build_is_bounded_in_pyproject_and_pinned_in_constraints() -> None:
    pinned = pins()
    for line in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(line)
        assert requirement.specifier, f"{line}: an sdist's builders need bounds"
        assert requirement.name in pinned, f"{requirement.name}: pinned for make dist and the release"
        assert Version(pinned[requirement.name]) in requirement.specifier, line
    # What computes the version, and what builds and checks the files.
    assert {"setuptools-scm", "vcs-versioning", "build", "twine"} <= set(pinned)


def test_the_version_comes_from_git() -> None:
    assert "version" in PYPROJECT["project"]["dynamic"] and "version" not in PYPROJECT["project"]
    version = PYPROJECT["tool"]["hatch"]["version"]
    assert version["source"] == "vcs"
    assert version["raw-options"]["version_scheme"] == "release-branch-semver"
    assert Version(version["fallback-version"]) < Version("0.1.0")


# -- the changelog ----------------------------------------------------------------------------------

HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\S+))?$", flags=re.MULTILINE)
KINDS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_changelog_keeps_a_changelog() -> None:
    assert CHANGELOG.startswith("# Changelog\n")
    headings = HEADING.findall(CHANGELOG)
    assert headings[0] == ("Unreleased", "")
    versions = [Version(version) for version, _ in headings[1:]]
    assert versions and versions == sorted(versions, reverse=True)
    dates = [dt.date.fromisoformat(date) for _, date in headings[1:]]
    assert dates == sorted(dates, reverse=True)
    assert set(re.findall(r"^### (.+)$", CHANGELOG, flags=re.MULTILINE)) <= KINDS
    # Every heading links to its changes.
    links = dict(re.findall(r"^\[([^\]]+)\]: (\S+)$", CHANGELOG, flags=re.MULTILINE))
    assert set(links) == {version for version, _ in headings}
    assert links["Unreleased"] == f"{REPOSITORY}/compare/v{versions[0]}...HEAD"
    assert all(url.startswith(REPOSITORY) for url in links.values())
