"""A fleet in several stacks of one project, each a shard of the customers file, none ever moving.

One stack's `pulumi up` rewrites the whole state after every step, so its time grows with the
square of the fleet: thousands of customers are split over shard stacks ``shard-0`` ...
``shard-{K-1}`` of one project on a shared backend, each declaring its part of one customers file.

Where a customer lives is recorded in one place only, the backend: **a customer lives in the
shard whose state holds it**, as long as its organization exists. A customer that no shard holds
is placed once, on the shard its entry names (``shard: shard-2``), else on
``sha256(key) mod K``; the next `pulumi up` of that shard creates it, and from then on that
shard's state holds it. Nothing is written back and nothing can drift: growing K places new
customers over more shards and moves no one.

Every shard's program reads the state of every shard (the engine's own
``pulumi:pulumi:readStackResourceOutputs``, in a preview as in an update) and refuses, before any
change and naming each customer, whatever would move a customer or declare it twice:

- an entry's ``shard`` naming another shard than the one that holds it: moving it would
  terminate and purge its organization in one stack and create a new one in the other;
- a customer held by two shards;
- a ``shard`` that is not one of the K shards;
- a shard count lower than one a shard was deployed with: the customers of the shards left out
  would be created again elsewhere (each shard records its count as the output ``shard_count``).

The placement of new customers is a pure function of the file and K, so shards run in parallel
agree on it without talking to each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from ._data import DYNAMIC_RESOURCE_TYPE
from ._fleet import Customer, ProblemsError

__all__ = [
    "SHARD_COUNT_OUTPUT",
    "ShardError",
    "ShardState",
    "home_shard",
    "place_customers",
    "shard_customers",
    "shard_stacks",
]

#: The stack output in which each shard records the shard count it was deployed with.
SHARD_COUNT_OUTPUT = "shard_count"
#: The engine's built-in function returning every resource of a stack with its outputs.
_READ_STACK = "pulumi:pulumi:readStackResourceOutputs"
_STACK_TYPE = "pulumi:pulumi:Stack"


class ShardError(ProblemsError):
    """The shards cannot be deployed as declared: every problem, each naming its customer."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("shards", problems)


@dataclass(frozen=True)
class ShardState:
    """What one shard's state says: the customers it holds and the count it was deployed with."""

    #: The resource names (customer keys) of the organizations in the state.
    customers: frozenset[str] = field(default_factory=frozenset)
    #: ``shard_count`` as last deployed; None before the shard's first update.
    count: int | None = None


def shard_stacks(count: int) -> list[str]:
    """The names of the shard stacks of a fleet of ``count`` shards."""
    if count < 1:
        raise ValueError(f"a fleet has at least one shard, not {count}")
    return [f"shard-{index}" for index in range(count)]


def home_shard(key: str, count: int) -> str:
    """The shard of a new customer whose entry names none: a hash of its key, the same in every
    process and Python version (unlike ``hash``)."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return f"shard-{int.from_bytes(digest[:8], 'big') % count}"


def place_customers(
    customers: Sequence[Customer], count: int, states: Mapping[str, ShardState]
) -> dict[str, list[Customer]]:
    """Each shard's customers, in the file's order: where the states hold them, else placed anew.

    :param states: the state of every shard of the fleet (``shard_stacks(count)``).
    :raises ShardError: listing every customer that would move or be declared twice.
    """
    shards = shard_stacks(count)
    problems: list[str] = []
    for stack in shards:
        recorded = states[stack].count
        if recorded is not None and recorded > count:
            left_out = shard_stacks(recorded)[count:]
            problems.append(
                f"{stack} was deployed with {recorded} shards, and the project now declares {count}: "
                f"the count can only grow (the customers of {' and '.join(left_out)} would be created "
                f"again in other shards); declare shards: {recorded} again"
            )
    holders: dict[str, list[str]] = {}
    for stack in shards:
        for name in states[stack].customers:
            holders.setdefault(name, []).append(stack)
    where_in_file = {customer.name: customer.source for customer in customers}
    for name, stacks in sorted(holders.items()):
        if len(stacks) > 1:
            where = f"{where_in_file[name]}: " if where_in_file.get(name) else ""
            problems.append(
                f"{where}customer {name!r} is held by {' and '.join(stacks)}: two organizations, or one "
                "managed twice; keep the right one and remove the other from its stack's state "
                "(`pulumi state delete URN --stack SHARD`) before anything else"
            )

    placement: dict[str, list[Customer]] = {stack: [] for stack in shards}
    for customer in customers:
        where = f"{customer.source}: " if customer.source else ""
        asked = customer.shard
        if asked is not None and asked not in placement:
            problems.append(
                f"{where}customer {customer.name!r}: shard is {asked!r}, not a shard of this fleet "
                f"(shard-0 to shard-{count - 1})"
            )
            continue
        held = holders.get(customer.name, [])
        if len(held) > 1:
            continue  # reported above
        if held and asked is not None and asked != held[0]:
            problems.append(
                f"{where}customer {customer.name!r} lives in {held[0]}, and its entry asks for {asked}: "
                f"moving it would terminate and purge its organization in {held[0]} and create a new "
                f"one in {asked}; refused. Remove the line `shard: {asked}` (or write `shard: {held[0]}`)"
            )
            continue
        home = held[0] if held else asked or home_shard(customer.name, count)
        placement[home].append(customer)
    if problems:
        raise ShardError(problems)
    return placement


def _read_state(stack: str) -> ShardState:
    """One shard's state, through the engine (the backend the stack runs on, with its locks)."""
    from pulumi.runtime import invoke

    qualified = f"{pulumi.get_organization()}/{pulumi.get_project()}/{stack}"
    try:
        result = invoke(_READ_STACK, {"stackName": qualified})
    except Exception as exc:
        # Never read a missing or unreadable stack as empty: its customers would be created again.
        raise ShardError(
            [
                f"cannot read the state of {stack} ({qualified}): {exc}; every shard stack must exist "
                "before any is deployed (examples/shards/driver.py init creates them)"
            ]
        ) from None
    resources = (result.value or {}).get("outputs") or {}
    customers: set[str] = set()
    count: int | None = None
    for urn, entry in resources.items():
        kind = entry.get("type")
        if kind == DYNAMIC_RESOURCE_TYPE:
            customers.add(urn.rsplit("::", 1)[1])
        elif kind == _STACK_TYPE:
            recorded = (entry.get("outputs") or {}).get(SHARD_COUNT_OUTPUT)
            count = int(recorded) if isinstance(recorded, (int, float)) else None
    return ShardState(frozenset(customers), count)


def shard_customers(customers: Sequence[Customer], count: int) -> list[Customer]:
    """The customers this stack declares, in a fleet of ``count`` shard stacks of one project.

    Reads every shard's state, places the customers (see the module's documentation), exports
    ``shard_count`` and returns this stack's part. Call it once, from the program of each shard.

    :raises ShardError: this stack is not a shard, a shard's state cannot be read, or a customer
        would move or be declared twice; nothing is deployed then.
    """
    stack = pulumi.get_stack()
    shards = shard_stacks(count)
    if stack not in shards:
        raise ShardError(
            [f"stack {stack!r} is not a shard of this fleet: the shards are shard-0 to shard-{count - 1}"]
        )
    states = {name: _read_state(name) for name in shards}
    placement = place_customers(customers, count, states)
    pulumi.export(SHARD_COUNT_OUTPUT, count)
    return placement[stack]
