"""The floor: a dynamic provider with the same inputs and outputs as ours that calls no API.

It is pickled the same way (by reference to the class, through ``__reduce__``), does the least
each operation must (defaults at check, a compare at diff), and answers at once: what remains of
a phase's time is the engine's, the program's and the provider host's own.
"""

from __future__ import annotations

import uuid
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

INPUTS = (
    "display_name",
    "owner_email",
    "billing_address",
    "client_id",
    "status",
    "deletion_policy",
    "adopt_id",
    "allow_replacement",
)


def _own(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if not k.startswith("__") and v is not None}


def _outputs(inputs: dict[str, Any]) -> dict[str, Any]:
    outs = dict(inputs)
    outs["key_fingerprint"] = "EXO…0000"
    outs["remote_billing_address"] = {k.replace("_", "-"): v for k, v in inputs["billing_address"].items()}
    return outs


class FloorProvider(ResourceProvider):
    serialize_as_secret_always = False

    def __reduce__(self) -> tuple[type[FloorProvider], tuple[()]]:
        return (FloorProvider, ())

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = _own(news)
        inputs.setdefault("status", "active")
        inputs.setdefault("deletion_policy", "purge")
        inputs.setdefault("client_id", inputs.get("default_client_id"))
        return CheckResult(inputs, [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(str(uuid.uuid4()), _outputs(_own(props)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        outs = _own(props)
        return ReadResult(id_, outs, {k: outs[k] for k in INPUTS if k in outs})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = any(olds.get(k) != news.get(k) for k in INPUTS)
        return DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return UpdateResult(_outputs(_own(news)))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class FloorOrganization(pulumi.dynamic.Resource, module="bench", name="FloorOrganization"):
    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None, **inputs: Any) -> None:
        props = {key: inputs.get(key) for key in INPUTS}
        props["default_client_id"] = f"pulumi:{pulumi.get_project()}/{pulumi.get_stack()}/{resource_name}"
        props["remote_billing_address"] = None
        props["key_fingerprint"] = None
        super().__init__(FloorProvider(), resource_name, props, opts)
