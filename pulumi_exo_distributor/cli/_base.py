"""The command's plumbing: consoles, errors (one message and a hint, never a traceback), the
retries shown on stderr, the session that holds one client, and the organization id argument."""

from __future__ import annotations

import logging
import os
import re
import uuid
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.console import Console

from .._errors import ExoDistributorError
from .._explain import command_credentials_help, detail, hint

if TYPE_CHECKING:
    from .._client import PartnerClient

# The client id a stack gives an organization that declares none: pulumi:<project>/<stack>/<name>.
_DERIVED_CLIENT_ID = re.compile(r"pulumi:[^/]+/[^/]+/(?P<name>[^/]+)")

_T = TypeVar("_T")

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


# -- consoles ----------------------------------------------------------------------------------


def _stdout_console() -> Console:
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Redirected to a file or a pipe: rich's default of 80 columns would wrap the ids.
        console.width = 200
    return console


def _stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


# -- errors ------------------------------------------------------------------------------------


class CommandError(click.ClickException):
    """A failure the user can act on: printed as ``error: ...`` (and a hint), exit code 1."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.message}", err=True)
        if self.hint:
            click.echo(f"  hint: {self.hint}", err=True)


def _fail(action: str, error: ExoDistributorError) -> NoReturn:
    raise CommandError(
        f"cannot {action}: {detail(error)}", hint(error, credentials_help=command_credentials_help())
    ) from None


class _Group(click.Group):
    """Turns what a command raises into a short message and an exit code: never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ExoDistributorError as exc:
            raise CommandError(detail(exc), hint(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            if ctx.find_root().params.get("debug"):
                raise
            raise CommandError(
                f"unexpected failure: {type(exc).__name__}: {exc}",
                "run the command again with --debug to see where it failed, and report it",
            ) from None


class _RetryNotes(logging.Handler):
    """The client's retries (logged by stamina) as one short note each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        data = record.__dict__
        click.echo(
            f"note: retry {data.get('stamina.retry_num', '?')} in {data.get('stamina.wait_for', '?')} s "
            f"after {data.get('stamina.caused_by', record.getMessage())}",
            err=True,
        )


def _log_retries() -> None:
    logger = logging.getLogger("stamina")
    if not any(isinstance(handler, _RetryNotes) for handler in logger.handlers):
        logger.addHandler(_RetryNotes())
        logger.propagate = False


# -- the session: one client for the command ------------------------------------------------


@dataclass
class Session:
    """What every command shares: the client, made on first use, closed at the end."""

    _client: PartnerClient | None = field(default=None, init=False)

    def client(self) -> PartnerClient:
        if self._client is None:
            from .._client import PartnerClient
            from .._config import ENV_KEY, ENV_SECRET, Credentials, exo_cli_account

            # As `exo` does: the environment's key pair first, else the exo CLI's account.
            account = None if os.environ.get(ENV_KEY) or os.environ.get(ENV_SECRET) else exo_cli_account()
            key, secret = (account[0], account[1]) if account else (None, None)
            self._client = PartnerClient(credentials=Credentials.resolve(key, secret))
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _session() -> Session:
    return click.get_current_context().find_object(Session) or Session()


class _OrganizationId(click.ParamType[str]):
    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            self.fail(f"{value!r} is not an organization id (a UUID, as `orgs list` shows)", param, ctx)


ORGANIZATION_ID = _OrganizationId()
