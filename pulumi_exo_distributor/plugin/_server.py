"""The provider plugin: Pulumi's resource-provider protocol served over the same core as the
dynamic provider (:mod:`pulumi_exo_distributor.core`).

The SDK's server (``pulumi.provider.experimental``) runs every call as a coroutine on one asyncio
event loop. The core blocks (HTTP to the Partner API), so each call runs in a thread of its own,
started for it: as many run at once as the engine sends, so the engine's ``--parallel`` is the
only cap (``EXO_DISTRIBUTOR_PROVIDER_WORKERS`` sets a ceiling, 64 by default). Nothing of the SDK
is patched.

An expected failure (a package error: a refusal of the rules, the API's answer) reaches the engine
as its message alone; the SDK's servicer would append the Python frames to it. A programming error
keeps them, for a bug report.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
from pulumi.provider.experimental import provider as sdk
from pulumi.provider.experimental.server import ProviderServicer

from .._config import CONFIG_KEY, ENV_KEY, StackSettings
from .._data import check_period, organization_info, usage_statement_info
from .._errors import ExoDistributorError
from .._explain import config_help, detail, hint
from .._host import _requested_workers, deployment_claims, engine_address, engine_liveness
from .._journal import CreateJournal
from .._notices import EngineLog
from .._session import ProcessClient
from ..core import Lifecycle
from ._names import FUNCTIONS, PACKAGE, TYPE_TOKEN, camel, identity_from_urn, plugin_version
from ._schema import schema_json
from ._values import from_engine, secret_keys, to_engine

if TYPE_CHECKING:
    from .._client import PartnerClient

__all__ = ["DistributorProvider", "main"]

logger = logging.getLogger("pulumi_exo_distributor")

_T = TypeVar("_T")

#: The message of the expected failure of the call under way (see _Servicer).
_said: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("exo_distributor_said", default=None)


class _Refused(ExoDistributorError):
    """A function's input refused before any call."""


def _schema_field(name: str) -> str:
    return ".".join(camel(part) for part in name.split("."))


def _failures(pairs: list[tuple[str, str]]) -> list[sdk.CheckFailure]:
    failures = []
    for name, reason in pairs:
        shown = _schema_field(name)
        if reason.startswith(name):
            reason = shown + reason[len(name) :]
        failures.append(sdk.CheckFailure(shown, reason))
    return failures


def _as_given(pairs: list[tuple[str, str]]) -> list[sdk.CheckFailure]:
    """Failures about keys as the program spelled them (not schema names: never renamed)."""
    return [sdk.CheckFailure(name, reason) for name, reason in pairs]


