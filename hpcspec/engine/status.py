"""Status: one row per job key — job id, state, tasks by state, runtime, failed tasks.

Costs one job listing plus one task listing per job that still has work (sweep instances
counted, since the task listing expands parametric sweeps); `with_sources` adds where each
job was applied from (one custom-property read per job). `wait.py` polls these rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from hpcspec.engine.discovery import choose_current, list_stack
from hpcspec.engine.identity import SOURCE_TAG
from hpcspec.engine.protocols import ClusterReader
from hpcspec.hpcpack.live import LiveJob, LiveTask
from hpcspec.hpcpack.states import JobState, TaskState

OUTPUT_LINES = 3


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
    def ended_badly(self) -> bool:
        """Ended Failed or Canceled: not the result the manifest asked for."""
        return self.state in ("Failed", "Canceled")


def stack_status(
    reader: ClusterReader,
    stack: str,
    keys: Sequence[str],
    *,
    now: datetime | None = None,
    adopted: Mapping[str, int] | None = None,
) -> list[JobStatus]:
    """Rows for `keys` (manifest order), then any other key the stack has on the cluster;
    `adopted`: the manifest's `adopt:` block."""
    listed = list_stack(reader, stack, keys, adopted=adopted).by_key
    rows = []
    for key in [*keys, *sorted(k for k in listed if k not in keys)]:
        jobs = listed.get(key)
        if not jobs:
            rows.append(JobStatus(key, None, "absent"))
            continue
        job = choose_current(jobs)[0]
        tasks = _tasks(reader, job)
        rows.append(job_status(key, job, tasks, now=now))
    return rows


def _tasks(reader: ClusterReader, job: LiveJob) -> list[LiveTask]:
    # Active jobs change; Failed ones are read for their failing tasks. Ended jobs that
    # finished cleanly cost nothing more.
    if not (job.state.is_active or job.state is JobState.Failed):
        return []
    return reader.list_tasks(job.id, expand_sweeps=True)


def job_status(
    key: str, job: LiveJob, tasks: Sequence[LiveTask], *, now: datetime | None = None
) -> JobStatus:
    """A row from a listed job and its (expanded) tasks."""
    counts = Counter(t.state.name for t in tasks if t.state.name)
    total = len(tasks)
    if not tasks and job.task_counts:  # not read: the job's own counters say enough
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


def with_sources(reader: ClusterReader, rows: Sequence[JobStatus]) -> list[JobStatus]:
    """Rows with each job's `hpcspec.source` (one custom-property read per job: a job
    listing cannot return custom properties)."""
    out = []
    for row in rows:
        if row.job_id is not None and not row.source:
            custom = reader.job_custom_properties(row.job_id)
            source = next((v for k, v in custom.items() if k.lower() == SOURCE_TAG), "")
            row = replace(row, source=source)
        out.append(row)
    return out
