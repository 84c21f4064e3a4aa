"""The ASGI application: routing, the request pipeline, the eight operations and ``/_sim``.

Pipeline of a request under ``/v1.alpha``, in this order:

1. ``--latency-ms``;
2. routing; a request routed to an operation is counted in the statistics and may draw a
   fault; 429, 500, 503 and ``reset-before`` happen here, before anything is done;
3. the body is read (413 beyond the limit);
4. the signature is checked (403) -- for every path under ``/v1.alpha``, known or not;
5. ``--rate-limit``: a signed request beyond its key's rate gets 429 (unsigned ones take nothing
   from the key's budget);
6. unknown path (404) or method (405);
7. the operation itself (400, 403, 404, 409 or success);
8. ``reset-after`` drops the connection instead of answering; ``slow`` delays the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ._auth import AuthenticationFailed, verify_request
from ._clock import Clock
from ._faults import FaultInjector, abort_connection, transport_of
from ._normalize import extend_output, normalize_address
from ._ratelimit import RateLimiter
from ._schema import ORGANIZATION_INPUT_SCHEMA, validate
from ._settings import SimulatorConfig
from ._store import Conflict, Foreign, NotFound, Store, StoredOrganization
from ._usage import PeriodError, parse_period, usage_statements

__all__ = ["API_PREFIX", "OPERATION_IDS", "Simulator", "create_app", "simulator_of"]

logger = logging.getLogger("pulumi_exo_distributor.simulator")

API_PREFIX = "/v1.alpha"

CREATE = "create-distributor-organization"
LIST = "list-distributor-organizations"
GET = "get-distributor-organization"
ACTIVATE = "activate-distributor-organization"
SUSPEND = "suspend-distributor-organization"
TERMINATE = "terminate-distributor-organization"
SCHEDULE_PURGE = "schedule-purge-distributor-organization"
USAGE = "list-distributor-organization-usage"

OPERATION_IDS = (CREATE, LIST, GET, ACTIVATE, SUSPEND, TERMINATE, SCHEDULE_PURGE, USAGE)

# The id segment stops at ":" so that "GET {id}:activate" is a wrong method (405) on the
# activate path rather than a get of an organization called "{id}:activate".
_ID = r"(?P<id>[^/:]+)"
_BASE = re.escape(API_PREFIX) + "/distributor/organization"
_ROUTES: tuple[tuple[re.Pattern[str], Mapping[str, str]], ...] = (
    (re.compile(_BASE), {"GET": LIST, "POST": CREATE}),
    (re.compile(rf"{_BASE}/{_ID}"), {"GET": GET}),
    (re.compile(rf"{_BASE}/{_ID}:activate"), {"PUT": ACTIVATE}),
    (re.compile(rf"{_BASE}/{_ID}:suspend"), {"PUT": SUSPEND}),
    (re.compile(rf"{_BASE}/{_ID}:terminate"), {"DELETE": TERMINATE}),
    (re.compile(rf"{_BASE}/{_ID}:schedule-purge"), {"PUT": SCHEDULE_PURGE}),
    (re.compile(rf"{_BASE}/{_ID}/usage"), {"GET": USAGE}),
)

# Canonical 8-4-4-4-12 form only; uuid.UUID would also take braces, "urn:uuid:" and bare hex.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

_TRANSPORT_KEY = "pulumi_exo_distributor.transport"


class _ApiError(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def json_response(status: int, payload: object, headers: Mapping[str, str] | None = None) -> Response:
    """Every answer, errors included, is JSON: the official client calls ``.json()`` on success."""
    try:
        text = json.dumps(payload, ensure_ascii=False, allow_nan=False)
        content = text.encode("utf-8")
    except UnicodeEncodeError:
        # A message echoing client input could hold a lone surrogate; escaped, it is still JSON.
        content = json.dumps(payload, ensure_ascii=True, allow_nan=False).encode("ascii")
    return Response(content, status_code=status, headers=dict(headers or {}), media_type="application/json")


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return json_response(status, {"message": message}, headers)


class _Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(OPERATION_IDS, 0)

    def count(self, operation_id: str) -> None:
        with self._lock:
            self._counts[operation_id] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts = dict.fromkeys(OPERATION_IDS, 0)


@dataclass
class Simulator:
    """The state behind one app: its configuration, clock, store, statistics and fault generator."""

    config: SimulatorConfig
    clock: Clock
    store: Store
    stats: _Stats
    faults: FaultInjector
    #: ``None`` when there is no rate limit.
    limiter: RateLimiter | None

    @property
    def secrets(self) -> dict[str, str]:
        return {credential.key: credential.secret for credential in self.config.effective_credentials}


def simulator_of(app: Starlette) -> Simulator:
    """The :class:`Simulator` behind an app made by :func:`create_app`."""
    simulator = app.state.simulator
    assert isinstance(simulator, Simulator)
    return simulator


@dataclass(frozen=True)
class _Context:
    simulator: Simulator
    owner: str
    org_id: str | None
    body: bytes
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]


_Handler = Callable[[_Context], Awaitable[Response]]


class _PartnerApi:
    """The ASGI app mounted at ``/v1.alpha``."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.handlers: Mapping[str, _Handler] = {
            CREATE: _create,
            LIST: _list,
            GET: _get,
            ACTIVATE: _activate,
            SUSPEND: _suspend,
            TERMINATE: _terminate,
            SCHEDULE_PURGE: _schedule_purge,
            USAGE: _usage,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._serve(scope, receive, send)
        except Exception:
            # A bug, never bad input: still answer JSON so the client sees a clear message.
            logger.exception("unexpected error in the simulator")
            # If the answer had already started, this fails too; there is nothing left to do.
            with contextlib.suppress(Exception):
                await _error(500, "internal error in the simulator (a bug: see its log)")(
                    scope, receive, send
                )

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        config = self.simulator.config
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)
        method: str = scope["method"]
        path: str = scope["path"]
        operation_id, org_id, allowed = _route(method, path)

        fault = None
        if operation_id is not None:
            self.simulator.stats.count(operation_id)
            fault = self.simulator.faults.draw()
        if fault in ("429", "500", "503"):
            await _fault_response(fault, config)(scope, receive, send)
            return
        if fault == "reset-before":
            await _drop(scope, receive, send)
            return

        response = await self._answer(scope, receive, operation_id, org_id, allowed)
        if response is None:  # the client went away while sending its body
            return
        if fault == "reset-after":
            # Whatever the request changed is committed; the client never learns it.
            await _drop(scope, receive, send)
            return
        if fault == "slow":
            try:
                await asyncio.sleep(config.slow_s)
            except asyncio.CancelledError:
                # The server is shutting down and gave up waiting for us: hang up, rather than
                # let it log a traceback and write a plain-text 500 on our behalf.
                await _drop(scope, receive, send)
                return
        await response(scope, receive, send)

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        operation_id: str | None,
        org_id: str | None,
        allowed: tuple[str, ...],
    ) -> Response | None:
        request = Request(scope, receive)
        config = self.simulator.config
        try:
            body = await _read_body(request, config.max_body_bytes)
        except _ApiError as exc:
            # The rest of the body is not read: do not let the connection be reused.
            return _error(exc.status, exc.message, {"Connection": "close"})
        if body is None:
            return None
        raw_path = scope.get("raw_path") or scope["path"].encode()
        try:
            owner = verify_request(
                method=scope["method"],
                raw_path=raw_path.decode("utf-8", "replace"),
                query_string=scope.get("query_string", b"").decode("latin-1"),
                body=body,
                authorization=request.headers.get("authorization"),
                credentials=self.simulator.secrets,
                # The real time, not the simulator's clock: the client signed with its own.
                now=time.time(),
                max_expiry_s=config.max_expiry_s,
            )
        except AuthenticationFailed as exc:
            return _error(403, str(exc))
        limiter = self.simulator.limiter
        if limiter is not None:
            wait = limiter.take(owner)
            if wait > 0:
                return _too_many_requests(
                    config,
                    f"rate limit exceeded: at most {limiter.rate:g} requests per second per API key",
                    # Whole seconds, rounded up: a client that waits that long gets through.
                    retry_after=max(1, math.ceil(wait)),
                )
        if operation_id is None:
            if allowed:
                return _error(
                    405,
                    f"method {scope['method']} is not allowed on {scope['path']}; use {', '.join(allowed)}",
                    {"Allow": ", ".join(allowed)},
                )
            return _error(404, f"no operation at {scope['path']}")
        context = _Context(
            simulator=self.simulator,
            owner=owner,
            org_id=org_id,
            body=body,
            query=parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True),
            headers=request.headers,
        )
        try:
            return await self.handlers[operation_id](context)
        except _ApiError as exc:
            return _error(exc.status, exc.message, exc.headers)


