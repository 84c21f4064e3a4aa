"""Against the real Exoscale Partner API: skipped unless EXO_DISTRIBUTOR_LIVE_TESTS=1.

They create, suspend, terminate and purge a real organization with the credentials in
EXOSCALE_API_KEY / EXOSCALE_API_SECRET: run them only with a distributor test account.
"""

from __future__ import annotations

import os
import uuid

import pytest

from pulumi_exo_distributor import BillingAddress, OrganizationInput, OrganizationStatus, PartnerClient

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        os.environ.get("EXO_DISTRIBUTOR_LIVE_TESTS") != "1",
        reason="live Partner API tests: set EXO_DISTRIBUTOR_LIVE_TESTS=1 and credentials to run them",
    ),
]


def test_organization_lifecycle_on_the_real_api() -> None:
    with PartnerClient() as client:
        org = client.create_organization(
            OrganizationInput(
                display_name=f"pulumi-exo-distributor live test {uuid.uuid4().hex[:8]}",
                owner_email=os.environ.get("EXO_DISTRIBUTOR_LIVE_OWNER_EMAIL", "owner@example.com"),
                billing_address=BillingAddress(
                    name="Live Test", country="CH", city="Lausanne", postal_code="1003", street_name="Rue"
                ),
                client_id="live-test",
            )
        )
        try:
            assert client.get_organization(org.id).id == org.id
            assert org.id in {o.id for o in client.list_organizations()}
            assert client.suspend_organization(org.id).status is OrganizationStatus.SUSPENDED
            assert client.activate_organization(org.id).status is OrganizationStatus.ACTIVE
        finally:
            client.terminate_organization(org.id)
            client.schedule_purge_organization(org.id)
