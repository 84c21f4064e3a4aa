"""``exo-distributor``: the Partner API's read-only operations from a shell.

``orgs list``, ``orgs get``, ``usage`` (one organization, or ``--all``: the monthly billing run),
``orphans`` (what no stack manages) and ``import-code`` (a program, or a customer list, that
adopts what exists). Credentials and endpoint come from ``EXOSCALE_API_KEY``,
``EXOSCALE_API_SECRET`` and ``EXOSCALE_PARTNER_API_ENDPOINT``. ``review`` needs none of them: it
reads `pulumi preview --json` output and says what `pulumi up` would do to each customer.

One module per command (``usage``'s two views in ``_usage_one`` and ``_usage_fleet``), beside the
plumbing they share (``_base``: errors, session; ``_output``: tables, JSON, CSV, progress). Tables
go to stdout, drawn by rich; progress and errors go to stderr. Errors are one message and a hint,
exit code 1 (2 for a wrong command line), never a traceback or a credential; ``review`` has exit
codes of its own for CI gates (see ``_review``).

This package needs the ``cli`` extra (click and rich); the console script reaches it through
``_scripts``, which says how to install the extra when it is missing.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._data import DYNAMIC_RESOURCE_TYPE

# The commands register themselves on the group as they are imported.
from . import import_code, orgs, orphans, review, usage  # noqa: F401
from ._app import app
from ._base import Session
from ._output import _csv_cell

__all__ = ["DYNAMIC_RESOURCE_TYPE", "Session", "_csv_cell", "app", "main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command (``prog_name`` fixed, so that help and errors say ``exo-distributor``)."""
    app.main(args=argv, prog_name="exo-distributor")


if __name__ == "__main__":
    main()