def _route(method: str, path: str) -> tuple[str | None, str | None, tuple[str, ...]]:
    """``(operationId, id, ())`` for a match, ``(None, None, allowed methods)`` otherwise."""
    for pattern, methods in _ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        org_id = match.groupdict().get("id")
        if method in methods:
            return methods[method], org_id, ()
        return None, None, tuple(sorted(methods))
    return None, None, ()


async def _read_body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _ApiError(413, f"request body too large: {declared} bytes, at most {limit} are accepted")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _ApiError(413, f"request body too large: more than {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        return None
    return b"".join(chunks)


async def _drop(scope: Scope, receive: Receive, send: Send) -> None:
    transport = scope.get(_TRANSPORT_KEY)
    if transport is None:
        # Not under uvicorn: there is no way to hang up, so say so instead of pretending.
        await _error(500, "simulated connection reset (this server cannot drop connections)")(
            scope, receive, send
        )
        return
    abort_connection(transport)
    # Let the event loop deliver connection_lost() to uvicorn, so it knows the client is gone
    # and does not try to write a 500 for the response we never started.
    await asyncio.sleep(0)


def _too_many_requests(config: SimulatorConfig, message: str, retry_after: int) -> Response:
    headers = {"Retry-After": str(retry_after)} if config.retry_after_header else {}
    return _error(429, message, headers)


def _fault_response(kind: str, config: SimulatorConfig) -> Response:
    if kind == "429":
        return _too_many_requests(config, "simulated fault: too many requests", retry_after=1)
    if kind == "500":
        return _error(500, "simulated fault: internal server error")
    return _error(503, "simulated fault: service unavailable")


# ---------------------------------------------------------------------------------------------
# The operations


def _run(function: Callable[..., Any], *args: Any) -> Awaitable[Any]:
    # SQLite calls block; keep the event loop free for other requests meanwhile.
    return anyio.to_thread.run_sync(function, *args)


def _organization_id(context: _Context) -> str:
    org_id = context.org_id or ""
    if not _UUID.fullmatch(org_id):
        # Not a UUID, so certainly not an organization of this distributor: 404, like any other.
        raise _ApiError(404, f"organization {org_id[:80]!r} not found")
    return org_id.lower()


def _output(context: _Context, org: StoredOrganization) -> dict[str, Any]:
    """The organization as this simulator answers it (see ``--normalize``)."""
    output = org.to_output()
    if context.simulator.config.normalize:
        extend_output(output, created_at=org.created_at, updated_at=org.updated_at)
    return output


def _not_found(context: _Context, org_id: str, exc: NotFound) -> _ApiError:
    """404, or ``foreign_status`` for an organization of another distributor."""
    if isinstance(exc, Foreign) and context.simulator.config.foreign_status == 403:
        return _ApiError(403, f"organization {org_id} is not accessible with this API key")
    return _ApiError(404, f"organization {org_id} not found")


async def _create(context: _Context) -> Response:
    content_type = context.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise _ApiError(400, f"Content-Type must be application/json, not {content_type[:80]!r}")
    try:
        document = json.loads(context.body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad UTF-8 and bad JSON; RecursionError very deep nesting.
        raise _ApiError(400, f"body: malformed JSON ({type(exc).__name__})") from exc
    config = context.simulator.config
    errors = validate(document, ORGANIZATION_INPUT_SCHEMA, reject_unknown=config.unknown_fields == "reject")
    if errors:
        raise _ApiError(400, "; ".join(errors))
    if config.normalize:
        address, errors = normalize_address(document["billing-address"])
        if errors:
            raise _ApiError(400, "; ".join(errors))
        document = {**document, "billing-address": address}
    try:
        org: StoredOrganization = await _run(
            lambda: context.simulator.store.create(
                context.owner,
                document,
                status=config.initial_status,
                unique_client_id=config.unique_client_id,
            )
        )
    except Conflict as exc:
        raise _ApiError(409, str(exc)) from exc
    return json_response(200, _output(context, org))


async def _list(context: _Context) -> Response:
    orgs: list[StoredOrganization] = await _run(context.simulator.store.list, context.owner)
    return json_response(200, {"organizations": [_output(context, org) for org in orgs]})


async def _get(context: _Context) -> Response:
    org_id = _organization_id(context)
    try:
        org: StoredOrganization = await _run(context.simulator.store.get, context.owner, org_id)
    except NotFound as exc:
        raise _not_found(context, org_id, exc) from exc
    return json_response(200, _output(context, org))


async def _transition(context: _Context, action: str) -> tuple[StoredOrganization, bool]:
    """Apply ``action``; the organization after it, and whether its status changed."""
    org_id = _organization_id(context)
    try:
        org, changed = await _run(context.simulator.store.apply, context.owner, org_id, action)
    except NotFound as exc:
        raise _not_found(context, org_id, exc) from exc
    except Conflict as exc:
        raise _ApiError(409, f"organization {org_id}: {exc}") from exc
    assert isinstance(org, StoredOrganization)
    return org, changed


async def _activate(context: _Context) -> Response:
    org, _ = await _transition(context, "activate")
    return json_response(200, _output(context, org))


async def _suspend(context: _Context) -> Response:
    org, _ = await _transition(context, "suspend")
    return json_response(200, _output(context, org))


async def _terminate(context: _Context) -> Response:
    org, changed = await _transition(context, "terminate")
    # The store changes nothing on a terminated organization; only the answer differs.
    again = context.simulator.config.terminate_again
    if not changed and again == 404:
        raise _ApiError(404, f"organization {org.id} not found")
    if not changed and again == 409:
        raise _ApiError(409, f"organization {org.id}: it is already terminated")
    return json_response(200, {"message": f"organization {org.id} terminated"})


async def _schedule_purge(context: _Context) -> Response:
    org_id = _organization_id(context)
    delay = context.simulator.config.purge_delay_s
    try:
        deadline: float | None = await _run(
            context.simulator.store.schedule_purge, context.owner, org_id, delay
        )
    except NotFound as exc:
        raise _not_found(context, org_id, exc) from exc
    except Conflict as exc:
        raise _ApiError(409, str(exc)) from exc
    if deadline is None:
        return json_response(200, {"message": f"organization {org_id} purged"})
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(deadline))
    return json_response(202, {"message": f"organization {org_id} scheduled to be purged at {stamp}"})


async def _usage(context: _Context) -> Response:
    org_id = _organization_id(context)
    values = context.query.get("period")
    now = context.simulator.clock()
    if values is None:
        today = time.gmtime(now)
        period = (today.tm_year, today.tm_mon)
    elif len(values) != 1:
        raise _ApiError(400, "period: must be given at most once")
    else:
        try:
            period = parse_period(values[0])
        except PeriodError as exc:
            raise _ApiError(400, str(exc)) from exc
    try:
        org: StoredOrganization = await _run(context.simulator.store.get, context.owner, org_id)
    except NotFound as exc:
        raise _not_found(context, org_id, exc) from exc
    return json_response(200, usage_statements(org.id, org.created_at, period, now))


# ---------------------------------------------------------------------------------------------
# /_sim and the application


async def _stats(request: Request) -> Response:
    return json_response(200, {"operations": simulator_of(request.app).stats.snapshot()})


async def _reset_stats(request: Request) -> Response:
    simulator_of(request.app).stats.reset()
    return json_response(200, {"message": "statistics reset"})


async def _http_exception(request: Request, exc: Exception) -> Response:
    # Starlette's own 404/405 (outside /v1.alpha) would be plain text; keep every body JSON.
    assert isinstance(exc, HTTPException)
    return _error(exc.status_code, f"{exc.detail}: {request.method} {request.url.path}", exc.headers)


class _SimulatorStarlette(Starlette):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # Only here, before Starlette wraps it, is ``send`` still the server's own.
            scope[_TRANSPORT_KEY] = transport_of(send)
        await super().__call__(scope, receive, send)


def create_app(config: SimulatorConfig | None = None, *, clock: Clock = time.time) -> Starlette:
    """A fresh simulator as an ASGI app, with its own store, statistics and fault generator.

    The store (SQLite, in memory unless ``config.db_path``) is opened now and closed when the
    app's lifespan ends. ``simulator_of(app)`` gives access to the state behind it. ``clock``
    (epoch seconds) is the simulated world's time: creation dates, purge deadlines, the current
    month of usage; a :class:`ManualClock` makes them deterministic in tests.
    """
    config = config or SimulatorConfig()
    simulator = Simulator(
        config=config,
        clock=clock,
        store=Store(config.db_path, clock=clock),
        stats=_Stats(),
        faults=FaultInjector(config.fault_rate, config.fault_kinds, config.seed),
        limiter=RateLimiter(config.rate_limit, clock) if config.rate_limit > 0 else None,
    )
    api = _PartnerApi(simulator)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            simulator.store.close()

    app = _SimulatorStarlette(
        routes=[
            Route("/_sim/stats", _stats, methods=["GET"]),
            Route("/_sim/reset-stats", _reset_stats, methods=["POST"]),
            Route(API_PREFIX, api),
            Route(API_PREFIX + "/{rest:path}", api),
        ],
        exception_handlers={HTTPException: _http_exception},
        lifespan=lifespan,
    )
    # "/_sim/stats/" would otherwise be redirected; an API answers 404, not 307.
    app.router.redirect_slashes = False
    app.state.simulator = simulator
    return app
