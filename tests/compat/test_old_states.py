"""States written by earlier versions of this package, loaded by today's code through the real engine.

Each directory of ``fixtures/`` holds the ``pulumi stack export`` of a stack that an earlier commit
wrote (scripts/make_compat_fixture.py, which says how), its stack config and the simulator's
organizations. Each test imports that state into a new stack of today's program declaring the same
organizations, against today's simulator seeded with those organizations, at the endpoint the state
names: a state's key fingerprint is a hash of the endpoint and the key, so the port is part of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from benchmarks.engine import ORGS_PROGRAM, LocalProject
from pulumi_exo_distributor import NotFoundError, PartnerClient
from pulumi_exo_distributor._config import Credentials
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

from ..e2e.conftest import Stack, changes, pulumi_cli, resources

# One simulator at the fixtures' port: every test of this module in one worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("compat")]

__all__ = ["pulumi_cli"]  # the session fixture of tests/e2e, used here by name

FIXTURES = Path(__file__).with_name("fixtures")
SUSPEND = "suspend-distributor-organization"
TERMINATE = "terminate-distributor-organization"
PURGE = "schedule-purge-distributor-organization"
READS = {"get-distributor-organization", "list-distributor-organizations"}


@dataclass(frozen=True)
class Fixture:
    dir: Path
    manifest: dict[str, Any]

    @property
    def label(self) -> str:
        return str(self.manifest["label"])

    @property
    def ids(self) -> dict[str, str]:
        return dict(self.manifest["ids"])

    @property
    def orgs(self) -> dict[str, dict[str, Any]]:
        return dict(self.manifest["organizations"])

    def recorded(self, name: str) -> dict[str, Any]:
        """The state's outputs of organization ``name``, as that version wrote them."""
        export = json.loads((self.dir / "stack.json").read_text())
        (found,) = [r["outputs"] for r in export["deployment"]["resources"] if r["urn"].endswith(f"::{name}")]
        return dict(found)


FIXTURE_LIST = [
    Fixture(path.parent, json.loads(path.read_text())) for path in sorted(FIXTURES.glob("*/fixture.json"))
]
_FIRST = FIXTURE_LIST[0].manifest
PORT, KEY, SECRET = _FIRST["port"], _FIRST["key"], _FIRST["secret"]
ENDPOINT = f"http://127.0.0.1:{PORT}/v1.alpha"
#: What today's code records for the fixtures' key at their endpoint.
FINGERPRINT = Credentials(KEY, SECRET, ENDPOINT).key_fingerprint


def _legacy_fingerprint(key: str) -> str:
    """The fingerprint versions before 01d2cf9 recorded: the key alone, no endpoint."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:16]


def fixtures(where: Callable[[Fixture], bool] = lambda fixture: True) -> pytest.MarkDecorator:
    """Parametrize a test over the fixtures ``where`` selects."""
    return pytest.mark.parametrize("fixture", [f for f in FIXTURE_LIST if where(f)], ids=lambda f: f.label)


def test_the_fixtures_share_one_endpoint_and_key() -> None:
    # One simulator serves them all; each fixture's README says how it was made.
    assert len(FIXTURE_LIST) >= 3
    for fixture in FIXTURE_LIST:
        m = fixture.manifest
        assert (m["port"], m["key"], m["secret"], m["endpoint"]) == (PORT, KEY, SECRET, ENDPOINT), m["label"]
        assert set(m["ids"]) == set(m["organizations"]) == {"acme", "globex", "initech"}
        assert (fixture.dir / "README.md").exists()
    total = sum(f.stat().st_size for f in FIXTURES.rglob("*") if f.is_file())
    assert total < 1_000_000


@dataclass
class Simulator:
    running: Any
    db: Path

    def seed(self, fixture: Fixture) -> None:
        """Put the fixture's organizations back as that version's simulator left them (rows of
        another test of the same fixture included), through the database the simulator serves."""
        with sqlite3.connect(self.db, isolation_level=None, timeout=10) as db:
            db.execute("ATTACH DATABASE ? AS old", (f"file:{fixture.dir / 'simulator.db'}?mode=ro",))
            ours = [row[1] for row in db.execute("PRAGMA main.table_info(organizations)")]
            theirs = {row[1] for row in db.execute("PRAGMA old.table_info(organizations)")}
            columns = ", ".join(name for name in ours if name in theirs)
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                f"INSERT OR REPLACE INTO main.organizations ({columns}) "  # column names of the two tables
                f"SELECT {columns} FROM old.organizations"
            )
            db.execute("COMMIT")
            db.execute("DETACH DATABASE old")


# Session-wide: the test order may interleave this module with others on its worker, and a module
# fixture set up again would find the fixed port still held by the one before it.
@pytest.fixture(scope="session")
def simulator(pulumi_cli: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    db = tmp_path_factory.mktemp("compat-simulator") / "simulator.db"
    config = SimulatorConfig(credentials=(Credential(KEY, SECRET),), db_path=str(db))
    with contextlib.ExitStack() as serving:
        try:
            running = serving.enter_context(run_simulator(config, port=PORT))
        except OSError as exc:
            pytest.fail(
                f"cannot serve the simulator at {ENDPOINT} ({exc}): the fixtures' states name that "
                "endpoint (their key fingerprint hashes it). Free the port, or make the fixtures again at "
                "another one (scripts/make_compat_fixture.py --port).",
                pytrace=False,
            )
        yield Simulator(running, db)


@pytest.fixture
def api(simulator: Simulator) -> Iterator[PartnerClient]:
    with PartnerClient(KEY, SECRET, ENDPOINT) as client:
        yield client


def old_stack(fixture: Fixture, simulator: Simulator, tmp_path: Path) -> Stack:
    """A new stack of today's program holding the fixture's state, its organizations seeded."""
    simulator.seed(fixture)
    m = fixture.manifest
    local = LocalProject(tmp_path, m["project"], ORGS_PROGRAM, m["passphrase"])
    # The stack's config with its encryption salt, so that the state's secrets still decrypt.
    shutil.copy(fixture.dir / f"Pulumi.{m['stack']}.yaml", local.dir)
    env = {
        **local.env,
        "EXOSCALE_API_KEY": "",
        "EXOSCALE_API_SECRET": "",
        "EXOSCALE_PARTNER_API_ENDPOINT": "",
    }
    workspace = auto.LocalWorkspace(work_dir=str(local.dir), env_vars=env)
    stack = Stack(auto.Stack.create(m["stack"], workspace), simulator.running, local.backend)
    done = stack.cli("stack", "import", "--file", str(fixture.dir / "stack.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    return stack


def state(stack: Stack) -> dict[str, dict[str, Any]]:
    """The organizations in the stack's state, by resource name."""
    return {
        r["urn"].rsplit("::", 1)[1]: r
        for r in resources(stack.stack)
        if r["type"].endswith("DistributorOrganization")
    }


