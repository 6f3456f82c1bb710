"""Finding the job of a create whose answer was lost, on a listing that may lag its writes.

Part of exactly-once (`exactly_once.create_once`; docs/apply.md, "A listing behind its
writes"). After an unclear create answer, `look_up` lists the stack for the attempt's token
(its job's pending Name carries it). No such job in a listing proves nothing until the
listing is known to be recent enough: it shows a job whose create was sent after the unclear
answer (`listing_lag.CreateLog`; ids follow creation order, so our job would be listed too) —
then the absence is **proven** — or the listing-lag bound has passed, and the absence is only
**assumed**. A create sent again after an assumed absence makes a job that is itself such a
witness: `earlier_job` lists until the new job shows and looks for the earlier attempts' jobs
once more, so a job made by a lost create is found even if it was listed later than the bound.
A REST create's task adds are looked up the same way in the job's task listing
(`task_by_name`, `named_twice`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from hpcspec.engine.discovery import StackJobs, identify, list_stack
from hpcspec.engine.listing_lag import Patience, create_log
from hpcspec.engine.protocols import ClusterReader, ClusterWriter, JobColumns


@dataclass(frozen=True)
class Lookup:
    """What a lost write made (a job or task id; None: none found), and whether a none was
    proven by a recent listing."""

    found: int | None
    proven: bool = True


def _listing(cluster: ClusterReader, stack: str, key: str) -> StackJobs:
    return list_stack(cluster, stack, [key], columns=JobColumns.IDENTITY, read_orphans=False)


def _carrying(listed: StackJobs, key: str, tokens: Collection[str]) -> list[tuple[int, str]]:
    """The key's pending jobs whose token is one of `tokens`, lowest id first."""
    found = []
    for job in listed.pending.get(key, []):
        seen = identify(job)
        if seen is not None and seen.token in tokens:
            found.append((job.id, seen.token))
    return sorted(found)


def look_up(
    cluster: ClusterReader,
    stack: str,
    key: str,
    token: str,
    *,
    since: float | None = None,
    patience: Patience | None = None,
) -> Lookup:
    """The job carrying `token`, listed again until it shows, a listing shows a job whose
    create was sent after `since` (absence proven), or the bound passed (absence assumed)."""
    patience = patience or Patience.of(cluster)
    witnesses = create_log(cluster)
    for listed in patience.listings(lambda: _listing(cluster, stack, key)):
        found = _carrying(listed, key, {token})
        if found:
            return Lookup(found[0][0])
        later = witnesses.sent_after(since) if since is not None else set()
        if later & listed.identities.keys():
            return Lookup(None)  # a later job is listed, so ours would be: there is none
    return Lookup(None, proven=patience.bound == 0)


def earlier_job(
    cluster: ClusterReader,
    stack: str,
    key: str,
    newer: int,
    tokens: Collection[str],
    patience: Patience | None = None,
) -> tuple[int, str] | None:
    """After job `newer` was created following an assumed absence: the (lowest) job an
    earlier attempt carrying one of `tokens` made after all, and its token, from a listing
    that shows `newer`; None when there is none, or when no listing showed `newer` within
    the bound (its race check then cannot decide either, and fails safe)."""
    patience = patience or Patience.of(cluster)
    for listed in patience.listings(lambda: _listing(cluster, stack, key)):
        if newer in listed.identities:
            found = _carrying(listed, key, tokens)
            return found[0] if found else None
    return None


def task_by_name(
    cluster: ClusterWriter,
    job_id: int,
    name: str,
    *,
    since: float | None = None,
    patience: Patience | None = None,
) -> Lookup:
    """The task named `name` an unclear add to job `job_id` made (names are unique in a job),
    from the job's task listing, read again as `look_up` lists: a task of the job whose add
    was sent after `since` is the witness (JobTaskIds follow the order adds arrive in). Names
    match in any case, as plan compares them: a manifest's task names differ in more than
    case, and a server may answer them in its own."""
    patience = patience or Patience.of(cluster)
    witnesses = create_log(cluster)
    for ids in patience.listings(lambda: cluster.task_ids(job_id)):
        by_name = {listed.lower(): task_id for listed, task_id in ids.items()}
        if name.lower() in by_name:
            return Lookup(by_name[name.lower()])
        later = witnesses.sent_after(since) if since is not None else set()
        if later & {(job_id, task_id) for task_id in ids.values()}:
            return Lookup(None)
    return Lookup(None, proven=patience.bound == 0)


def named_twice(
    cluster: ClusterWriter, job_id: int, name: str, newer: int, patience: Patience | None = None
) -> bool:
    """After task `newer` was added again following an assumed absence: whether the job's
    task listing, once it shows `newer`, shows another task named `name` (the lost add's)."""
    patience = patience or Patience.of(cluster)
    for tasks in patience.listings(lambda: cluster.list_tasks(job_id, expand_sweeps=False)):
        if any(task.task_id == newer for task in tasks):
            return sum(task.name.lower() == name.lower() for task in tasks) > 1
    return False
