"""The provider stays correct under every plausible answer of the real API (the simulator's variants)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_exo_distributor import DistributorOrganizationError, PartnerClient
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

from .conftest import KEY, OTHER_KEY, OTHER_SECRET, SECRET, configured
from .test_organization import _own_client_id, calls_during, checked

__all__ = ["_own_client_id"]  # each test declares its own client id

CREDENTIALS = (Credential(KEY, SECRET), Credential(OTHER_KEY, OTHER_SECRET))


@pytest.fixture
def variant(request: pytest.FixtureRequest) -> Iterator[Any]:
    with run_simulator(SimulatorConfig(credentials=CREDENTIALS, **request.param)) as sim:
        yield sim


@pytest.mark.parametrize("variant", [{"foreign_status": 404}, {"foreign_status": 403}], indirect=True)
def test_another_accounts_key_never_forgets_or_deletes(variant: Any) -> None:
    provider = configured(variant.url)
    result = provider.create(checked(provider))
    assert result.outs is not None
    stranger = configured(variant.url, key=OTHER_KEY, secret=OTHER_SECRET)
    with pytest.raises(DistributorOrganizationError):
        stranger.read(result.id, result.outs)
    with pytest.raises(DistributorOrganizationError):
        stranger.delete(result.id, result.outs)
    with PartnerClient(KEY, SECRET, variant.url) as api:
        assert api.get_organization(result.id).status.value == "active"


@pytest.mark.parametrize(
    "variant", [{"terminate_again": 200}, {"terminate_again": 404}, {"terminate_again": 409}], indirect=True
)
def test_deleting_an_already_terminated_organization_is_done_once_a_read_confirms(variant: Any) -> None:
    provider = configured(variant.url)
    result = provider.create(checked(provider, deletion_policy="terminate"))
    assert result.outs is not None
    with PartnerClient(KEY, SECRET, variant.url) as api:
        api.terminate_organization(result.id)
        calls = calls_during(variant, lambda: provider.delete(result.id, result.outs or {}))
        assert calls["terminate-distributor-organization"] == 1
        assert api.get_organization(result.id).status.value == "terminated"


@pytest.mark.parametrize(
    "variant", [{"initial_status": "active"}, {"initial_status": "created"}], indirect=True
)
def test_a_new_organization_reaches_its_status_whatever_it_starts_in(variant: Any) -> None:
    provider = configured(variant.url)
    for status in ("active", "suspended"):
        result = provider.create(checked(provider, client_id=f"start-{status}", status=status))
        assert result.outs is not None
        assert result.outs["status"] == status


@pytest.mark.parametrize("variant", [{"unique_client_id": True}], indirect=True)
def test_a_server_that_enforces_unique_client_ids_changes_nothing(variant: Any) -> None:
    from .test_safety import lose_the_answer

    provider = configured(variant.url)
    inputs = checked(provider)
    first = provider.create(inputs)
    lose_the_answer(provider, inputs)
    # The next run finds it before sending a create that such a server would refuse (409).
    again = configured(variant.url)
    assert again.create(checked(again)).id == first.id
