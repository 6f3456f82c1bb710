"""`hpcspec forget`: hpcspec stops managing a live job, as Terraform's `state rm` (no cancel).

A key that left the manifest keeps its job, shown as a removed key on every plan until
`--prune` cancels it. `forget_keys` instead tags each of the key's live jobs with
`hpcspec.forgotten` ("KEY at TIME"); discovery skips such a job from then on, so it is no
longer the stack's (the job itself runs on untouched). Only keys that are not in the manifest
can be forgotten: a key still in it would be adopted again by its marker. HPC Pack takes
custom-property writes while a job is Configuring, Queued or Running
(`msdocs/updating-a-job.md`); an ended job is history already (plans do not count it) and is
left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from hpcspec.engine.discovery import list_stack
from hpcspec.engine.identity import FORGOTTEN_TAG
from hpcspec.engine.protocols import ClusterWriter
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.states import JobState

TAGGABLE = frozenset({JobState.Configuring, JobState.Queued, JobState.Running})


@dataclass(frozen=True)
class Forgotten:
    """What `forget` did to one job of a key."""

    key: str
    job_id: int
    state: str
    forgotten: bool  # False: the job had ended and was left as it is


def forget_keys(
    cluster: ClusterWriter,
    stack: str,
    keys: Sequence[str],
    *,
    managed: Sequence[str] = (),
    now: datetime | None = None,
) -> list[Forgotten]:
    """Tag the live jobs of `keys` (removed keys of `stack`; `managed`: the manifest's keys,
    which cannot be forgotten) so that hpcspec no longer sees them."""
    kept = sorted(set(keys) & set(managed))
    if kept:
        raise HpcspecError(
            f"{', '.join(kept)} {'is' if len(kept) == 1 else 'are'} still in the manifest",
            code="forget-managed-key",
            hint="remove the job from the manifest first (or use moved: to rename it)",
        )
    found = list_stack(cluster, stack, list(managed)).by_key
    missing = [k for k in keys if not found.get(k)]
    if missing:
        raise HpcspecError(
            f"stack {stack} has no job with key {', '.join(missing)}",
            code="forget-unknown-key",
            hint="hpcspec status MANIFEST lists the stack's keys, removed ones included",
        )
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = []
    for key in keys:
        for job in found[key]:
            taggable = job.state in TAGGABLE
            if taggable:
                cluster.set_job_custom_properties(job.id, {FORGOTTEN_TAG: f"{key} at {when}"})
            out.append(Forgotten(key, job.id, job.state.name or "", taggable))
    return out
