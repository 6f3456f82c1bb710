"""YAML manifests → validated, resolved desired state. Knows nothing of HTTP or plans.

`load_manifest(path)` → `Manifest`; `resolve(manifest)` → `ResolvedStack` of `DesiredJob`s
(each with its `JobDefinition` and digest); `load_and_resolve(path)` does both with every
error located at file:line:col and key path.
"""

from hpcspec.manifest.errors import InvalidManifest, ManifestError
from hpcspec.manifest.load import load_and_resolve, load_manifest, parse_manifest
from hpcspec.manifest.load import resolve_located as resolve
from hpcspec.manifest.models import Manifest
from hpcspec.manifest.resolve import DesiredJob, DesiredState, ResolvedStack, SpecChangePolicy

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
