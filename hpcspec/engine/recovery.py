"""Resuming after an interrupted apply: settle the jobs a killed apply left pending.

A job keeps its pending Name (`identity.pending_name`) from its create until `mark` makes it
complete, so a job left between the two by a killed apply — this runner's or any other's,
with or without a journal — is in the stack's listing. Before planning, each is settled:

- a job XML create (one request: the job is whole) of a key the manifest still has, with the
  digest the manifest still wants, while the key has no other alive job: **adopted** (marked),
  so the plan submits it instead of creating a second one;
- anything else — a REST create (it may lack tasks), another digest, a key the manifest
  dropped, a second pending job of one key: **cancelled**, and the plan creates anew.

This runs while the apply holds the stack lock, so no live applier is building those jobs
(with `--no-lock`, only the jobs this journal itself left open are touched, from a listing
made again until it shows them, on a cluster whose listing lags: `unlocked_listing`). The journal's
open creates are closed from the same listing: one listing settles them all, no lookup per
create. A job that cannot be settled stops the stack's apply with its id and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from hpcspec.engine import exactly_once
from hpcspec.engine.discovery import StackJobs, list_stack
from hpcspec.engine.exactly_once import CreateRequest
from hpcspec.engine.identity import INCOMPLETE_JOB, JobIdentity
from hpcspec.engine.journal import Journal, JournalEvent
from hpcspec.engine.listing_lag import Patience
from hpcspec.engine.protocols import ClusterWriter
from hpcspec.engine.steps import CreateMethod
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState
from hpcspec.manifest.resolve import ResolvedStack


@dataclass(frozen=True)
class Recovered:
    """What recovery did: the jobs it adopted (marked) and those it cancelled."""

    adopted: tuple[int, ...] = ()
    cancelled: tuple[int, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.adopted or self.cancelled)


class RecoveryFailed(HpcspecError):
    """A job an interrupted apply left pending could not be adopted or cancelled."""


def unlocked_listing(cluster: ClusterWriter, stack: ResolvedStack, journal: Journal) -> StackJobs:
    """The listing recovery reads without the stack lock (whose own listing shows every job
    made before its lock job): listed again (`listing_lag.Patience`) until it shows the job
    of every create this journal left open — by its token, or its id once known — or the
    bound has passed. A kill moments ago leaves jobs a lagging listing does not show yet;
    closed as never made, their keys would be created again and lose the race to them."""
    opened = [p for p in journal.pending_creates() if not p.in_flight()]
    patience = Patience.of(cluster) if opened else Patience(0.0)
    keys = list(stack.jobs)
    for listed in patience.listings(lambda: list_stack(cluster, stack.stack, keys)):
        tokens = {found.token for found in listed.identities.values()}
        if all(p.token in tokens or p.job_id in listed.identities for p in opened):
            break
    return listed


def recover(
    cluster: ClusterWriter,
    stack: ResolvedStack,
    journal: Journal,
    listed: StackJobs,
    *,
    every_pending: bool = True,
) -> Recovered:
    """Adopt or cancel the stack's pending jobs in `listed` (`every_pending`: all of them,
    as the holder of the stack lock; else only those this journal left open, and of those
    not one another apply that still runs may be building: `PendingCreate.in_flight`), then
    close the journal's open creates."""
    opened = journal.pending_creates()
    busy = set() if every_pending else {p.token for p in opened if p.in_flight()}
    open_creates = {p.token: p for p in opened if p.token not in busy}
    adopted: list[int] = []
    cancelled: list[int] = []
    for key, jobs in sorted(listed.pending.items()):
        has_alive = any(job.state.is_alive for job in listed.by_key.get(key, ()))
        for job in sorted(jobs, key=lambda j: j.id):
            identity = listed.identities[job.id]
            if job.state is not JobState.Configuring:
                continue
            if not every_pending and identity.token not in open_creates:
                continue
            why = _why_not_adopted(stack, key, identity, has_alive)
            if why is None:
                _adopt(cluster, stack, journal, key, job, identity)
                adopted.append(job.id)
                has_alive = True
            else:
                _cancel(cluster, journal, key, job, identity, why)
                cancelled.append(job.id)
            open_creates.pop(identity.token, None)
    for token, create in open_creates.items():  # its job is no longer pending: done elsewhere
        if create.job_id is not None:
            journal.record(JournalEvent.MARKED, create.key, job_id=create.job_id, note="settled")
        else:
            journal.record(JournalEvent.CREATE_ABSENT, create.key, token=token)
    return Recovered(tuple(adopted), tuple(cancelled))


def _why_not_adopted(
    stack: ResolvedStack, key: str, identity: JobIdentity, has_alive: bool
) -> str | None:
    desired = stack.jobs.get(key)
    if desired is None:
        return "its key is no longer in the manifest"
    if identity.via is not CreateMethod.XML:
        return "an incomplete REST create"
    if not desired.made_from(identity.digest):  # an earlier hpcspec's digest of it too
        return "the manifest changed"
    if has_alive:
        return "its key has another job"
    return None


def _adopt(
    cluster: ClusterWriter,
    stack: ResolvedStack,
    journal: Journal,
    key: str,
    job: LiveJob,
    identity: JobIdentity,
) -> None:
    desired = stack.jobs[key]
    request = CreateRequest(stack.stack, key, desired.digest, desired.definition)
    try:
        exactly_once.mark(cluster, request, job.id, via=CreateMethod.XML)
    except HpcspecError as error:
        raise RecoveryFailed(
            f"job {job.id} ({key}), left unfinished by an interrupted apply, could not be "
            f"completed: {error.message}",
            code="recovery-failed",
            hint="run apply again; if it keeps failing, cancel that job",
        ) from None
    token = identity.token
    journal.record(JournalEvent.CREATE_RESULT, key, token=token, job_id=job.id, note="recovered")
    journal.record(JournalEvent.MARKED, key, job_id=job.id)


def _cancel(
    cluster: ClusterWriter,
    journal: Journal,
    key: str,
    job: LiveJob,
    identity: JobIdentity,
    why: str,
) -> None:
    if not exactly_once.discard(cluster, job.id, f"{INCOMPLETE_JOB}, cancelled: {why}"):
        raise RecoveryFailed(
            f"job {job.id} ({key}, owner {job.owner or 'unknown'}), left unfinished by an "
            f"interrupted apply ({why}), could not be cancelled",
            code="recovery-failed",
            hint="run apply again; if it keeps failing, ask the job's owner or a cluster "
            "administrator to cancel it",
        )
    note = why
    journal.record(JournalEvent.CREATE_ABSENT, key, token=identity.token, job_id=job.id, note=note)
