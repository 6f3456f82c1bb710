"""Adopt: existing jobs brought under a manifest's management (`hpcspec adopt`).

Terraform's import for a cluster with no state file: the manifest's `adopt:` block (key: job
id) is the record, and discovery counts an adopted job as its key's live job until hpcspec
creates one of its own (`discovery.list_stack`). `adopt_jobs` checks each pair against the
cluster and decides, with the planner's own rule (`planner.decide`), whether the job matches
the manifest; for a job that matches it also writes hpcspec's identity where HPC Pack lets it:

- Configuring: the ClientSource marker and the identity tags — the job is then found like any
  job hpcspec created;
- Queued, Running: the identity tags (custom properties), so the next plan knows the digest
  without reading the job's details; ClientSource can no longer change (`derived/
  job-modify-rules.json`), so the `adopt:` entry is what finds it;
- ended: nothing can be written; each plan compares the job's read-back fields instead.

A job of another stack or key (its marker says so) is refused: two stacks would fight over it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Protocol

from hpcspec.engine import identity
from hpcspec.engine.custom_identity import tagged
from hpcspec.engine.diff import job_diffs
from hpcspec.engine.discovery import adopted_job, list_stack, with_details
from hpcspec.engine.plan import Change, FieldDiff, PlanOptions
from hpcspec.engine.planner import decide
from hpcspec.engine.protocols import ClusterWriter, JobColumns
from hpcspec.engine.settling import when_settled
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.errors import RefusedByState
from hpcspec.hpcpack.live import LiveJob, custom_value
from hpcspec.hpcpack.states import JobState
from hpcspec.manifest.resolve import ResolvedStack


class Stamp(StrEnum):
    """What adopt wrote on a job."""

    MARKER = "ClientSource marker and identity tags"
    TAGS = "identity tags"
    NOTHING = "nothing (the job has ended; the manifest's adopt: entry finds it)"


@dataclass(frozen=True)
class Adoption:
    """One adopted job: how it differs from the manifest (every field, task env and custom
    properties too), what the next plan does with it, and what identity it now carries."""

    key: str
    job: LiveJob
    diffs: tuple[FieldDiff, ...]
    change: Change
    stamped: Stamp

    @property
    def matches(self) -> bool:
        """Whether the job is what the manifest describes."""
        return not self.diffs


class AdoptCluster(ClusterWriter, Protocol):
    """A cluster that can also read a job whole (the REST client)."""

    def read_whole_job(self, job_id: int) -> LiveJob: ...


def adopt_jobs(
    cluster: AdoptCluster, stack: ResolvedStack, wanted: Mapping[str, int]
) -> list[Adoption]:
    """Check each `key: job id` and put hpcspec's identity on the jobs that match."""
    for key in wanted:
        if key not in stack.jobs:
            known = ", ".join(stack.jobs)
            raise HpcspecError(
                f"{key!r} is not a job key of stack {stack.stack!r} (keys: {known})",
                code="unknown-job-key",
            )
    own = list_stack(cluster, stack.stack, list(stack.jobs), moved=stack.moved).by_key
    out = []
    for key, job_id in wanted.items():
        job = adopted_job(cluster, stack.stack, key, job_id, JobColumns.STATUS)
        _check_claims(cluster, stack.stack, key, job, [j.id for j in own.get(key, [])])
        desired = stack.jobs[key]
        whole = cluster.read_whole_job(job_id).definition
        assert whole is not None, "a whole read has the definition"
        _check_tags(stack, key, job, whole.custom_properties)
        diffs = tuple(job_diffs(desired.definition, whole, job.state, task_extras=True))
        stamped = Stamp.NOTHING if diffs else _stamp(cluster, stack.stack, key, job, desired.digest)
        read = with_details(cluster, job, desired.digests or {desired.digest})
        change = decide(desired, read, PlanOptions(), adopted=True)
        out.append(Adoption(key, job, diffs, change, stamped))
    return out


def _check_claims(
    cluster: ClusterWriter, stack: str, key: str, job: LiveJob, own_ids: list[int]
) -> None:
    marker = identity.parse_marker(job.client_source)
    if marker is not None and (
        marker.stack_hash != identity.stack_hash(stack)
        or marker.key_hash != identity.key_hash(stack, key)
    ):
        tags = cluster.job_custom_properties(job.id).items()
        forgotten = custom_value(tags, identity.FORGOTTEN_TAG)
        if forgotten:  # `hpcspec forget`: released, yet still marked
            raise HpcspecError(
                f"job {job.id} was forgotten ({identity.FORGOTTEN_TAG}: {forgotten}), but its "
                f"ClientSource {job.client_source!r} still names that stack and key, and HPC "
                "Pack lets it change only while a job is Configuring: no other stack or key "
                "can take the job",
                code="adopted-elsewhere",
                hint="a job cannot move between stacks: let it end (or cancel it) and apply "
                "the key in its new stack; its old key, written again, takes it back",
            )
        raise HpcspecError(
            f"job {job.id} already belongs to another hpcspec stack or key "
            f"(ClientSource {job.client_source!r})",
            code="adopted-elsewhere",
            hint="one job is managed by one stack and key; import it under its own stack",
        )
    others = [i for i in own_ids if i != job.id]
    if others:
        raise HpcspecError(
            f"key {key!r} of stack {stack!r} already has job(s) of its own: "
            f"{', '.join(map(str, others))}",
            code="key-already-managed",
            hint="adopt a job only for a key hpcspec has not created a job for",
        )


def _check_tags(
    stack: ResolvedStack, key: str, job: LiveJob, custom: tuple[tuple[str, str], ...]
) -> None:
    """A job queued or running when it was adopted carries its claim in the identity tags
    alone (its ClientSource can no longer change): another stack or key is refused as for
    the marker; the tags of a key that `moved:` renames to this one are this key's, and a
    job `hpcspec forget` let go of is nobody's (`identity.claimed_elsewhere`, the one rule)."""
    claim = identity.claimed_elsewhere(stack.stack, key, job, dict(custom), stack.moved)
    if claim is None:
        return
    raise HpcspecError(
        f"job {job.id} already belongs to another hpcspec stack or key: {claim}",
        code="adopted-elsewhere",
        hint="one job is managed by one stack and key: remove it from that manifest and "
        "`hpcspec forget` it there first",
    )


def _stamp(cluster: ClusterWriter, stack: str, key: str, job: LiveJob, digest: str) -> Stamp:
    """Write the identity HPC Pack lets this job's state take, and say which."""
    if not job.state.is_alive:
        return Stamp.NOTHING
    tags = identity.identity_tags(stack, key, digest)
    if job.state is JobState.Configuring:
        marker = identity.client_source_marker(stack, key, digest)
        cluster.set_job(job.id, {"ClientSource": marker})
        cluster.set_job_custom_properties(job.id, tags)
        tagged(cluster, job.id, stack, key)
        return Stamp.MARKER
    try:  # a job on its way to the queue takes them once queued (`settling.py`)
        when_settled(cluster, job.id, partial(cluster.set_job_custom_properties, job.id, tags))
    except RefusedByState:  # a cluster that takes custom properties in fewer states
        return Stamp.NOTHING
    tagged(cluster, job.id, stack, key)
    return Stamp.TAGS
