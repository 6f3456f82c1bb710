"""Status: one row per job key — job id, state, tasks by state, runtime, failed tasks.

Costs the job listing's pages plus one task listing per job that has failed tasks to
explain (only its Failed tasks, sweep instances expanded; a few such jobs at a time): a
job's tasks by state are its own counters, which the listing returns (they count sweep
instances, as the store does). `with_sources` adds where each job was applied from (one
custom-property read per job not read before, a few at a time). `wait.py` polls these rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from hpcspec.engine.discovery import choose_current, list_stack
from hpcspec.engine.identity import SOURCE_TAG
from hpcspec.engine.protocols import ClusterReader
from hpcspec.hpcpack.live import LiveJob, LiveTask, custom_value
from hpcspec.hpcpack.states import JobState, TaskState

OUTPUT_LINES = 3
TASK_READERS = 8  # jobs whose tasks (or sources) are read at once (the client is thread-safe)


@dataclass(frozen=True)
class FailedTask:
    name: str
    task_id: int
    instance_id: int
    exit_code: int | None
    output: tuple[str, ...]  # its first lines


@dataclass(frozen=True)
class JobStatus:
    """What `hpcspec status` shows for one job key."""

    key: str
    job_id: int | None
    state: str  # a JobState name, or "absent"
    tasks: Mapping[str, int] = field(default_factory=dict)  # TaskState name → count
    total_tasks: int = 0
    runtime_seconds: int | None = None
    failed: tuple[FailedTask, ...] = ()
    source: str = ""
    error_message: str = ""
    requeue_count: int = 0

    @property
    def ended(self) -> bool:
        return self.state in ("Finished", "Failed", "Canceled", "absent")

    @property
    def canceled_tasks(self) -> int:
        """Tasks that were canceled (a job finished by hand cancels every task not done)."""
        return self.tasks.get("Canceled", 0)

    @property
    def ended_badly(self) -> bool:
        """Ended Failed or Canceled, or has no job, or Finished with tasks that were canceled
        (finished by hand: `POST /jobs/{id}/finish`, or a task canceled): not the result the
        manifest asked for, which is every task run."""
        if self.state == "Finished":
            return self.canceled_tasks > 0
        return self.state in ("Failed", "Canceled", "absent")


def stack_status(
    reader: ClusterReader,
    stack: str,
    keys: Sequence[str],
    *,
    now: datetime | None = None,
    adopted: Mapping[str, int] | None = None,
    moved: Mapping[str, str] | None = None,
    known: dict[int, tuple[tuple[str, str], ...]] | None = None,
) -> list[JobStatus]:
    """Rows for `keys` (manifest order), then any other key the stack has on the cluster;
    `adopted` and `moved`: the manifest's `adopt:` and `moved:` blocks. Jobs of keys not in
    `keys` (all of them for `status --stack`) cost a custom-property read each to learn their
    key, once per job id kept in `known` across refreshes."""
    listed = list_stack(reader, stack, keys, adopted=adopted, moved=moved, known=known).by_key
    order = [*keys, *sorted(k for k in listed if k not in keys)]
    current = {key: choose_current(listed[key])[0] for key in order if listed.get(key)}
    tasks = _read_tasks(reader, list(current.values()))
    rows = []
    for key in order:
        job = current.get(key)
        if job is None:
            rows.append(JobStatus(key, None, "absent"))
            continue
        rows.append(job_status(key, job, tasks.get(job.id, []), now=now))
    return rows


def _needs_tasks(job: LiveJob) -> bool:
    """Whether status reads a job's tasks: when it has failed tasks to explain, or — from a
    server that returned no task counters — while it is active or Failed."""
    if job.task_counts:
        return dict(job.task_counts).get("Failed", 0) > 0
    return job.state.is_active or job.state is JobState.Failed


def _read_tasks(reader: ClusterReader, jobs: Sequence[LiveJob]) -> dict[int, list[LiveTask]]:
    """The tasks of the jobs that need them, `TASK_READERS` jobs at a time, by job id: only
    the Failed ones when the job's counters give the rest."""
    wanted = [job for job in jobs if _needs_tasks(job)]
    if not wanted:
        return {}

    def read(job: LiveJob) -> list[LiveTask]:
        state = TaskState.Failed if job.task_counts else None
        return reader.list_tasks(job.id, expand_sweeps=True, state=state)

    with ThreadPoolExecutor(max_workers=min(TASK_READERS, len(wanted))) as pool:
        return dict(zip((job.id for job in wanted), pool.map(read, wanted), strict=True))


def job_status(
    key: str, job: LiveJob, tasks: Sequence[LiveTask], *, now: datetime | None = None
) -> JobStatus:
    """A row from a listed job and its (expanded) tasks."""
    counts = Counter(t.state.name for t in tasks if t.state.name)
    total = len(tasks)
    if job.task_counts:  # the job's own counters: every task by state, from the listing
        counted = dict(job.task_counts)
        total = counted.pop("Total", sum(counted.values()))
        counts = Counter(counted)
    failed = tuple(
        FailedTask(
            t.name,
            t.task_id,
            t.instance_id,
            t.exit_code,
            tuple(t.output.splitlines()[:OUTPUT_LINES]),
        )
        for t in tasks
        if t.state is TaskState.Failed
    )
    return JobStatus(
        key=key,
        job_id=job.id,
        state=job.state.name or "",
        tasks=dict(counts),
        total_tasks=total,
        runtime_seconds=_runtime(job, now),
        failed=failed,
        source=job.custom(SOURCE_TAG) or "",
        error_message=job.error_message,
        requeue_count=job.requeue_count,
    )


def _runtime(job: LiveJob, now: datetime | None) -> int | None:
    if job.start_time is None:
        return None
    end = job.end_time or now or datetime.now(UTC)
    start = job.start_time if job.start_time.tzinfo else job.start_time.replace(tzinfo=UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    return max(0, int((end - start).total_seconds()))


def with_sources(
    reader: ClusterReader, rows: Sequence[JobStatus], known: dict[int, str] | None = None
) -> list[JobStatus]:
    """Rows with each job's `hpcspec.source`: one custom-property read per job (a job listing
    cannot return custom properties), `TASK_READERS` at a time. A job's source is stamped
    when it is created, so `known` (job id → source) keeps them across `--watch` refreshes."""
    known = {} if known is None else known
    unread = sorted({r.job_id for r in rows if r.job_id is not None and not r.source} - set(known))

    def read(job_id: int) -> str:
        custom = reader.job_custom_properties(job_id)
        return custom_value(custom.items(), SOURCE_TAG) or ""

    if unread:
        with ThreadPoolExecutor(max_workers=min(TASK_READERS, len(unread))) as pool:
            known.update(zip(unread, pool.map(read, unread), strict=True))
    return [
        replace(r, source=known[r.job_id]) if r.job_id in known and not r.source else r
        for r in rows
    ]
