"""Exoscale distributor organizations as infrastructure code, with Pulumi.

``DistributorOrganization`` is the Pulumi resource; ``get_organization``, ``list_organizations``
and ``get_organization_usage`` the read-only functions for programs; ``load_customers`` reads a
fleet's customers file; ``PartnerClient`` is the typed client of the Exoscale Partner API they
stand on.
"""

from __future__ import annotations

from ._client import PartnerClient, RetryPolicy
from ._config import Credentials
from ._data import BillingAddressInfo, OrganizationInfo, UsageLineInfo, UsageStatementInfo
from ._errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ExoDistributorError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
)
from ._fleet import Customer, CustomerFileError, load_customers
from ._functions import (
    DistributorFunctionError,
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
from ._organization import (
    BillingAddressArgs,
    DistributorOrganization,
    DistributorOrganizationError,
    DistributorOrganizationProvider,
)

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
    "TransportError",
    "UsageLine",
    "UsageLineInfo",
    "UsageStatement",
    "UsageStatementInfo",
    "get_organization",
    "get_organization_usage",
    "list_organizations",
    "load_customers",
]
