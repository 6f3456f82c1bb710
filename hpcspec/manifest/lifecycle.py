"""What a manifest says about its job keys beyond their spec, for the resolver (DESIGN.md §3).

`moved: {old: new}` renames a key: the live job of `old` becomes `new`'s job without being
touched. `ignoreChanges: [Priority, …]` (in `defaults` or a job; a job's list replaces the
defaults') names job properties left to the cluster's admins once a job exists: the planner
neither shows nor restores their drift. Neither is part of a job's digest, so adding or
removing them never makes a job look changed. `adopt: {key: job id}` names existing jobs the
manifest takes over (each key must be a job).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from hpcspec.hpcpack import catalogue
from hpcspec.manifest.errors import KeyPath, ManifestError, did_you_mean
from hpcspec.manifest.vocabulary import KEY_PATTERN

if TYPE_CHECKING:
    from hpcspec.manifest.models import Job, JobPolicy

_KEY_RULE = "letters, digits, '_', '.' and '-'"
_KEY = re.compile(KEY_PATTERN)


def ignored_fields(job: Job, defaults: JobPolicy, where: KeyPath) -> frozenset[str]:
    """The job properties (catalogue names) the job leaves to the cluster's admins."""
    if job.ignoreChanges is not None:
        names, path = job.ignoreChanges, (*where, "ignoreChanges")
    else:
        names, path = defaults.ignoreChanges or [], ("defaults", "ignoreChanges")
    out = set()
    for index, name in enumerate(names):
        spec = catalogue.lookup(catalogue.JOB_PROPERTIES, name)
        if spec is None:
            guess = did_you_mean(name, catalogue.JOB_PROPERTIES)
            raise ManifestError(
                f"ignoreChanges names {name!r}, which is not a settable HPC Pack job property",
                path=(*path, index),
                code="unknown-property",
                hint=f"did you mean {guess!r}?"
                if guess
                else "use exact HPC Pack job property names, as under properties:",
            )
        out.add(spec.name)
    return frozenset(out)


def moved_keys(moved: Mapping[str, str], jobs: Mapping[str, object]) -> dict[str, str]:
    """`moved:` checked: each old key has left `jobs:`, each new key is a job, and no two old
    keys move to one new key (a key has one live job)."""
    targets: dict[str, str] = {}
    for old, new in moved.items():
        path = ("moved", old)
        if not _KEY.match(old) or not _KEY.match(new):
            raise ManifestError(
                f"moved: {old!r}: {new!r} is not a pair of job keys ({_KEY_RULE})",
                path=path,
                code="invalid-key",
            )
        if old in jobs:
            raise ManifestError(
                f"moved: {old!r} is still a job under jobs:; a key moves only once it is gone",
                path=path,
                code="invalid-move",
                hint=f"rename the job {old!r} to {new!r} under jobs:",
            )
        if new not in jobs:
            guess = did_you_mean(new, jobs)
            raise ManifestError(
                f"moved: {old!r} moves to {new!r}, which is not a job under jobs:",
                path=path,
                code="invalid-move",
                hint=f"did you mean {guess!r}?" if guess else "name the job's new key",
            )
        if new in targets:
            raise ManifestError(
                f"moved: {targets[new]!r} and {old!r} both move to {new!r}; a key has one job",
                path=path,
                code="invalid-move",
            )
        targets[new] = old
    return dict(moved)


def adopted_keys(adopt: Mapping[str, int], jobs: Mapping[str, object]) -> dict[str, int]:
    """`adopt:` checked: every key it names is a job of the manifest."""
    for key in adopt:
        if key not in jobs:
            guess = did_you_mean(key, jobs)
            raise ManifestError(
                f"adopt names {key!r}, which is not a job in this manifest",
                path=("adopt", key),
                code="unknown-adopt-key",
                hint=f"did you mean {guess!r}?" if guess else f"known: {', '.join(jobs)}",
            )
    return dict(adopt)
