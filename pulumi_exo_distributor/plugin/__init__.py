"""The provider plugin ``pulumi-resource-exo-distributor``: the same rules as the dynamic provider,
served over Pulumi's provider protocol (``pulumi import``, Pulumi YAML, a schema), and the Python
front-end that uses it.

- :class:`DistributorOrganization`: what a Python program writes to use the plugin (the dynamic
  resource's arguments); the type token is :data:`TYPE_TOKEN`.
- The executable is a console script of this distribution (:data:`PLUGIN_EXECUTABLE`): installed
  in a virtualenv, it is on ``PATH`` with it, and the engine finds it there, with no download.
"""

from __future__ import annotations

from ._names import PACKAGE, PLUGIN_EXECUTABLE, TYPE_TOKEN, plugin_version, semver
from ._resource import DistributorOrganization

__all__ = [
    "PACKAGE",
    "PLUGIN_EXECUTABLE",
    "TYPE_TOKEN",
    "DistributorOrganization",
    "plugin_version",
    "semver",
]
