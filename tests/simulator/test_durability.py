"""State on disk survives restarts; concurrent requests are safe."""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from exoscale.api.partner import Client

from pulumi_exo_distributor.simulator import SimulatorConfig, run_simulator, simulator_process

from .conftest import ALICE, BOB, kwargs_of, valid_body


def test_a_restart_on_the_same_database_keeps_everything(tmp_path: Path) -> None:
    config = SimulatorConfig(credentials=(ALICE, BOB), db_path=str(tmp_path / "sim.db"))
    with run_simulator(config) as sim:
        alice = Client(ALICE.key, ALICE.secret, url=sim.url)
        kept = alice.create_distributor_organization(**kwargs_of(valid_body()))
        suspended = alice.suspend_distributor_organization(
            id=alice.create_distributor_organization(**kwargs_of(valid_body()))["id"]
        )
        purged = alice.create_distributor_organization(**kwargs_of(valid_body()))
        alice.terminate_distributor_organization(id=purged["id"])
        alice.schedule_purge_distributor_organization(id=purged["id"])
        before = alice.list_distributor_organizations()
    with run_simulator(config) as sim:
        alice = Client(ALICE.key, ALICE.secret, url=sim.url)
        bob = Client(BOB.key, BOB.secret, url=sim.url)
        assert alice.list_distributor_organizations() == before
        assert alice.get_distributor_organization(id=kept["id"]) == kept
        assert alice.get_distributor_organization(id=suspended["id"])["status"] == "suspended"
        assert [item["id"] for item in before["organizations"]] == [kept["id"], suspended["id"]]
        # Tenancy is stored too.
        assert bob.list_distributor_organizations() == {"organizations": []}


def test_the_database_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    with run_simulator(SimulatorConfig(db_path=str(path))):
        pass
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_restarted_process_keeps_the_organizations(tmp_path: Path) -> None:
    config = SimulatorConfig(credentials=(ALICE,), db_path=str(tmp_path / "sim.db"))
    with simulator_process(config) as sim:
        org = Client(ALICE.key, ALICE.secret, url=sim.url).create_distributor_organization(
            **kwargs_of(valid_body())
        )
        assert sim.stop() == 0
    with simulator_process(config) as sim:
        assert Client(ALICE.key, ALICE.secret, url=sim.url).get_distributor_organization(id=org["id"]) == org


def test_concurrent_creates_all_succeed_with_distinct_ids() -> None:
    with run_simulator(SimulatorConfig(credentials=(ALICE,))) as sim:

        def create(n: int) -> list[str]:
            # One client per thread: a requests session is not thread-safe.
            client = Client(ALICE.key, ALICE.secret, url=sim.url)
            return [
                client.create_distributor_organization(**kwargs_of(valid_body(**{"client-id": f"t{n}-{i}"})))[
                    "id"
                ]
                for i in range(10)
            ]

        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = [org_id for batch in pool.map(create, range(8)) for org_id in batch]
        assert len(ids) == 80
        assert len(set(ids)) == 80
        listed = Client(ALICE.key, ALICE.secret, url=sim.url).list_distributor_organizations()[
            "organizations"
        ]
        assert {item["id"] for item in listed} == set(ids)
        assert sim.stats()["create-distributor-organization"] == 80


def test_concurrent_transitions_on_a_file_database(tmp_path: Path) -> None:
    config = SimulatorConfig(credentials=(ALICE,), db_path=str(tmp_path / "sim.db"))
    with run_simulator(config) as sim:
        org_id = Client(ALICE.key, ALICE.secret, url=sim.url).create_distributor_organization(
            **kwargs_of(valid_body())
        )["id"]

        def flip(n: int) -> str:
            client = Client(ALICE.key, ALICE.secret, url=sim.url)
            for _ in range(10):
                if n % 2:
                    client.activate_distributor_organization(id=org_id)
                else:
                    client.suspend_distributor_organization(id=org_id)
            status: str = client.get_distributor_organization(id=org_id)["status"]
            return status

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = set(pool.map(flip, range(8)))
        assert statuses <= {"active", "suspended"}


def test_a_database_of_an_older_simulator_is_brought_up_to_date(tmp_path: Path) -> None:
    # The schema before organizations had an updated_at column.
    path = tmp_path / "old.db"
    org_id = "6c1d0000-0000-4000-8000-0000000000e2"
    address = valid_body()["billing-address"]
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE organizations (id TEXT PRIMARY KEY, owner TEXT NOT NULL, status TEXT NOT NULL, "
            "display_name TEXT NOT NULL, owner_email TEXT NOT NULL, client_id TEXT, "
            "billing_address TEXT NOT NULL, created_at REAL NOT NULL, purge_at REAL)"
        )
        db.execute(
            "INSERT INTO organizations VALUES "
            "(?, ?, 'created', 'Acme SA', 'o@acme.example', NULL, ?, ?, NULL)",
            (org_id, ALICE.key, json.dumps(address), 1_800_000_000.0),
        )
    config = SimulatorConfig(credentials=(ALICE,), db_path=str(path), normalize=True)
    with run_simulator(config) as sim:
        client = Client(ALICE.key, ALICE.secret, url=sim.url)
        org = client.get_distributor_organization(id=org_id)
        # Never changed since: updated when created.
        assert org["updated-at"] == org["created-at"] == "2027-01-15T08:00:00Z"
        assert client.activate_distributor_organization(id=org_id)["status"] == "active"
    # Opening it again (the column now exists) changes nothing.
    with run_simulator(config) as sim:
        assert (
            Client(ALICE.key, ALICE.secret, url=sim.url).get_distributor_organization(id=org_id)["status"]
            == "active"
        )