def status(api: PartnerClient, org_id: str) -> str | None:
    try:
        return api.get_organization(org_id).status.value
    except NotFoundError:
        return None


@fixtures()
def test_an_old_state_previews_no_change(fixture: Fixture, simulator: Simulator, tmp_path: Path) -> None:
    stack = old_stack(fixture, simulator, tmp_path)
    assert {name: r["id"] for name, r in state(stack).items()} == fixture.ids
    preview, calls = stack.calls(stack.preview)
    assert changes(preview.change_summary) == {"same": 4}  # the stack and its three organizations
    assert calls == {}


@fixtures()
def test_an_old_state_suspends_one_organization_with_one_call_and_destroys_each_per_its_policy(
    fixture: Fixture, simulator: Simulator, api: PartnerClient, tmp_path: Path
) -> None:
    stack = old_stack(fixture, simulator, tmp_path)
    ids = fixture.ids
    # acme was active with no declared policy; globex suspended, terminate; initech retain.
    orgs = fixture.orgs
    orgs["acme"] = {**orgs["acme"], "status": "suspended"}
    stack.set_orgs(orgs)
    _, calls = stack.calls(stack.up)
    assert calls == {SUSPEND: 1}
    assert [status(api, ids[name]) for name in ("acme", "globex", "initech")] == [
        "suspended",
        "suspended",
        "active",
    ]
    # What deleting does is in every organization's inputs now, as today's code records it (v3 left
    # out a policy the program did not declare; its outputs always had it, so no diff showed).
    for name, resource in state(stack).items():
        assert resource["inputs"]["deletion_policy"] == fixture.recorded(name)["deletion_policy"], name

    _, calls = stack.calls(lambda: stack.stack.destroy(on_output=stack.output.append, color="never"))
    assert calls == {TERMINATE: 2, PURGE: 1}
    assert state(stack) == {}
    assert status(api, ids["acme"]) is None  # policy purge (the default): terminated and purged
    assert status(api, ids["globex"]) == "terminated"  # policy terminate
    assert status(api, ids["initech"]) == "active"  # policy retain: left alone, and said so
    assert f"warning: organization {ids['initech']} ('Initech SARL') left running" in "".join(stack.output)


@fixtures()
def test_a_refresh_of_an_old_state_keeps_every_organization_and_records_todays_fingerprint(
    fixture: Fixture, simulator: Simulator, tmp_path: Path
) -> None:
    stack = old_stack(fixture, simulator, tmp_path)
    _, calls = stack.calls(lambda: stack.stack.refresh(on_output=stack.output.append, color="never"))
    assert set(calls) <= READS
    refreshed = state(stack)
    assert {name: r["id"] for name, r in refreshed.items()} == fixture.ids
    for name, resource in refreshed.items():
        outputs = resource["outputs"]
        before = fixture.recorded(name)
        for key in ("status", "deletion_policy", "display_name", "owner_email", "billing_address"):
            assert outputs[key] == before[key], (name, key)
        assert outputs["key_fingerprint"] == FINGERPRINT
        # What deleting does is now in the inputs too, as today's code records it.
        assert resource["inputs"]["deletion_policy"] == before["deletion_policy"]

    preview, calls = stack.calls(stack.preview)
    assert changes(preview.change_summary) == {"same": 4}
    assert calls == {}


