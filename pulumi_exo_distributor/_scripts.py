"""The console scripts: each checks that its extra is installed, and says how to install it if not.

``exo-distributor`` needs the ``cli`` extra (click, rich), ``exo-distributor-simulator`` the
``simulator`` extra (starlette, uvicorn). Without them, a plain ImportError traceback would be all
the user saw.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

__all__ = ["exo_distributor", "exo_distributor_simulator", "missing_extra_message", "provider_plugin"]

#: Extra -> the top-level modules it brings. A setting declared once: pyproject.toml's extras
#: are checked against it by the tests.
EXTRAS = {
    "cli": ("click", "rich"),
    "simulator": ("starlette", "uvicorn"),
    # Only `usage --chart` needs it: the command checks for it before reading anything.
    "billing": ("matplotlib",),
}

EXIT_MISSING_EXTRA = 3


def _missing(extra: str) -> list[str]:
    return [module for module in EXTRAS[extra] if importlib.util.find_spec(module) is None]


def missing_extra_message(command: str, extra: str, missing: Sequence[str]) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        wheel = f"pulumi_exo_distributor-{version('pulumi-exo-distributor')}-py3-none-any.whl"
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        wheel = "pulumi_exo_distributor-<version>-py3-none-any.whl"
    return (
        f"{command}: the '{extra}' extra of pulumi-exo-distributor is not installed "
        f"(missing: {', '.join(missing)}).\n"
        "Install it into this environment, from the built wheel or from a checkout of the project:\n"
        f"  pip install 'dist/{wheel}[{extra}]'\n"
        f"  pip install '/path/to/pulumi-exo-distributor[{extra}]'\n"
    )


def _require(command: str, extra: str) -> None:
    missing = _missing(extra)
    if missing:
        sys.stderr.write(missing_extra_message(command, extra, missing))
        sys.exit(EXIT_MISSING_EXTRA)


def exo_distributor(argv: Sequence[str] | None = None) -> None:
    """``exo-distributor``."""
    _require("exo-distributor", "cli")
    from .cli import main

    main(argv)


def exo_distributor_simulator(argv: Sequence[str] | None = None) -> None:
    """``exo-distributor-simulator``."""
    _require("exo-distributor-simulator", "simulator")
    from .simulator.__main__ import main

    sys.exit(main(argv))


def provider_plugin(argv: Sequence[str] | None = None) -> None:
    """``pulumi-resource-exo-distributor``: the provider plugin the engine starts (no extra: the
    base install has Pulumi's SDK and gRPC)."""
    from .plugin._server import main

    main(None if argv is None else list(argv))
