"""The public surface is exactly what __all__ says, so it never grows by accident."""

from __future__ import annotations

import types

import pulumi_exo_distributor as package
from pulumi_exo_distributor import simulator

EXPECTED = [
    "APIError",
    "AuthenticationError",
    "BillingAddress",
    "BillingAddressArgs",
    "BillingAddressInfo",
    "ConfigurationError",
    "ConflictError",
    "Credentials",
    "Customer",
    "CustomerFileError",
    "DistributorFunctionError",
    "DistributorOrganization",
    "DistributorOrganizationError",
    "DistributorOrganizationProvider",
    "ExoDistributorError",
    "FleetCurrencyTotalInfo",
    "FleetUsageInfo",
    "FleetUsageLineInfo",
    "FleetUsageMismatchInfo",
    "FleetUsageTotalInfo",
    "InvalidArgumentError",
    "InvalidRequestError",
    "NotFoundError",
    "Organization",
    "OrganizationInfo",
    "OrganizationInput",
    "OrganizationStatus",
    "PartnerClient",
    "PurgeResult",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "ShardError",
    "TransportError",
    "UsageLine",
    "UsageLineInfo",
    "UsageStatement",
    "UsageStatementInfo",
    "__version__",
    "get_fleet_usage",
    "get_organization",
    "get_organization_usage",
    "list_organizations",
    "load_customers",
    "shard_customers",
    "shard_stacks",
]


def public_names(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }


def test_all_is_the_public_api() -> None:
    assert package.__all__ == EXPECTED
    # Some names load on first use: every one resolves, and nothing else is public.
    assert all(getattr(package, name) is not None for name in EXPECTED)
    assert public_names(package) == set(EXPECTED) - {"__version__"}


def test_the_version_is_the_installed_distributions() -> None:
    # What `exo-distributor --version` prints (click reads the same metadata), from git at build time.
    from importlib.metadata import version

    from packaging.version import Version

    assert package.__version__ == version("pulumi-exo-distributor")
    assert Version(package.__version__) > Version("0")


def test_simulator_all_is_complete() -> None:
    assert len(set(simulator.__all__)) == len(simulator.__all__)
    assert public_names(simulator) == set(simulator.__all__)


def test_every_error_descends_from_the_root() -> None:
    errors = [getattr(package, name) for name in EXPECTED if name.endswith("Error")]
    assert all(issubclass(error, package.ExoDistributorError) for error in errors)


def test_states_pickled_before_the_provider_moved_still_load() -> None:
    # A state pickles the provider by reference to its module; earlier versions' module was
    # _organization. This is such a pickle, as an earlier state holds it.
    import base64
    import pickle

    old = base64.b64decode(
        "gASVUgAAAAAAAACMJHB1bHVtaV9leG9fZGlzdHJpYnV0b3IuX29yZ2FuaXphdGlvbpSMH0Rpc3RyaWJ1dG9yT3JnYW5pemF0aW9u"
        "UHJvdmlkZXKUk5QpgZR9lGIu"
    )
    provider = pickle.loads(old)
    assert isinstance(provider, package.DistributorOrganizationProvider)
    assert provider.check({}, {"display_name": ""}).failures  # usable: its process state is set up
    assert package.DistributorOrganizationProvider.__module__ == "pulumi_exo_distributor._provider"
