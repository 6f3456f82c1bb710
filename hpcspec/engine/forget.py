"""`hpcspec forget`: hpcspec stops managing a live job, as Terraform's `state rm` (no cancel).

A key that left the manifest keeps its job, shown as a removed key on every plan until
`--prune` cancels it. `forget_keys` instead tags each of the key's live jobs with
`hpcspec.forgotten` ("KEY at TIME"); discovery skips such a job from then on, so it is no
longer the stack's (the job itself runs on untouched). Only keys that are not in the manifest
can be forgotten: a key still in it would be adopted again by its marker, and a key the
manifest moves (`moved: {old: new}`) names the new key's job. HPC Pack takes custom-property
writes while a job is Configuring, Queued or Running (`msdocs/updating-a-job.md`); a job on its
way to the queue is tagged once it is there (`settling.when_settled`); an ended (or Canceling,
or Finishing) job is history already (plans do not count it) and is left as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from hpcspec.engine.custom_identity import marked
from hpcspec.engine.discovery import list_stack
from hpcspec.engine.identity import FORGOTTEN_TAG, key_hash, parse_marker
from hpcspec.engine.protocols import ClusterWriter, JobColumns
from hpcspec.engine.settling import ON_THE_WAY, WRITABLE, when_settled
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.live import LiveJob

TAGGABLE = WRITABLE | ON_THE_WAY


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
    moved: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> list[Forgotten]:
    """Tag the live jobs of `keys` (removed keys of `stack`; `managed`: the manifest's keys,
    and `moved`'s old keys, cannot be forgotten) so that hpcspec no longer sees them."""
    kept = sorted(set(keys) & set(managed))
    if kept:
        raise HpcspecError(
            f"{', '.join(kept)} {'is' if len(kept) == 1 else 'are'} still in the manifest",
            code="forget-managed-key",
            hint="remove the job from the manifest first (or use moved: to rename it)",
        )
    moving = [k for k in keys if k in (moved or {})]
    if moving and moved is not None:
        moves = ", ".join(f"{k} moves to {moved[k]}" for k in moving)
        raise HpcspecError(
            f"{moves} (moved: in the manifest): its job is the new key's, and forgetting it "
            "would make the next apply create another",
            code="forget-moved-key",
            hint="to stop managing that job, remove the moved: entry and the new key from "
            "jobs:, then forget the key `hpcspec status --stack NAME` shows for it",
        )
    found = list_stack(cluster, stack, list(managed)).by_key
    missing = [k for k in keys if not found.get(k)]
    if missing:
        found = {**found, **adopted_by_tags(cluster, stack, missing)}
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
                tag = {FORGOTTEN_TAG: f"{key} at {when}"}
                when_settled(
                    cluster, job.id, partial(cluster.set_job_custom_properties, job.id, tag)
                )
            out.append(Forgotten(key, job.id, job.state.name or "", taggable))
    return out


def adopted_by_tags(
    cluster: ClusterWriter, stack: str, keys: Sequence[str]
) -> dict[str, list[LiveJob]]:
    """The alive jobs of `keys` that only their identity tags name: a job adopted while
    Queued or Running takes no ClientSource marker, and once its key and `adopt:` entry left
    the manifest, a listing by marker does not show it (`adopt` refuses such a job to
    another stack or key, so forget must find it). One custom-properties read per alive job
    of the cluster, only for keys the listing did not find."""
    wanted = {key_hash(stack, key): key for key in keys}
    alive = (job for job in cluster.list_jobs(columns=JobColumns.STATUS) if job.state.is_alive)
    out: dict[str, list[LiveJob]] = {}
    for job in marked(cluster, alive, stack):
        marker = parse_marker(job.client_source)
        key = wanted.get(marker.key_hash) if marker is not None else None
        if key is not None:
            out.setdefault(key, []).append(job)
    return out