def purge_outside_pulumi(api: PartnerClient, org_id: str) -> None:
    api.terminate_organization(org_id)
    api.schedule_purge_organization(org_id)
    assert status(api, org_id) is None


def proves_gone(fixture: Fixture) -> bool:
    """Whether a 404 under today's credentials is proof for this state: it recorded today's fingerprint."""
    return fixture.recorded("acme").get("key_fingerprint") == FINGERPRINT


def failure(run: Callable[..., Any], stack: Stack) -> str:
    """The message of a command that must fail (``refresh`` or ``destroy`` of the stack)."""
    with pytest.raises(auto.CommandError) as caught:
        run(on_output=stack.output.append, color="never")
    return str(caught.value)


def refresh_failure(stack: Stack) -> str:
    return failure(stack.stack.refresh, stack)


@fixtures(lambda f: not proves_gone(f))
def test_an_organization_purged_outside_pulumi_is_never_forgotten_without_proof(
    fixture: Fixture, simulator: Simulator, api: PartnerClient, tmp_path: Path
) -> None:
    # Its state recorded no fingerprint (v1) or one of the key alone (v2): today's code cannot
    # tell that the 404 comes from the key and endpoint that created it, so it refuses.
    stack = old_stack(fixture, simulator, tmp_path)
    acme = fixture.ids["acme"]
    purge_outside_pulumi(api, acme)

    message, calls = stack.calls(lambda: refresh_failure(stack))
    assert set(calls) <= READS
    assert f"cannot read organization {acme}" in message
    assert "pulumi state delete" in message
    assert state(stack)["acme"]["id"] == acme

    message, calls = stack.calls(lambda: failure(stack.stack.destroy, stack))
    assert f"cannot delete organization {acme}" in message
    assert "pulumi state delete" in message
    assert state(stack)["acme"]["id"] == acme
    assert calls.get(PURGE, 0) == 0  # neither acme (gone) nor the others (terminate, retain) are purged
    assert status(api, fixture.ids["initech"]) == "active"


@fixtures(lambda f: not proves_gone(f))
def test_the_refusal_for_a_state_without_todays_fingerprint_says_what_is_known(
    fixture: Fixture, simulator: Simulator, api: PartnerClient, tmp_path: Path
) -> None:
    # The state was written with these very credentials by an earlier version that recorded no
    # fingerprint (v1) or one of the key alone (v2): the refusal must not send the user looking
    # for another distributor account, and must say what to do.
    recorded = fixture.recorded("acme").get("key_fingerprint")
    assert recorded in (None, _legacy_fingerprint(KEY))
    stack = old_stack(fixture, simulator, tmp_path)
    purge_outside_pulumi(api, fixture.ids["acme"])
    message = refresh_failure(stack)
    assert "another distributor account" not in message, message
    assert "earlier version" in message, message
    assert "pulumi state delete" in message, message


@fixtures(proves_gone)
def test_an_organization_purged_outside_pulumi_is_forgotten_on_proof(
    fixture: Fixture, simulator: Simulator, api: PartnerClient, tmp_path: Path
) -> None:
    stack = old_stack(fixture, simulator, tmp_path)
    purge_outside_pulumi(api, fixture.ids["acme"])
    _, calls = stack.calls(lambda: stack.stack.refresh(on_output=stack.output.append, color="never"))
    assert set(calls) <= READS
    assert {name: r["id"] for name, r in state(stack).items()} == {
        name: id_ for name, id_ in fixture.ids.items() if name != "acme"
    }


@fixtures(proves_gone)
def test_a_state_read_at_another_spelling_of_its_endpoint_never_forgets_an_organization(
    fixture: Fixture, simulator: Simulator, api: PartnerClient, tmp_path: Path
) -> None:
    # localhost is the same simulator as 127.0.0.1, but not the endpoint the fingerprint names:
    # a 404 there is no proof. refresh and destroy use the credentials and endpoint the state's
    # provider recorded, so the new endpoint counts once an `up` has recorded it.
    stack = old_stack(fixture, simulator, tmp_path)
    other = f"http://localhost:{PORT}/v1.alpha"
    stack.stack.set_config("exoscale:partnerApiEndpoint", auto.ConfigValue(other))
    up, calls = stack.calls(stack.up)
    assert changes(up.summary.resource_changes) == {"same": 4}
    assert calls == {}
    acme = fixture.ids["acme"]
    purge_outside_pulumi(api, acme)

    message = refresh_failure(stack)
    assert f"cannot read organization {acme}" in message
    assert FINGERPRINT in message  # the one the state recorded
    assert Credentials(KEY, SECRET, other).key_fingerprint in message
    assert {name: r["id"] for name, r in state(stack).items()} == fixture.ids
