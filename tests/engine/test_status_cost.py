"""Status reads the listing, plus only the Failed tasks of jobs that have some (issue 17)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from hpcspec.engine.identity import client_source_marker
from hpcspec.engine.protocols import JobColumns
from hpcspec.engine.status import stack_status, with_sources
from hpcspec.hpcpack.live import LiveJob, LiveTask
from hpcspec.hpcpack.states import JobState, TaskState

STACK = "s"


@dataclass
class Listing:
    jobs: list[LiveJob]
    rows: int = 0

    def __iter__(self) -> Iterator[LiveJob]:
        self.rows = len(self.jobs)
        return iter(self.jobs)


@dataclass
class CountingReader:
    jobs: list[LiveJob]
    calls: list[tuple[str, int, TaskState | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def list_jobs(
        self,
        *,
        columns: JobColumns = JobColumns.STATUS,
        owner: str | None = None,
        client_source_prefix: str = "",
        properties: Sequence[str] = (),
        name_prefix: str = "",
    ) -> Listing:
        return Listing(self.jobs)

    def job_state(self, job_id: int) -> JobState:
        raise AssertionError("status reads states from the listing")

    def job_custom_properties(self, job_id: int) -> Mapping[str, str]:
        with self.lock:
            self.calls.append(("custom", job_id, None))
        return {"HPCSPEC.SOURCE": f"m.yaml@{job_id}", "hpcspec.key": f"k{job_id}"}

    def read_details(self, job: LiveJob) -> LiveJob:
        raise AssertionError("status never reads details")

    def list_tasks(
        self, job_id: int, *, expand_sweeps: bool, state: TaskState | None = None
    ) -> list[LiveTask]:
        assert expand_sweeps
        with self.lock:
            self.calls.append(("tasks", job_id, state))
        tasks = [
            LiveTask(1, "a", TaskState.Failed, exit_code=3, output="boom\nmore"),
            LiveTask(2, "b", TaskState.Running),
        ]
        return [t for t in tasks if state is None or t.state is state]


def job(job_id: int, key: str, state: JobState, counts: dict[str, int] | None) -> LiveJob:
    counters = () if counts is None else (*counts.items(), ("Total", sum(counts.values())))
    marker = client_source_marker(STACK, key, "d" * 8)
    return LiveJob(job_id, state, client_source=marker, task_counts=tuple(counters))


def test_status_reads_only_the_failed_tasks_of_jobs_that_have_failed_tasks() -> None:
    reader = CountingReader(
        [
            job(1, "running", JobState.Running, {"Running": 5, "Queued": 3}),
            job(2, "failed", JobState.Failed, {"Failed": 1, "Finished": 4}),
            job(3, "done", JobState.Finished, {"Finished": 2}),
            job(4, "tolerated", JobState.Running, {"Failed": 1, "Running": 1}),
        ]
    )
    rows = {
        r.key: r
        for r in stack_status(reader, STACK, ["running", "failed", "done", "tolerated", "x"])
    }
    assert sorted(reader.calls) == [("tasks", 2, TaskState.Failed), ("tasks", 4, TaskState.Failed)]
    assert rows["running"].tasks == {"Running": 5, "Queued": 3}
    assert rows["running"].total_tasks == 8 and not rows["running"].failed
    assert rows["failed"].tasks == {"Failed": 1, "Finished": 4}
    assert [(f.task_id, f.exit_code, f.output) for f in rows["failed"].failed] == [
        (1, 3, ("boom", "more"))
    ]
    assert rows["x"].state == "absent" and rows["x"].job_id is None


def test_a_server_without_task_counters_still_gets_every_task_read() -> None:
    reader = CountingReader(
        [job(1, "a", JobState.Running, None), job(2, "b", JobState.Finished, None)]
    )
    rows = stack_status(reader, STACK, ["a", "b"])
    assert reader.calls == [("tasks", 1, None)]
    assert rows[0].tasks == {"Failed": 1, "Running": 1} and rows[0].total_tasks == 2
    assert rows[1].total_tasks == 0


def test_sources_are_read_once_per_job_across_refreshes() -> None:
    reader = CountingReader([job(n, f"k{n}", JobState.Finished, {"Finished": 1}) for n in (1, 2)])
    known: dict[int, str] = {}
    for _ in range(3):
        rows = with_sources(reader, stack_status(reader, STACK, ["k1", "k2"]), known)
    assert [r.source for r in rows] == ["m.yaml@1", "m.yaml@2"]
    assert sorted(reader.calls) == [("custom", 1, None), ("custom", 2, None)]


def test_status_by_stack_name_reads_each_jobs_key_once_across_refreshes() -> None:
    reader = CountingReader([job(n, f"k{n}", JobState.Finished, {"Finished": 1}) for n in (1, 2)])
    known: dict[int, tuple[tuple[str, str], ...]] = {}
    for _ in range(3):
        rows = stack_status(reader, STACK, [], known=known)  # `status --stack`: no manifest
    assert [(r.key, r.source) for r in rows] == [("k1", "m.yaml@1"), ("k2", "m.yaml@2")]
    assert sorted(reader.calls) == [("custom", 1, None), ("custom", 2, None)]
