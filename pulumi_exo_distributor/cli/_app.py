"""The ``exo-distributor`` group, its options, and the session it opens for its commands."""

from __future__ import annotations

import logging
import sys

import click

from ._base import Session, _Group, _log_retries

# -- the command -------------------------------------------------------------------------------


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--debug",
    is_flag=True,
    help="Log every request on stderr (operation, status, time; never headers or bodies) and show "
    "the traceback of an unexpected failure.",
)
@click.version_option(package_name="pulumi-exo-distributor", message="%(prog)s %(version)s")
@click.pass_context
def app(ctx: click.Context, debug: bool) -> None:
    """Read the organizations of an Exoscale distributor: list and inspect them, their monthly
    usage, the ones no Pulumi stack manages, and a program that takes them under management;
    and review what a `pulumi preview` would do to each customer.

    Credentials come from EXOSCALE_API_KEY and EXOSCALE_API_SECRET, else, as the exo CLI does,
    from an account of ~/.config/exoscale/exoscale.toml (its default one, or the one
    EXOSCALE_ACCOUNT names; EXOSCALE_CONFIG for another file). The endpoint comes from
    EXOSCALE_PARTNER_API_ENDPOINT (default: Exoscale's).
    """
    _log_retries()
    if debug:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
        logging.getLogger("pulumi_exo_distributor").setLevel(logging.DEBUG)
    session = ctx.ensure_object(Session)
    ctx.call_on_close(session.close)
