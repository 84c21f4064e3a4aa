"""A faithful local simulator of the Exoscale Partner API, distributor organizations.

Run it with ``python -m pulumi_exo_distributor.simulator`` (or ``exo-distributor-simulator``);
it prints ``ready http://127.0.0.1:PORT/v1.alpha`` on stdout once it accepts connections.
From Python::

    from pulumi_exo_distributor.simulator import SimulatorConfig, run_simulator

    with run_simulator(SimulatorConfig(initial_status="active")) as sim:
        ...  # sim.url, sim.credential.key, sim.credential.secret, sim.stats()

:func:`simulator_process` does the same in a child process, :func:`create_app` gives the bare
Starlette app.

Time: the simulated world reads a clock (epoch seconds, :func:`time.time` by default) for
creation dates, purge deadlines and the current month of usage. ``run_simulator`` and
``create_app`` take ``clock=``; a :class:`ManualClock` moves only when told to
(``clock.advance(60)``), so a test decides when a deadline passes instead of sleeping past it.
Signatures are checked against the real time, as clients sign with theirs.

What it implements, from the API document in ``exoscale==0.16.4``: the eight operations under
``/v1.alpha``, their request and response shapes, request signatures (EXO2-HMAC-SHA256; 403
for a missing or malformed header, an unknown key, a wrong signature, an expired signature or
one expiring more than ``max_expiry_s`` (1 h) from now), tenancy (an organization exists only
for the key that created it) and the status lifecycle. Every answer, errors included, is JSON;
errors are ``{"message": "..."}`` naming the faulty field.

Choices where the real API is unknown (the switchable ones have a flag):

- New organizations are ``created`` (``--initial-status active`` to change).
- ``created`` can be activated and suspended. activate (from created, suspended) and suspend
  (from created, active) succeed unchanged on their target state, 409 on ``terminated``.
  terminate succeeds from any status. On an organization already ``terminated`` it changes
  nothing and answers 200 as the first time (``--terminate-again 404``: 404 as if the
  organization were gone, though get still shows it terminated; ``--terminate-again 409``:
  a conflict).
- schedule-purge needs a ``terminated`` organization (409 otherwise). With
  ``--purge-delay-s 0`` (default) it answers 200 and the organization is gone; with a delay it
  answers 202 and the organization disappears once the delay has passed (the deadline is
  stored, so it survives a restart; a repeated schedule-purge keeps the first deadline). Until
  then it is listed and readable as ``terminated``. Purged means 404 everywhere and absent
  from the list.
- ``client-id`` is not unique (``--unique-client-id``: 409 on a client-id already used by
  another non-purged organization of the same distributor).
- The billing address is stored and echoed exactly as sent, and an organization has only the
  fields the document lists. ``--normalize`` plays a server that does otherwise: the body is
  validated as sent, then every string of the billing address is trimmed and its inner runs
  of white space collapsed to one space, ``country`` and ``postal-code`` are upper-cased
  (character for character: ``ß`` stays), a missing ``address`` is filled in as
  ``"<street-name> <building-number>, <postal-code> <city>, <country>"``, and that is what is
  stored and returned. Every organization returned then also carries ``created-at`` and
  ``updated-at`` (RFC 3339; the latter moves with each status change) and its billing address
  a ``region`` (``europe`` or ``rest-of-world``): fields the document does not list but does
  not forbid (it never sets ``additionalProperties``). ``client-id`` is kept exactly as sent,
  untrimmed: it is the distributor's own key. A field that normalisation would leave shorter
  than the document allows (blank-only, or ``" C"`` as country) is 400, naming it.
- Body fields the schema does not list are rejected with 400 (``--unknown-fields ignore`` to
  accept and drop them). ``null`` is a wrong type like any other. Validation is the schema's,
  nothing more: ``country`` must be 2 characters but is not checked against ISO 3166, and
  ``owner-email`` is not checked to be an address.
- An organization of another distributor (another key) answers 404 to get, activate,
  suspend, terminate, schedule-purge and usage, exactly like one that does not exist
  (``--foreign-status 403``: 403 instead, with a message saying it is not accessible with this
  key; an organization nobody has, or a purged one, is still 404). It is never listed, and
  nothing another distributor tries changes it.
- An id that is not a canonical UUID answers 404 (it cannot name an organization); UUIDs are
  matched case-insensitively and returned lower-case.
- POST bodies must be ``application/json`` (400 otherwise), at most ``max_body_bytes``
  (64 KiB, 413 beyond). Query parameters other than ``period`` are ignored (but signed).
- Usage: without ``period``, the current month (UTC). A month before the organization's
  creation or after the current month gives an empty list; any other month gives one statement,
  the same for the same organization and month every time, in a currency (CHF, EUR or USD)
  fixed per organization, dated ``[first instant of the month, first instant of the next)``.
  Terminated organizations still have their usage.
- No rate limit by default. ``--rate-limit N``: each key may send N requests per second, in
  bursts of up to max(1, N) (a token bucket, full at start, on the simulator's clock); beyond
  that a correctly signed request answers 429 and does nothing. The limit is checked after
  the signature (an unsigned request takes nothing from the key's budget) and before routing
  (an unknown path counts too); refused requests take nothing either. A 429 says
  ``Retry-After``: the whole seconds, rounded up, until a request would pass
  (``--retry-after-header off``: no such header, on this 429 and on the fault's).
- Faults (``--fault-rate``, ``--fault-kinds``, ``--seed``) hit requests routed to one of the
  eight operations, never ``/_sim``. ``slow`` does the work, then answers after ``--slow-s``.
  ``reset-before`` and ``reset-after`` close the connection with a TCP reset and no answer
  (this needs uvicorn; under another server they degrade to a 500).

Outside ``/v1.alpha`` and unauthenticated: ``GET /_sim/stats`` gives
``{"operations": {operationId: requests received}}`` (every request routed to an operation,
failed and faulted ones included) and ``POST /_sim/reset-stats`` zeroes it.
"""

from __future__ import annotations

import textwrap as _textwrap

from ._app import OPERATION_IDS, create_app
from ._clock import ManualClock
from ._options import text_table as _text_table
from ._runner import RunningSimulator, SimulatorProcess, run_simulator, simulator_process
from ._settings import DEMO_CREDENTIAL, FAULT_KINDS, Credential, SimulatorConfig
from ._settings import SERVER_SETTINGS as _SERVER_SETTINGS
from ._settings import config_settings as _config_settings

__all__ = [
    "DEMO_CREDENTIAL",
    "FAULT_KINDS",
    "OPERATION_IDS",
    "Credential",
    "ManualClock",
    "RunningSimulator",
    "SimulatorConfig",
    "SimulatorProcess",
    "create_app",
    "run_simulator",
    "simulator_process",
]

if __doc__ is not None:  # None under python -OO
    # Generated from the declarations, like --help and the README's table.
    __doc__ += (
        "\nThe command line's flags. Where it listens:\n\n"
        + _textwrap.indent(_text_table(_SERVER_SETTINGS), "    ")
        + "\nHow it behaves, each flag a field of SimulatorConfig (named in parentheses):\n\n"
        + _textwrap.indent(_text_table(_config_settings(), names=True), "    ")
    )
