"""The naive provider: what a user would write on Exoscale's official client, ``exoscale.api.partner``.

One API call per operation: create (and activate, since a new organization is ``created``), a
``get`` per read, activate or suspend per status change, terminate and schedule-purge per delete.
No checks (the SDK's default check), the engine's own diff of the inputs (the SDK's default diff),
no retries. Its one kindness to itself: one client per provider process, made on first use
(``requests`` keeps the connections), with credentials from the environment like ours.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, ResourceProvider, UpdateResult

_client: Any = None
_lock = threading.Lock()


def client() -> Any:
    global _client
    with _lock:
        if _client is None:
            from exoscale.api.partner import Client

            _client = Client(
                os.environ["EXOSCALE_API_KEY"],
                os.environ["EXOSCALE_API_SECRET"],
                url=os.environ["EXOSCALE_PARTNER_API_ENDPOINT"],
            )
        return _client


def _wire(address: dict[str, Any]) -> dict[str, Any]:
    return {key.replace("_", "-"): value for key, value in address.items() if value is not None}


def _outputs(props: dict[str, Any], org: dict[str, Any]) -> dict[str, Any]:
    outs = {k: v for k, v in props.items() if not k.startswith("__")}
    outs["status"] = org["status"]
    outs["client_id"] = org.get("client-id")
    outs["remote_billing_address"] = org.get("billing-address")
    return outs


class NaiveProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        body = {
            "display_name": props["display_name"],
            "owner_email": props["owner_email"],
            "billing_address": _wire(props["billing_address"]),
        }
        if props.get("client_id"):
            body["client_id"] = props["client_id"]
        org = client().create_distributor_organization(**body)
        if props.get("status", "active") == "active":
            org = client().activate_distributor_organization(id=org["id"])
        return CreateResult(org["id"], _outputs(props, org))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        org = client().get_distributor_organization(id=id_)
        outs = _outputs(props, org)
        return ReadResult(id_, outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if news.get("status", "active") == "active":
            org = client().activate_distributor_organization(id=_id)
        else:
            org = client().suspend_distributor_organization(id=_id)
        return UpdateResult(_outputs(news, org))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        client().terminate_distributor_organization(id=_id)
        client().schedule_purge_distributor_organization(id=_id)


class NaiveOrganization(pulumi.dynamic.Resource, module="bench", name="NaiveOrganization"):
    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None, **inputs: Any) -> None:
        props: dict[str, Any] = {key: value for key, value in inputs.items() if value is not None}
        props["remote_billing_address"] = None
        super().__init__(NaiveProvider(), resource_name, props, opts)
