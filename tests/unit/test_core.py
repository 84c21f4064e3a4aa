"""The core's rules without HTTP or the engine: an in-memory Partner API stands in for the client."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import stamina

from pulumi_exo_distributor import DistributorOrganizationError, NotFoundError, ServerError
from pulumi_exo_distributor._client import RetryPolicy
from pulumi_exo_distributor._journal import CreateJournal
from pulumi_exo_distributor._models import Organization, OrganizationInput
from pulumi_exo_distributor.core import Claims, Diffed, Directory, Lifecycle

SCOPE = "sha256:00000000000000aa"
OWNER = "pulumi:fleet/prod/acme"
ADDRESS = {
    "name": "Acme SA",
    "country": "CH",
    "city": "Lausanne",
    "postal_code": "1003",
    "street_name": "Rue",
}


class FakeAPI:
    """The Partner API in memory: organizations by id, and the calls made, by operation."""

    def __init__(self) -> None:
        self.orgs: dict[str, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self.retry = RetryPolicy()
        #: Make the next create fail after it was committed (a lost answer).
        self.lose_next_answer = False
        self.broken: Exception | None = None

    def add(self, client_id: str | None, status: str = "active") -> str:
        org_id = str(uuid.uuid4())
        self.orgs[org_id] = {
            "id": org_id,
            "status": status,
            "client-id": client_id,
            "billing-address": {k.replace("_", "-"): v for k, v in ADDRESS.items()},
        }
        return org_id

    def _org(self, org_id: object) -> Organization:
        if str(org_id) not in self.orgs:
            raise NotFoundError("get-distributor-organization", 404, "not found")
        return Organization.model_validate(self.orgs[str(org_id)])

    def list_organizations(self) -> list[Organization]:
        self.calls["list"] += 1
        if self.broken is not None:
            raise self.broken
        return [self._org(org_id) for org_id in self.orgs]

    def get_organization(self, org_id: object) -> Organization:
        self.calls["get"] += 1
        return self._org(org_id)

    def create_organization(self, body: OrganizationInput) -> Organization:
        self.calls["create"] += 1
        org_id = self.add(body.client_id, status="created")
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise ServerError("create-distributor-organization", 502, "bad gateway")
        return self._org(org_id)

    def _status(self, org_id: object, status: str, op: str) -> Organization:
        self.calls[op] += 1
        self._org(org_id)
        self.orgs[str(org_id)]["status"] = status
        return self._org(org_id)

    def activate_organization(self, org_id: object) -> Organization:
        return self._status(org_id, "active", "activate")

    def suspend_organization(self, org_id: object) -> Organization:
        return self._status(org_id, "suspended", "suspend")

    def terminate_organization(self, org_id: object) -> None:
        self._status(org_id, "terminated", "terminate")

    def schedule_purge_organization(self, org_id: object) -> None:
        self.calls["purge"] += 1
        self.orgs.pop(str(org_id))


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3):
        yield


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
def warnings() -> list[str]:
    return []


def lifecycle(
    api: FakeAPI, tmp_path: Path, warnings: list[str], engine_alive: Callable[[], bool] = lambda: True
) -> Lifecycle:
    journal = CreateJournal(tmp_path / "journal")
    return Lifecycle(
        lambda: api,  # type: ignore[arg-type,return-value]
        lambda: SCOPE,
        journal=journal,
        warn=warnings.append,
        key_help="the key",
        engine_alive=engine_alive,
    )


@pytest.fixture
def core(api: FakeAPI, tmp_path: Path, warnings: list[str]) -> Lifecycle:
    return lifecycle(api, tmp_path, warnings)


def declared(**overrides: Any) -> dict[str, Any]:
    props = {
        "display_name": "Acme SA",
        "owner_email": "ops@acme.example",
        "billing_address": dict(ADDRESS),
        "default_client_id": OWNER,
    }
    props.update(overrides)
    return props


def test_the_core_imports_no_pulumi() -> None:
    code = (
        "import sys, pulumi_exo_distributor.core; "
        "print(sorted(m for m in sys.modules if m == 'pulumi' or m.startswith('pulumi.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# -- claims and the directory ---------------------------------------------------------------------


def test_the_first_claim_wins_and_the_second_is_named() -> None:
    claims = Claims()
    assert claims.client_id("acme", "pulumi:p/s/a") is None
    assert claims.client_id("acme", "pulumi:p/s/a") is None  # the same resource again
    assert claims.client_id("acme", "pulumi:p/s/b") == "pulumi:p/s/a"
    assert claims.organization("ABC", "pulumi:p/s/a") is None
    assert claims.organization("abc", "pulumi:p/s/b") == "pulumi:p/s/a"  # ids compared without case
    assert claims.manager("Abc") == "pulumi:p/s/a"
    claims.replaces("pulumi:p/s/a", "abc")
    assert claims.replaced_by("pulumi:p/s/a") == "abc"
    assert claims.replaced_by(None) is None


def test_claims_sharing_a_directory_see_each_others_organizations(tmp_path: Path) -> None:
    # Two provider processes of one deployment (the default provider and an explicit one).
    default, explicit = Claims(shared=tmp_path / "d"), Claims(shared=tmp_path / "d")
    assert default.organization("ABC", "pulumi:p/s/new") is None
    assert explicit.manager("abc") == "pulumi:p/s/new"
    assert explicit.organization("abc", "pulumi:p/s/old") == "pulumi:p/s/new"
    assert default.organization("abc", "pulumi:p/s/new") is None  # the same resource again
    # Another deployment's directory is another deployment.
    assert Claims(shared=tmp_path / "e").organization("abc", "pulumi:p/s/old") is None


def test_a_claim_cut_short_or_being_written_spoils_no_other(tmp_path: Path) -> None:
    shared = tmp_path / "d"
    Claims(shared=shared).organization("a", "pulumi:p/s/a")
    log = shared / "claims.jsonl"
    with log.open("ab") as out:
        out.write(b'\n["b", "pulumi:p/s/cut')  # a write cut short (a full disk): no newline
    later = Claims(shared=shared)
    assert later.organization("c", "pulumi:p/s/c") is None
    reader = Claims(shared=shared)
    assert (reader.manager("a"), reader.manager("b"), reader.manager("c")) == (
        "pulumi:p/s/a",
        None,
        "pulumi:p/s/c",
    )
    with log.open("ab") as out:
        out.write(b'\n["d", "pulumi:p/s/d"]')  # being written: not whole yet
    assert reader.manager("d") is None
    with log.open("ab") as out:
        out.write(b"\n")
    assert reader.manager("d") == "pulumi:p/s/d"


def test_claims_stay_this_processs_where_the_deployment_file_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("a file, not a directory")
    claims = Claims(shared=tmp_path / "f" / "d")
    assert claims.organization("abc", "pulumi:p/s/a") is None
    assert claims.organization("abc", "pulumi:p/s/b") == "pulumi:p/s/a"
    assert claims.manager("abc") == "pulumi:p/s/a"
    assert Claims(shared=tmp_path / "f" / "d").manager("abc") is None


_RACE = """
import sys
from pathlib import Path
from pulumi_exo_distributor.core import Claims
shared, me = Path(sys.argv[1]), sys.argv[2]
sys.stdin.read()  # all start together
claims = Claims(shared=shared)
for n in range(300):
    other = claims.organization(f"org-{n}", me)
    print(f"org-{n}", other or me)
