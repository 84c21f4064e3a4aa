"""The dynamic provider of DistributorOrganization: the engine's calls, handed to the core.

The rules live in :mod:`pulumi_exo_distributor.core` (no Pulumi there); this module turns the
dynamic-provider host's calls into the core's and its answers into the host's types, reads the
stack configuration, and keeps the provider object, which the SDK pickles into the state, empty:
credentials are read in :meth:`DistributorOrganizationProvider.configure` (stack config) or from the
environment, and the client, the list of the distributor's organizations and the claims of this
deployment live in the provider process only.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from ._config import CONFIG_ENDPOINT, CONFIG_KEY, CONFIG_SECRET, ENV_KEY, StackSettings
from ._errors import ExoDistributorError
from ._host import (
    deployment_claims,
    engine_address,
    engine_liveness,
    in_dynamic_provider_host,
    lift_worker_cap,
)
from ._journal import CreateJournal
from ._notices import warn
from ._session import ProcessClient
from .core import Lifecycle
from .core.claims import Claims

if TYPE_CHECKING:
    from ._client import PartnerClient

__all__ = ["CONFIG_ENDPOINT", "CONFIG_KEY", "CONFIG_SECRET", "DistributorOrganizationProvider"]

_T = TypeVar("_T")


def _host_claims() -> Claims | None:
    """In the dynamic-provider host: the claims shared with the deployment's other provider
    processes (a provider plugin's resource may adopt an organization this host's resource managed)."""
    if not in_dynamic_provider_host():
        return None
    return deployment_claims(engine_address())


class DistributorOrganizationProvider(ResourceProvider):
    """Dynamic provider of :class:`DistributorOrganization`.

    Pickled into the state by reference, with no state of its own (see ``__reduce__``).
    """

    # Nothing secret is ever pickled: the state can show it in the clear.
    serialize_as_secret_always = False

    def __init__(self) -> None:
        super().__init__()
        self._start()

    def __setstate__(self, state: object) -> None:
        # States written by earlier versions pickled the provider with a (empty) state dict.
        self._start()

    def _start(self) -> None:
        """Set up what lives in the provider process only."""
        self._config = StackSettings()
        self._session = ProcessClient()
        self._in_host = False
        self.core = Lifecycle(
            self.client,
            lambda: self.key_fingerprint,
            legacy_scope=lambda: self._session.legacy_fingerprint,
            journal=CreateJournal.default(),
            warn=warn,
            key_help=f"{CONFIG_KEY} (or {ENV_KEY})",
            claims=_host_claims(),
            engine_alive=engine_liveness() if in_dynamic_provider_host() else lambda: True,
        )

    def __reduce__(self) -> tuple[type[DistributorOrganizationProvider], tuple[()]]:
        # A bare reference to the class: no state dict goes through the pickler. The SDK's
        # serialize_provider patches the pickler's dict writer again for every resource, so a
        # pickled dict, even empty, costs a deeper call chain per resource (RecursionError
        # near a thousand resources); this stays flat.
        return (DistributorOrganizationProvider, ())

    def __repr__(self) -> str:
        return "DistributorOrganizationProvider()"

    def configure(self, req: ConfigureRequest) -> None:
        self._config = StackSettings.read(req.config.get)
        for note in self._config.deprecation_notes():
            warn(note)
        if in_dynamic_provider_host():
            self._in_host = True
            # The host reports a failure as `traceback.format_exc()`, and a traceback cannot be
            # shortened once raised through its frames: keep expected failures to their
            # message. A programming error carries its own traceback (see _call). The SDK has no
            # per-provider way: this holds for the whole host process, so another dynamic
            # provider of the same program also reports its failures without frames.
            sys.tracebacklimit = 0
            # The host serves 4 calls at once; let the engine's --parallel decide instead.
            lift_worker_cap()
        # The HTTP stack (httpx, pydantic, stamina: 0.2 to 0.4 s of CPU) is imported by the first
        # call that needs the API, not here: the engine configures the provider just before its
        # first call, so an import started here overlaps nothing, and a preview with nothing to
        # create (no API call) would pay for it on a machine whose cores the engine and the
        # program share.

    def client(self) -> PartnerClient:
        """The provider process's one client (one connection pool), made on first use."""
        return self._session.get(self._config)

    @property
    def key_fingerprint(self) -> str:
        return self._session.fingerprint(self._config)

    # check, create, read, diff, update, delete: the order the engine mostly calls them in.

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        checked = self._call(lambda: self.core.check(_olds, news))
        return CheckResult(
            checked.inputs, [CheckFailure(field, reason) for field, reason in checked.failures]
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        id_, outputs = self._call(lambda: self.core.create(props))
        return CreateResult(id_, outputs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        read = self._call(lambda: self.core.read(id_, props))
        if read.id is None:
            return ReadResult("", {})  # gone: the engine forgets it
        return ReadResult(read.id, read.outputs, read.inputs)

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        diffed = self._call(lambda: self.core.diff(_id, _olds, _news))
        return DiffResult(changes=diffed.changes, replaces=diffed.replaces, delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._call(lambda: self.core.update(_id, _olds, _news)))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        self._call(lambda: self.core.delete(_id, _props))

    def _call(self, fn: Callable[[], _T]) -> _T:
        """Run a core operation. An expected failure (a package error) keeps to its message; a
        programming error surfaces as itself, and in the host, where frames are not printed
        (see configure), with its traceback attached for a bug report."""
        try:
            return fn()
        except ExoDistributorError:
            raise
        except Exception as exc:
            if self._in_host and hasattr(exc, "add_note"):
                text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=30))
                exc.add_note(f"unexpected failure in pulumi-exo-distributor; its traceback:\n{text}")
            raise
