"""YAML manifests → validated, resolved desired state. Knows nothing of HTTP or plans.

`load_manifest(path)` → `Manifest`; `resolve(manifest)` → `ResolvedStack` of `DesiredJob`s
(each with its `JobDefinition` and digest); `load_and_resolve(path)` does both with every
error located at file:line:col and key path.

The pydantic models (`models.py`, `load.py`) are loaded on first use of a name that needs
them, so what never validates a manifest (`hpcspec import --xml`, which only writes one via
`export.py`) never loads pydantic.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from hpcspec.manifest.errors import InvalidManifest, ManifestError
from hpcspec.manifest.resolve import DesiredJob, DesiredState, ResolvedStack, SpecChangePolicy

if TYPE_CHECKING:
    from hpcspec.manifest.load import load_and_resolve, load_manifest, parse_manifest
    from hpcspec.manifest.models import Manifest

__all__ = [
    "DesiredJob",
    "DesiredState",
    "InvalidManifest",
    "Manifest",
    "ManifestError",
    "ResolvedStack",
    "SpecChangePolicy",
    "load_and_resolve",
    "load_manifest",
    "parse_manifest",
    "resolve",
]

_LOADED_ON_USE = {
    "load_and_resolve": "hpcspec.manifest.load",
    "load_manifest": "hpcspec.manifest.load",
    "parse_manifest": "hpcspec.manifest.load",
    "Manifest": "hpcspec.manifest.models",
}


def resolve(manifest: Manifest, vars_override: Mapping[str, str] | None = None) -> ResolvedStack:
    """Resolve a validated manifest, any error located in its text (`load.resolve_located`)."""
    from hpcspec.manifest.load import resolve_located

    return resolve_located(manifest, vars_override)


def __getattr__(name: str) -> object:
    module = _LOADED_ON_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
