"""Placement over shard stacks: stable, and every would-be move refused with its customer."""

from __future__ import annotations

from collections import Counter

import pulumi
import pytest

from pulumi_exo_distributor import Customer, ExoDistributorError, ShardError, shard_stacks
from pulumi_exo_distributor._shards import ShardState, home_shard, place_customers


def customer(name: str, shard: str | None = None, line: int = 1) -> Customer:
    return Customer(name, {}, shard=shard, source=f"customers.yaml:{line}")


def states(count: int, **held: set[str]) -> dict[str, ShardState]:
    """The states of shard-0 ... shard-{count-1}; keyword shard_N: the customers it holds."""
    found = {name: ShardState() for name in shard_stacks(count)}
    for key, customers in held.items():
        found[key.replace("_", "-")] = ShardState(frozenset(customers))
    return found


def names(placement: dict[str, list[Customer]]) -> dict[str, list[str]]:
    return {shard: [c.name for c in customers] for shard, customers in placement.items()}


def test_shard_stacks_are_numbered_from_zero() -> None:
    assert shard_stacks(3) == ["shard-0", "shard-1", "shard-2"]
    with pytest.raises(ValueError, match="at least one shard"):
        shard_stacks(0)


def test_the_home_of_a_new_customer_is_a_fixed_hash_of_its_key() -> None:
    # sha256, not Python's salted hash(): the same in every process, machine and version.
    assert [home_shard(key, 4) for key in ("acme", "globex", "nordlys", "wonka")] == [
        "shard-0",
        "shard-3",
        "shard-0",
        "shard-2",
    ]
    spread = Counter(home_shard(f"customer-{i:04d}", 4) for i in range(2000))
    assert set(spread) == {"shard-0", "shard-1", "shard-2", "shard-3"}
    assert all(400 <= n <= 600 for n in spread.values()), spread


def test_new_customers_go_home_or_where_their_entry_says_in_file_order() -> None:
    customers = [customer("wonka"), customer("acme", "shard-1"), customer("nordlys"), customer("globex")]
    placement = place_customers(customers, 4, states(4))
    assert names(placement) == {
        "shard-0": ["nordlys"],
        "shard-1": ["acme"],
        "shard-2": ["wonka"],
        "shard-3": ["globex"],
    }


def test_a_customer_stays_where_its_state_is_when_the_count_grows() -> None:
    # Deployed over 2 shards; now 4: the hash would send globex and wonka elsewhere, the state keeps them.
    before = states(4)
    before["shard-0"] = ShardState(frozenset({"wonka"}), 2)
    before["shard-1"] = ShardState(frozenset({"globex"}), 2)
    placement = place_customers([customer("globex"), customer("wonka"), customer("nordlys")], 4, before)
    assert names(placement) == {
        "shard-0": ["wonka", "nordlys"],
        "shard-1": ["globex"],
        "shard-2": [],
        "shard-3": [],
    }


def test_an_entry_asking_another_shard_for_a_customer_is_refused_naming_it() -> None:
    held = states(2, shard_0={"nordlys"})
    with pytest.raises(ShardError) as exc:
        place_customers([customer("acme", line=3), customer("nordlys", "shard-1", line=17)], 2, held)
    assert exc.value.problems == [
        "customers.yaml:17: customer 'nordlys' lives in shard-0, and its entry asks for shard-1: moving it "
        "would terminate and purge its organization in shard-0 and create a new one in shard-1; refused. "
        "Remove the line `shard: shard-1` (or write `shard: shard-0`)"
    ]
    assert str(exc.value).startswith("shards: 1 problem, nothing deployed:\n  customers.yaml:17: ")
    # Asking for the shard it is in is no move.
    assert names(place_customers([customer("nordlys", "shard-0")], 2, held))["shard-0"] == ["nordlys"]


def test_every_problem_at_once() -> None:
    held = states(3, shard_0={"acme", "gone"}, shard_2={"acme"})
    held["shard-1"] = ShardState(frozenset(), 4)
    with pytest.raises(ShardError) as exc:
        place_customers([customer("acme", line=2), customer("hooli", "shard-7", line=9)], 3, held)
    assert exc.value.problems == [
        "shard-1 was deployed with 4 shards, and the project now declares 3: the count can only grow (the "
        "customers of shard-3 would be created again in other shards); declare shards: 4 again",
        "customers.yaml:2: customer 'acme' is held by shard-0 and shard-2: two organizations, or one managed "
        "twice; keep the right one and remove the other from its stack's state (`pulumi state delete URN "
        "--stack SHARD`) before anything else",
        "customers.yaml:9: customer 'hooli': shard is 'shard-7', not a shard of this fleet "
        "(shard-0 to shard-2)",
    ]


def test_the_error_is_the_packages_and_a_run_error() -> None:
    error = ShardError(["x"])
    assert isinstance(error, ExoDistributorError) and isinstance(error, pulumi.RunError)
    assert str(error) == "shards: 1 problem, nothing deployed:\n  x"
