"""The plugin's names: the package, the type tokens, the schema's camelCase property names, the
plugin's semver version, and a resource's identity (its default client id) from its URN.

The core speaks the dynamic resource's snake_case names; the schema speaks Pulumi's camelCase
(``displayName``), as every other provider does and as a Pulumi YAML program writes them. The two
are mapped here, at the edge, and nowhere else.
"""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

from .._inputs import within_client_id_limit
from .._writer import current_version

__all__ = [
    "FUNCTIONS",
    "PACKAGE",
    "PLUGIN_EXECUTABLE",
    "TYPE_TOKEN",
    "camel",
    "identity_from_urn",
    "plugin_version",
    "semver",
    "snake",
]

#: The package name: the engine hands the plugin the stack configuration ``exo-distributor:*``.
PACKAGE = "exo-distributor"
#: The executable the engine looks for on PATH (a console script of this distribution).
PLUGIN_EXECUTABLE = f"pulumi-resource-{PACKAGE}"
#: The organization resource's type token.
TYPE_TOKEN = f"{PACKAGE}:index:DistributorOrganization"
#: The read-only functions, as invokes: token -> the function of ``_functions`` it mirrors.
FUNCTIONS = {
    f"{PACKAGE}:index:getOrganization": "get_organization",
    f"{PACKAGE}:index:listOrganizations": "list_organizations",
    f"{PACKAGE}:index:getOrganizationUsage": "get_organization_usage",
    f"{PACKAGE}:index:getFleetUsage": "get_fleet_usage",
}

_UPPER = re.compile(r"[A-Z]")


def camel(name: str) -> str:
    """``postal_code`` -> ``postalCode``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """``postalCode`` -> ``postal_code``."""
    return _UPPER.sub(lambda match: "_" + match.group(0).lower(), name)


def semver(pep440: str) -> str:
    """A PEP 440 version as the semantic version Pulumi wants: ``0.2.0.dev12+gabc`` ->
    ``0.2.0-dev.12+gabc``, ``0.2.0rc1`` -> ``0.2.0-rc.1``, ``0.1.0`` -> ``0.1.0``.

    A pre-release and a development release become the semver pre-release (so that they sort
    below the release, as in PEP 440); a post-release and the local label become build metadata.
    """
    try:
        parsed = Version(pep440)
    except InvalidVersion:
        return "0.0.0+" + (re.sub(r"[^0-9A-Za-z-]+", ".", pep440).strip(".") or "unknown")
    major, minor, patch = (*parsed.release, 0, 0)[:3]
    core = f"{major}.{minor}.{patch}"
    if parsed.epoch or len(parsed.release) > 3:
        build_extra = [f"pep440.{re.sub(r'[^0-9A-Za-z-]+', '.', pep440)}"]
    else:
        build_extra = []
    pre: list[str] = []
    if parsed.pre is not None:
        label = {"a": "alpha", "b": "beta", "rc": "rc"}[parsed.pre[0]]
        pre.append(f"{label}.{parsed.pre[1]}")
    if parsed.dev is not None:
        pre.append(f"dev.{parsed.dev}")
    build: list[str] = []
    if parsed.post is not None:
        build.append(f"post.{parsed.post}")
    if parsed.local is not None:
        build.append(parsed.local)
    build += build_extra
    text = core
    if pre:
        text += "-" + ".".join(pre)
    if build:
        text += "+" + ".".join(build)
    return text


def plugin_version() -> str:
    """This installation's version, as the plugin reports it and a program asks for it."""
    return semver(current_version())


def identity_from_urn(urn: str) -> str | None:
    """The default client id of the resource ``urn``, as the dynamic resource computes it for a
    resource of the stack: ``pulumi:<project>/<stack>/<name>``. A resource under a parent gets
    ``pulumi:<project>/<stack>/<parent types>/<name>``: the URN holds its parents' types but not
    their names; the engine refuses two resources with one URN, so it is unique in the stack
    (the Python front-end passes the dynamic resource's own form instead)."""
    parts = urn.split("::", 3)
    if len(parts) != 4 or not parts[0].startswith("urn:pulumi:"):
        return None
    stack, project, qualified, name = parts[0][len("urn:pulumi:") :], parts[1], parts[2], parts[3]
    types = qualified.split("$")
    parents = [t for t in types[:-1] if t != "pulumi:pulumi:Stack"]
    path = f"{'$'.join(parents)}/{name}" if parents else name
    return within_client_id_limit(f"pulumi:{project}/{stack}/{path}")