"""


def test_processes_claiming_at_once_agree_on_the_first_claim(tmp_path: Path) -> None:
    # Provider processes of one deployment claim the same organizations at the same time: each
    # organization has one holder, the same for all of them, and every one of them is told it.
    shared = tmp_path / "d"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACE, str(shared), f"pulumi:p/s/r{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(6)
    ]
    answers = [dict(line.split() for line in racer.communicate("")[0].splitlines()) for racer in racers]
    assert all(racer.returncode == 0 for racer in racers)
    reader = Claims(shared=shared)
    for n in range(300):
        holders = {answer[f"org-{n}"] for answer in answers}
        assert holders == {reader.manager(f"org-{n}")}, n
    lines = (shared / "claims.jsonl").read_bytes().split(b"\n")
    assert sum(1 for line in lines if line) == 6 * 300  # every append whole, none lost


def test_the_directory_lists_once_and_follows_its_own_writes(api: FakeAPI) -> None:
    kept = api.add("acme")
    api.add("acme", status="terminated")
    directory = Directory(lambda: api)  # type: ignore[arg-type,return-value]
    assert [str(o.id) for o in directory.live_with_client_id("acme")] == [kept]
    assert directory.live_with_client_id("ACME") == []  # client ids are compared exactly
    written = api._org(api.add("globex"))
    directory.remember(written)
    assert [str(o.id) for o in directory.live_with_client_id("globex")] == [str(written.id)]
    directory.forget(kept)
    assert directory.live_with_client_id("acme") == []
    assert api.calls["list"] == 1
    assert directory.get(str(uuid.uuid4())) is None  # the API's own 404


def test_a_refresh_of_many_reads_one_then_lists(api: FakeAPI) -> None:
    ids = [api.add(f"c{n}") for n in range(5)]
    directory = Directory(lambda: api)  # type: ignore[arg-type,return-value]
    assert all(directory.lookup(org_id) is not None for org_id in ids)
    assert (api.calls["get"], api.calls["list"]) == (1, 1)


# -- create exactly once, takeovers proven or explicit ------------------------------------------------


def test_a_lost_answer_never_makes_a_second_organization(core: Lifecycle, api: FakeAPI) -> None:
    inputs = core.check({}, declared(client_id="acme-1")).inputs
    api.lose_next_answer = True
    org_id, outputs = core.create(inputs)
    assert api.calls["create"] == 1
    assert list(api.orgs) == [org_id]
    assert outputs["deletion_policy"] == "purge"


def test_a_found_organization_needs_proof_or_adopt_id(
    api: FakeAPI, tmp_path: Path, warnings: list[str]
) -> None:
    existing = api.add("acme-1")
    core = lifecycle(api, tmp_path, warnings)
    checked = core.check({}, declared(client_id="acme-1"))
    [(field, reason)] = checked.failures
    assert field == "client_id"
    assert f'adopt_id="{existing}"' in reason and "aliases" in reason
    with pytest.raises(DistributorOrganizationError, match="Nothing was created"):
        core.create(checked.inputs)
    assert api.calls["create"] == 0
    # The journal of this machine, naming this resource, is proof; naming another, it is not.
    CreateJournal(tmp_path / "journal").begin(SCOPE, "acme-1", "pulumi:fleet/prod/other")
    assert lifecycle(api, tmp_path, warnings).check({}, declared(client_id="acme-1")).failures
    CreateJournal(tmp_path / "journal").begin(SCOPE, "acme-1", OWNER)
    fresh = lifecycle(api, tmp_path, warnings)
    inputs = fresh.check({}, declared(client_id="acme-1")).inputs
    assert fresh.create(inputs)[0] == existing


def test_a_create_done_after_its_engine_ended_is_taken_back_by_the_next_run(
    api: FakeAPI, tmp_path: Path, warnings: list[str]
) -> None:
    # The engine was killed alone: its provider process finished the create, whose answer reaches
    # no state. The entry stays, and the next run takes the organization back, never a second one.
    gone = lifecycle(api, tmp_path, warnings, engine_alive=lambda: False)
    org_id, _ = gone.create(gone.check({}, declared(client_id="acme-1")).inputs)
    journal = CreateJournal(tmp_path / "journal")
    assert journal.holds(SCOPE, "acme-1", OWNER)
    fresh = lifecycle(api, tmp_path, warnings)
    checked = fresh.check({}, declared(client_id="acme-1"))
    assert checked.failures == []
    assert fresh.create(checked.inputs)[0] == org_id
    assert list(api.orgs) == [org_id] and api.calls["create"] == 1
    assert not journal.holds(SCOPE, "acme-1", OWNER)  # recovered, with its engine there: ended


def test_the_default_client_id_alone_is_no_proof(api: FakeAPI, tmp_path: Path, warnings: list[str]) -> None:
    # A stack renamed and another made under its old name sends the same default client id.
    existing = api.add(OWNER)
    core = lifecycle(api, tmp_path, warnings)
    checked = core.check({}, declared())
    assert checked.inputs["client_id"] == OWNER
    [(field, reason)] = checked.failures
    assert field == "client_id" and f'adopt_id="{existing}"' in reason
    with pytest.raises(DistributorOrganizationError, match="Nothing was created"):
        core.create(checked.inputs)
    assert api.calls["create"] == 0


def test_a_replacement_is_not_refused_its_own_organization(core: Lifecycle, api: FakeAPI) -> None:
    org_id, outputs = core.create(core.check({}, declared(client_id="r")).inputs)
    new = core.check(outputs, declared(client_id="r", display_name="Acme AG", allow_replacement=True)).inputs
    assert core.diff(org_id, outputs, new).replaces == ["display_name"]
    # The engine checks a replacement again as a new resource: its old organization is no takeover.
    again = core.check({}, declared(client_id="r", display_name="Acme AG", allow_replacement=True))
    assert again.failures == []
    new_id, _ = core.create(again.inputs)
    assert new_id != org_id
    core.delete(org_id, outputs)
    assert api.orgs[new_id]["status"] == "active" and org_id not in api.orgs
    # Adopting, as its replacement, the organization it replaces is refused.
    with pytest.raises(
        DistributorOrganizationError, match="names the organization this replacement replaces"
    ):
        core.diff(
            new_id, {**outputs, "display_name": "Acme AG"}, {**new, "display_name": "X", "adopt_id": new_id}
        )


def test_a_delete_leaves_an_organization_another_resource_took_in_this_deployment(
    core: Lifecycle, api: FakeAPI, tmp_path: Path, warnings: list[str]
) -> None:
    org_id, outputs = core.create(core.check({}, declared(client_id="t")).inputs)
    adopter = declared(client_id="t", adopt_id=org_id, default_client_id="pulumi:fleet/prod/new")
    fresh = lifecycle(api, tmp_path, warnings)  # the next deployment: the old resource is removed
    fresh.create(fresh.check({}, adopter).inputs)
    api.calls.clear()
    fresh.delete(org_id, outputs)  # in the same deployment as the adoption
    assert api.calls == Counter()
    assert api.orgs[org_id]["status"] == "active"
    assert "is now managed by resource 'new'" in warnings[-1]


def test_an_adoption_is_retained_unless_the_program_says_otherwise(core: Lifecycle, api: FakeAPI) -> None:
    existing = api.add("legacy")
    adopted = core.check({}, declared(client_id="legacy", adopt_id=existing)).inputs
    assert adopted["deletion_policy"] == "retain"
    said = core.check({}, declared(client_id="legacy", adopt_id=existing, deletion_policy="terminate"))
    assert said.inputs["deletion_policy"] == "terminate"


# -- the program decides the fate ------------------------------------------------------------------


def test_removing_a_declared_policy_is_a_change(core: Lifecycle, api: FakeAPI) -> None:
    org_id, outputs = core.create(core.check({}, declared(client_id="c", deletion_policy="retain")).inputs)
    later = core.check({**outputs}, declared(client_id="c")).inputs
    assert later["deletion_policy"] == "purge"
    assert core.diff(org_id, outputs, later).changes is True
    assert core.diff(org_id, outputs, {**later, "deletion_policy": "retain"}).changes is False


@pytest.mark.parametrize(
    ("policy", "calls", "status"),
    [
        ("purge", {"terminate", "purge"}, None),
        ("terminate", {"terminate"}, "terminated"),
        ("retain", set(), "active"),
    ],
)
def test_delete_does_what_the_policy_says(
    core: Lifecycle, api: FakeAPI, warnings: list[str], policy: str, calls: set[str], status: str | None
) -> None:
    org_id, outputs = core.create(core.check({}, declared(client_id="d", deletion_policy=policy)).inputs)
    api.calls.clear()
    core.delete(org_id, outputs)
    assert set(api.calls) == calls
    assert api.orgs.get(org_id, {}).get("status") == status
    assert bool(warnings) is (policy == "retain")
    if warnings:
        assert f"organization {org_id} ('Acme SA') left running, no longer managed" in warnings[0]


def test_a_state_written_by_a_newer_version_is_refused(core: Lifecycle, api: FakeAPI) -> None:
    org_id, outputs = core.create(core.check({}, declared(client_id="v")).inputs)
    newer = {**outputs, "provider_version": "999.0"}
    api.calls.clear()
    for attempt in (lambda: core.read(org_id, newer), lambda: core.delete(org_id, newer)):
        with pytest.raises(DistributorOrganizationError, match="newer than this one"):
            attempt()
    assert api.calls == Counter()


def test_a_programming_error_surfaces_as_itself(core: Lifecycle, api: FakeAPI) -> None:
    api.broken = TypeError("a bug")
    with pytest.raises(TypeError, match="a bug"):
        core.check({}, declared(client_id="e"))  # check survives API failures, not bugs


def test_an_api_failure_becomes_the_package_error_with_a_hint(
    core: Lifecycle, api: FakeAPI, tmp_path: Path, warnings: list[str]
) -> None:
    org_id, outputs = core.create(core.check({}, declared(client_id="f")).inputs)
    api.orgs.clear()  # gone: a 404 under the recording key is proof
    assert core.read(org_id, outputs).id is None
    api.broken = ServerError("list-distributor-organizations", 503, "unavailable")
    fresh = lifecycle(api, tmp_path, warnings)
    inputs = fresh.check({}, declared(client_id="g")).inputs  # the look-up at check is skipped
    with pytest.raises(DistributorOrganizationError, match=r"answered HTTP 503.*\n  hint: the request may"):
        fresh.create(inputs)


def test_an_import_is_an_adoption_whose_undeclared_fields_record_without_a_change(
    core: Lifecycle, api: FakeAPI, warnings: list[str]
) -> None:
    org_id = api.add("acme-imported")
    read = core.import_(org_id, OWNER)
    assert read.id == org_id and api.calls == Counter({"get": 1})
    assert read.inputs["adopt_id"] == org_id and read.inputs["deletion_policy"] == "retain"
    assert "display_name" not in read.inputs and "owner_email" not in read.inputs
    # The import's own check passes; the program's values for what the API never returns are no change.
    assert core.check(read.inputs, read.inputs).failures == []
    program = declared(
        client_id="acme-imported", adopt_id=org_id, display_name="Any name", owner_email="a@b.ch"
    )
    checked = core.check(read.inputs, program)
    assert checked.failures == []
    assert core.diff(org_id, read.outputs, checked.inputs) == Diffed(changes=False, replaces=[], keys=())
    # A declaration without adopt_id nor a policy would purge what the program did not create: refused.
    assert [f for f, _ in core.check(read.inputs, declared(client_id="acme-imported")).failures] == [
        "adopt_id"
    ]
    # A real difference is one: the billing address is recorded as the API has it.
    moved = declared(client_id="acme-imported", adopt_id=org_id, billing_address={**ADDRESS, "city": "Bern"})
    assert [f for f, _ in core.check(read.inputs, moved).failures] == ["billing_address"]
    # A refresh keeps it an adoption; a delete retains it.
    assert core.read(org_id, read.outputs).inputs == read.inputs
    core.delete(org_id, read.outputs)
    assert api.orgs[org_id]["status"] == "active" and "left running" in warnings[-1]


def test_an_import_of_what_the_key_cannot_see_or_a_terminated_one_is_refused(
    core: Lifecycle, api: FakeAPI
) -> None:
    with pytest.raises(DistributorOrganizationError, match="no organization with this id is visible"):
        core.import_(str(uuid.uuid4()), OWNER)
    ended = api.add("acme-ended", status="terminated")
    with pytest.raises(DistributorOrganizationError, match="it is terminated"):
        core.import_(ended, OWNER)


def test_a_declared_state_still_sees_every_change_of_what_the_api_never_returns(core: Lifecycle) -> None:
    # The rule for imports applies to states without a display name only: a created organization's
    # state has one, and a new value is a change as before.
    olds = {**declared(client_id="acme-1"), "status": "active", "deletion_policy": "purge"}
    news = core.check(olds, declared(client_id="acme-1", owner_email="new@acme.example")).inputs
    assert core.diff(str(uuid.uuid4()), olds, news).keys == ("owner_email",)
    renamed = core.check(olds, declared(client_id="acme-1", display_name="Acme AG"))
    assert [f for f, _ in renamed.failures] == ["display_name"]


def test_an_existing_organizations_unchanged_owner_email_is_not_checked_again(core: Lifecycle) -> None:
    # Recorded when the rules for an address were laxer (or by hand): the API never receives it
    # again, so the unchanged address is kept; any other address is checked.
    recorded = {**core.check({}, declared(client_id="c")).inputs, "owner_email": "ops@acme"}
    unchanged = core.check(recorded, declared(client_id="c", owner_email="ops@acme"))
    assert unchanged.failures == []
    assert unchanged.inputs["owner_email"] == "ops@acme"
    changed = core.check(recorded, declared(client_id="c", owner_email="billing@acme"))
    assert [name for name, _ in changed.failures] == ["owner_email"]
    assert [name for name, _ in core.check({}, declared(owner_email="ops@acme")).failures] == ["owner_email"]


def test_what_a_check_accepted_is_kept_until_its_diff_or_its_create(core: Lifecycle) -> None:
    org_id, outputs = core.create(core.check({}, declared(client_id="c")).inputs)
    assert core._accepted == {}
    checked = core.check(outputs, declared(client_id="c")).inputs
    assert core._accepted == {OWNER: checked}
    assert core.diff(org_id, outputs, checked).changes is False
    assert core._accepted == {}