class DistributorProvider(sdk.Provider):
    """The ``exo-distributor`` provider: one organization resource, four read-only functions."""

    def __init__(self, engine_address: str = "") -> None:
        self._settings = StackSettings()
        self._session = ProcessClient()
        self._log = EngineLog(engine_address)
        self._slots = asyncio.Semaphore(_requested_workers())
        self.core = Lifecycle(
            self.client,
            lambda: self.key_fingerprint,
            legacy_scope=lambda: self._session.legacy_fingerprint,
            journal=CreateJournal.default(),
            warn=self._log.warn,
            key_help=f"{CONFIG_KEY} (or {ENV_KEY})",
            claims=deployment_claims(engine_address),
            engine_alive=engine_liveness() if engine_address else lambda: True,
        )

    # -- what lives in the process ----------------------------------------------------------------

    def client(self) -> PartnerClient:
        return self._session.get(self._settings)

    @property
    def key_fingerprint(self) -> str:
        return self._session.fingerprint(self._settings)

    async def _run(self, fn: Callable[[], _T]) -> _T:
        """Run a blocking core call in a thread of its own; an expected failure keeps to its message."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[_T] = loop.create_future()

        def settle(outcome: tuple[bool, Any]) -> None:
            if done.cancelled():
                return
            ok, value = outcome
            if ok:
                done.set_result(value)
            else:
                done.set_exception(value)

        def work() -> None:
            try:
                outcome: tuple[bool, Any] = (True, fn())
            except BaseException as exc:
                outcome = (False, exc)
            loop.call_soon_threadsafe(settle, outcome)

        async with self._slots:
            threading.Thread(target=work, name="exo-distributor-call", daemon=True).start()
            try:
                return await done
            except ExoDistributorError as exc:
                said = _said.get()
                if said is not None:
                    said.append(str(exc))
                raise

    # -- the provider's own calls -----------------------------------------------------------------

    async def get_schema(self, request: sdk.GetSchemaRequest) -> sdk.GetSchemaResponse:
        return sdk.GetSchemaResponse(schema=schema_json(plugin_version()))

    async def check_config(self, request: sdk.CheckRequest) -> sdk.CheckResponse:
        return sdk.CheckResponse(inputs=request.new_inputs)

    async def diff_config(self, request: sdk.DiffRequest) -> sdk.DiffResponse:
        # Never a replacement: the engine would replace every organization of the provider (a
        # purge each). A changed key or endpoint is an update of the provider, nothing more.
        keys = ("key", "secret", "endpoint")
        old = {k: request.old_state.get(k) for k in keys}
        new = {k: request.new_inputs.get(k) for k in keys}
        changed = [k for k in keys if old[k] != new[k]]
        return sdk.DiffResponse(changes=bool(changed), diffs=changed)

    async def configure(self, request: sdk.ConfigureRequest) -> sdk.ConfigureResponse:
        args = request.args
        variables = request.variables

        def get(full_key: str) -> str | None:
            namespace, key = full_key.split(":", 1)
            if namespace == PACKAGE and key in args:
                value = args[key].value
                if isinstance(value, str) and value:
                    return value
            for name in (f"{namespace}:config:{key}", full_key):
                if variables.get(name):
                    return variables[name]
            return None

        self._settings = StackSettings.read(get)
        for note in self._settings.deprecation_notes():
            self._log.warn(note)
        return sdk.ConfigureResponse(accept_secrets=True, supports_preview=False, accept_resources=False)

    # -- the organization: check, create, read, diff, update, delete ------------------------------

    def _type(self, urn: str) -> None:
        kind = urn.split("::")[2].rsplit("$", 1)[-1] if urn.count("::") >= 3 else ""
        if kind != TYPE_TOKEN:
            raise _Refused(f"unknown resource type {kind!r}: this provider has {TYPE_TOKEN}")

    async def check(self, request: sdk.CheckRequest) -> sdk.CheckResponse:
        self._type(request.urn)
        olds, _ = from_engine(request.old_inputs)
        news, refused = from_engine(request.new_inputs)
        if refused:
            return sdk.CheckResponse(inputs=request.new_inputs, failures=_as_given(refused))
        if "default_client_id" not in news:
            identity = identity_from_urn(request.urn)
            if identity is not None:
                news["default_client_id"] = identity
        checked = await self._run(lambda: self.core.check(olds, news))
        secrets = secret_keys(request.new_inputs)
        return sdk.CheckResponse(
            inputs=to_engine(checked.inputs, secrets, drop_none=True), failures=_failures(checked.failures)
        )

    async def create(self, request: sdk.CreateRequest) -> sdk.CreateResponse:
        props, _ = from_engine(request.properties)
        id_, outs = await self._run(lambda: self.core.create(props))
        return sdk.CreateResponse(id_, to_engine(outs, secret_keys(request.properties)))

    async def read(self, request: sdk.ReadRequest) -> sdk.ReadResponse:
        state, _ = from_engine(request.properties)
        if not state and not request.inputs:
            # `pulumi import`: the id alone, an organization this program did not create.
            identity = identity_from_urn(request.urn)
            read = await self._run(lambda: self.core.import_(request.resource_id, identity))
        else:
            read = await self._run(lambda: self.core.read(request.resource_id, state))
        if read.id is None:
            return sdk.ReadResponse(resource_id=None)
        secrets = secret_keys(request.properties, request.inputs)
        return sdk.ReadResponse(
            resource_id=read.id,
            properties=to_engine(read.outputs, secrets),
            inputs=to_engine(read.inputs, secrets, drop_none=True),
        )

    async def diff(self, request: sdk.DiffRequest) -> sdk.DiffResponse:
        olds, _ = from_engine(request.old_state)
        news, _ = from_engine(request.new_inputs)
        diffed = await self._run(lambda: self.core.diff(request.resource_id, olds, news))
        replaces = set(diffed.replaces)
        detailed = {
            camel(key): sdk.PropertyDiff(
                sdk.PropertyDiffKind.UPDATE_REPLACE if key in replaces else sdk.PropertyDiffKind.UPDATE,
                input_diff=True,
            )
            for key in diffed.keys
        }
        return sdk.DiffResponse(
            changes=diffed.changes,
            replaces=[camel(key) for key in diffed.replaces],
            diffs=[camel(key) for key in diffed.keys],
            detailed_diff=detailed,
            delete_before_replace=False,
        )

    async def update(self, request: sdk.UpdateRequest) -> sdk.UpdateResponse:
        olds, _ = from_engine(request.olds)
        news, _ = from_engine(request.news)
        outs = await self._run(lambda: self.core.update(request.resource_id, olds, news))
        return sdk.UpdateResponse(to_engine(outs, secret_keys(request.news)))

    async def delete(self, request: sdk.DeleteRequest) -> None:
        props, _ = from_engine(request.properties)
        await self._run(lambda: self.core.delete(request.resource_id, props))

    # -- the read-only functions ------------------------------------------------------------------

    async def invoke(self, request: sdk.InvokeRequest) -> sdk.InvokeResponse:
        name = FUNCTIONS.get(request.tok)
        if name is None:
            raise _Refused(f"unknown function {request.tok!r}: this provider has {', '.join(FUNCTIONS)}")
        args, refused = from_engine(request.args)
        if refused:
            return sdk.InvokeResponse(failures=_as_given(refused))
        try:
            call, subject = self._function(name, args)
        except ValueError as exc:
            field = "period_from" if name == "get_fleet_usage" else "period"
            return sdk.InvokeResponse(failures=_failures([(field, str(exc))]))

        def run() -> dict[str, Any]:
            try:
                return call(self.client())
            except ExoDistributorError as exc:
                raise _Refused(
                    f"cannot {subject}: {detail(exc)}\n  hint: {hint(exc, credentials_help=config_help())}"
                ) from None

        result = await self._run(run)
        return sdk.InvokeResponse(return_value=to_engine(result, deep=True))

    def _function(self, name: str, args: Mapping[str, Any]) -> tuple[Callable[[Any], dict[str, Any]], str]:
        if name == "get_organization":
            org_id = str(args.get("id") or "")
            return (
                lambda c: dict(organization_info(c.get_organization(org_id))),
                f"get organization {org_id}",
            )
        if name == "list_organizations":
            return (
                lambda c: {"organizations": [organization_info(o) for o in c.list_organizations()]},
                "list organizations",
            )
        if name == "get_organization_usage":
            org_id = str(args.get("organization_id") or "")
            month = args.get("period")
            period = None if month is None else check_period(str(month))
            return (
                lambda c: {
                    "statements": [usage_statement_info(s) for s in c.list_organization_usage(org_id, period)]
                },
                f"read the usage of organization {org_id}",
            )
        from .._billing import months
        from .._functions import _fleet_usage

        first, last = str(args.get("period_from") or ""), args.get("period_to")
        periods = months(first, str(last) if last else first)
        wanted = args.get("organization_ids")
        ids = None if wanted is None else [str(i).lower() for i in wanted]
        return (lambda c: dict(_fleet_usage(c, periods, ids)), f"read the fleet's usage for {first}")


class _Servicer(ProviderServicer):
    """The SDK's servicer, with an expected failure answered as its message alone."""

    async def _answer(self, method: Callable[[Any, Any], Awaitable[Any]], request: Any, context: Any) -> Any:
        said: list[str] = []
        token = _said.set(said)
        try:
            return await method(request, context)
        except Exception:
            if said:
                await context.abort(grpc.StatusCode.UNKNOWN, said[-1])
            raise
        finally:
            _said.reset(token)

    async def Check(self, request: Any, context: Any) -> Any:
        return await self._answer(super().Check, request, context)

    async def Diff(self, request: Any, context: Any) -> Any:
        return await self._answer(super().Diff, request, context)

    async def Create(self, request: Any, context: Any) -> Any:
        return await self._answer(super().Create, request, context)

    async def Read(self, request: Any, context: Any) -> Any:
        return await self._answer(super().Read, request, context)

    async def Update(self, request: Any, context: Any) -> Any:
        return await self._answer(super().Update, request, context)

    async def Delete(self, request: Any, context: Any) -> Any:
        return await self._answer(super().Delete, request, context)

    async def Invoke(self, request: Any, context: Any) -> Any:
        return await self._answer(super().Invoke, request, context)


def main(argv: list[str] | None = None) -> None:
    """``pulumi-resource-exo-distributor ENGINE_ADDRESS``: what the engine starts. Prints the port
    it serves on, as the protocol asks, then serves until the engine ends it."""
    args = sys.argv[1:] if argv is None else argv
    engine = engine_address(args)
    if not engine:
        print(
            f"{sys.argv[0]}: the Pulumi engine starts this plugin (package {PACKAGE}, version "
            f"{plugin_version()}); it is not a command",
            file=sys.stderr,
        )
        raise SystemExit(2)
    logging.basicConfig(
        level=os.environ.get("EXO_DISTRIBUTOR_LOG_LEVEL", "WARNING").upper(), stream=sys.stderr
    )

    async def serve() -> None:
        from pulumi.runtime.proto import provider_pb2_grpc

        # A fleet's usage can be large: the SDK's own servers allow 400 MiB messages too.
        limit = 400 * 1024 * 1024
        server = grpc.aio.server(
            options=[("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", limit)]
        )
        servicer = _Servicer(args, plugin_version(), DistributorProvider(engine), engine_address=engine)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await server.wait_for_termination()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
