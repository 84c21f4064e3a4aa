"""Which virtualenv the stand-in language host (scripts/pulumi_language_python_host.py) takes for
a program, as Pulumi's own host does (sdk/python/toolchain), and how it reads Pulumi.yaml before it
can import anything but the standard library."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HOST: dict[str, Any] = runpy.run_path(str(ROOT / "scripts" / "pulumi_language_python_host.py"))

PROJECTS = {
    "block": ("name: p\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n", "venv"),
    "quoted, commented, nested": (
        "name: p  # the name\ndescription: 'a: b'\nruntime:\n  name: python\n  options:\n"
        "    toolchain: pip\n    virtualenv: 'v env'  # beside it\nconfig:\n  a:\n    default: 1\n",
        "v env",
    ),
    "absolute": ("runtime:\n  name: python\n  options:\n    virtualenv: /opt/venv\n", "/opt/venv"),
    "uv without a virtualenv": ("runtime:\n  name: python\n  options:\n    toolchain: uv\n", ".venv"),
    "no options": ("name: p\nruntime: python\n", None),
}


@pytest.mark.parametrize(("text", "expected"), PROJECTS.values(), ids=PROJECTS.keys())
def test_the_programs_virtualenv_from_pulumi_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str | None
) -> None:
    (tmp_path / "Pulumi.yaml").write_text(text)
    (tmp_path / "sub").mkdir()
    monkeypatch.delenv("UV_PROJECT_ENVIRONMENT", raising=False)
    # From a directory below the project's, as the CLI finds its project.
    want = None if expected is None else str(tmp_path / expected / "bin" / "python")
    assert HOST["program_virtualenv_python"](str(tmp_path / "sub")) == want
    # Without PyYAML (the first python may have none), the block reader finds the same options.
    assert HOST["_block_yaml"](text)["runtime"] == _strings(yaml.safe_load(text)["runtime"])


def _strings(value: Any) -> Any:
    return {k: _strings(v) for k, v in value.items()} if isinstance(value, dict) else str(value)


def test_no_project_no_virtualenv(tmp_path: Path) -> None:
    assert HOST["program_virtualenv_python"](str(tmp_path)) is None


def test_without_a_toolchain_a_uv_lock_means_uv_and_its_venv_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upstream's Auto toolchain: uv.lock upwards of the program means uv, whose virtualenv is
    $UV_PROJECT_ENVIRONMENT or .venv beside the uv.lock; else pip, and no virtualenv."""
    program = tmp_path / "infra"
    program.mkdir()
    monkeypatch.delenv("UV_PROJECT_ENVIRONMENT", raising=False)
    assert HOST["resolve_toolchain"](str(program), "") == "pip"
    (tmp_path / "uv.lock").write_text("")
    toolchain = HOST["resolve_toolchain"](str(program), "")
    assert toolchain == "uv"
    assert HOST["resolve_virtualenv"](str(program), str(program), "", toolchain) == str(tmp_path / ".venv")
    monkeypatch.setenv("UV_PROJECT_ENVIRONMENT", "envs/uv")
    assert HOST["resolve_virtualenv"](str(program), str(program), "", toolchain) == str(tmp_path / "envs/uv")
    # A declared virtualenv is relative to the project's root, whatever the toolchain.
    assert HOST["resolve_virtualenv"](str(program), str(program), "venv", "uv") == str(program / "venv")
    (tmp_path / "uv.lock").unlink()
    (tmp_path / "poetry.lock").write_text("")
    assert HOST["resolve_toolchain"](str(program), "") == "poetry"
