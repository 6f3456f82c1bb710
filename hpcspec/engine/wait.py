"""`--wait`: follow a run's jobs until they end, requeuing Failed ones per `retries`.

Each poll reads the stacks' status rows (one listing per stack, plus task listings of jobs
with work); the observer hears every poll (progress bars), each state change, each requeue,
a heartbeat when nothing changed for a while, and the verdict: all finished, some failed or
cancelled, or timed out. Only the jobs the run selected are followed (`followed_keys`): keys
left out by `--target`/`--exclude`, removed keys and keys not meant to run never decide the
verdict. A Failed job is requeued while its requeue count is below the manifest's `retries` —
its failed and canceled tasks only, as apply's retries and `hpcspec requeue --failed-only` do
(`rescue.requeue_failed`) — and the wait goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from hpcspec.engine.events import (
    JobRequeued,
    JobStateChanged,
    Observer,
    StillWaiting,
    WaitEnded,
    WaitPolled,
)
from hpcspec.engine.outcomes import WaitVerdict
from hpcspec.engine.protocols import ClusterReader, RescueCluster
from hpcspec.engine.rescue import requeue_failed
from hpcspec.engine.status import JobStatus, stack_status
from hpcspec.manifest.resolve import DesiredState, ResolvedStack

POLL_SECONDS = 2.0  # how often the stacks are read while waiting, once the wait has gone on
FIRST_POLL_SECONDS = 0.25  # the first gap; gaps double up to POLL_SECONDS, so short jobs end fast
HEARTBEAT_SECONDS = 30.0  # a line saying what is still running, when nothing changed


@dataclass(frozen=True)
class Waited:
    """How the wait ended and the last rows it read."""

    verdict: WaitVerdict
    rows: tuple[JobStatus, ...]


class Requeuer(ClusterReader, RescueCluster, Protocol):
    """A reader that can also requeue jobs and tasks (the REST client)."""


def wait_for_stacks(
    cluster: Requeuer,
    stacks: Sequence[ResolvedStack],
    *,
    timeout: float | None,
    observer: Observer,
    interval: float | None = None,
    selects: Callable[[str], bool] = lambda _: True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Waited:
    """Wait for the followed jobs of `stacks` to end (rows keyed `stack/key`); the verdict
    is decided from them alone (`followed_keys`)."""
    retries = {(s.stack, k): j.retries for s in stacks for k, j in s.jobs.items()}
    followed = {s.stack: followed_keys(s, selects) for s in stacks}

    def poll() -> list[JobStatus]:
        rows: list[JobStatus] = []
        for stack in stacks:
            keys = followed[stack.stack]
            if not keys:
                continue
            found = stack_status(
                cluster, stack.stack, keys, adopted=stack.adopted, moved=stack.moved
            )
            rows += [replace(r, key=f"{stack.stack}/{r.key}") for r in found if r.key in keys]
        return rows

    def requeue(row: JobStatus) -> bool:
        stack, _, key = row.key.partition("/")
        allowed = retries.get((stack, key), 0)
        if row.job_id is None or row.requeue_count >= allowed:
            return False
        requeue_failed(cluster, row.job_id)
        observer.notify(JobRequeued(row, row.requeue_count + 1, allowed))
        return True

    return wait_for(
        poll,
        timeout=timeout,
        observer=observer,
        interval=POLL_SECONDS if interval is None else interval,
        requeue=requeue,
        clock=clock,
        sleep=sleep,
    )


def followed_keys(stack: ResolvedStack, selects: Callable[[str], bool]) -> list[str]:
    """The keys `--wait` follows: those the run selected (`--target`/`--exclude`) whose
    manifest wants them submitted — not removed keys, not `state: configuring` or `canceled`
    ones (they never run, or are meant to end cancelled)."""
    return [
        key
        for key, job in stack.jobs.items()
        if selects(key) and job.state is DesiredState.SUBMITTED
    ]


def wait_for(
    poll: Callable[[], list[JobStatus]],
    *,
    timeout: float | None,
    observer: Observer,
    interval: float = POLL_SECONDS,
    requeue: Callable[[JobStatus], bool] | None = None,
    heartbeat_every: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Waited:
    """Poll until every job ended; `requeue(row)` is asked for each Failed row and returns
    True when it requeued the job (the wait then goes on)."""
    every = HEARTBEAT_SECONDS if heartbeat_every is None else heartbeat_every
    started = last_beat = clock()
    seen: dict[str, str] = {}
    gap = min(FIRST_POLL_SECONDS, interval)
    while True:
        rows = poll()
        observer.notify(WaitPolled(tuple(rows)))
        for row in rows:
            if seen.get(row.key) != row.state:
                observer.notify(JobStateChanged(row, seen.get(row.key)))
                seen[row.key] = row.state
        retried = [r for r in rows if r.state == "Failed" and requeue is not None and requeue(r)]
        if not retried and all(r.ended for r in rows):
            bad = any(r.ended_badly for r in rows)
            return _ended(observer, WaitVerdict.FAILED if bad else WaitVerdict.FINISHED, rows)
        if timeout is not None and clock() - started >= timeout:
            # A job that already ended badly decides: the run cannot turn out all finished.
            bad = any(r.ended_badly and r not in retried for r in rows)
            return _ended(observer, WaitVerdict.FAILED if bad else WaitVerdict.TIMED_OUT, rows)
        if clock() - last_beat >= every:
            observer.notify(StillWaiting(tuple(r for r in rows if not r.ended)))
            last_beat = clock()
        sleep(gap)
        gap = min(gap * 2, interval)


def _ended(observer: Observer, verdict: WaitVerdict, rows: list[JobStatus]) -> Waited:
    observer.notify(WaitEnded(verdict, tuple(rows)))
    return Waited(verdict, tuple(rows))
