"""Exoscale distributor organizations as infrastructure code, with Pulumi.

``DistributorOrganization`` is the Pulumi resource; ``get_organization``, ``list_organizations``,
``get_organization_usage`` and ``get_fleet_usage`` the read-only functions for programs;
``load_customers`` reads a fleet's customers file, which ``shard_customers`` splits over several
stacks; ``PartnerClient`` is the typed client of the Exoscale Partner API they stand on.

Every name but the errors loads on first use (module ``__getattr__``): a program pays for the
resource alone, the provider host for the provider alone, and neither for the client, its HTTP
stack and the wire models until an API call needs them. ``__version__`` is the installed
distribution's version, as ``exo-distributor --version`` prints it.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from ._errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    DistributorOrganizationError,
    ExoDistributorError,
    InvalidArgumentError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
)

if _typing.TYPE_CHECKING:
    from ._billing import (
        FleetCurrencyTotalInfo,
        FleetUsageInfo,
        FleetUsageLineInfo,
        FleetUsageMismatchInfo,
        FleetUsageTotalInfo,
    )
    from ._client import PartnerClient, RetryPolicy
    from ._config import Credentials
    from ._data import BillingAddressInfo, OrganizationInfo, UsageLineInfo, UsageStatementInfo
    from ._fleet import Customer, CustomerFileError, load_customers
    from ._functions import (
        DistributorFunctionError,
        get_fleet_usage,
        get_organization,
        get_organization_usage,
        list_organizations,
    )
    from ._models import (
        BillingAddress,
        Organization,
        OrganizationInput,
        OrganizationStatus,
        PurgeResult,
        UsageLine,
        UsageStatement,
    )
    from ._provider import DistributorOrganizationProvider
    from ._resource import BillingAddressArgs, DistributorOrganization
    from ._shards import ShardError, shard_customers, shard_stacks

    __version__: str

_LAZY = {
    "FleetCurrencyTotalInfo": "._billing",
    "FleetUsageInfo": "._billing",
    "FleetUsageLineInfo": "._billing",
    "FleetUsageTotalInfo": "._billing",
    "FleetUsageMismatchInfo": "._billing",
    "BillingAddressInfo": "._data",
    "OrganizationInfo": "._data",
    "UsageLineInfo": "._data",
    "UsageStatementInfo": "._data",
    "Customer": "._fleet",
    "CustomerFileError": "._fleet",
    "load_customers": "._fleet",
    "DistributorFunctionError": "._functions",
    "get_fleet_usage": "._functions",
    "get_organization": "._functions",
    "get_organization_usage": "._functions",
    "list_organizations": "._functions",
    "DistributorOrganizationProvider": "._provider",
    "BillingAddressArgs": "._resource",
    "DistributorOrganization": "._resource",
    "ShardError": "._shards",
    "shard_customers": "._shards",
    "shard_stacks": "._shards",
    "PartnerClient": "._client",
    "RetryPolicy": "._client",
    "Credentials": "._config",
    "BillingAddress": "._models",
    "Organization": "._models",
    "OrganizationInput": "._models",
    "OrganizationStatus": "._models",
    "PurgeResult": "._models",
    "UsageLine": "._models",
    "UsageStatement": "._models",
}


def __getattr__(name: str) -> _typing.Any:
    if name == "__version__":
        # The installed distribution's, as `exo-distributor --version` prints it and the state
        # records it (_writer). On first use, as the other names: importlib.metadata costs time.
        from ._writer import current_version

        value = globals()["__version__"] = current_version()
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
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
