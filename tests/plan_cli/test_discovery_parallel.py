"""Discovery reads the details of changed jobs a few at a time (they wait on the network), and
the result is the same as reading them one by one."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace

from hpcspec.engine.discovery import DETAIL_READERS, discover
from hpcspec.engine.identity import client_source_marker
from hpcspec.engine.protocols import JobColumns
from hpcspec.hpcpack.definition import JobDefinition, TaskDefinition
from hpcspec.hpcpack.live import LiveJob, LiveTask
from hpcspec.hpcpack.states import JobState, TaskState

STACK = "par"


class Listing(list[LiveJob]):
    """A listing's jobs, every row matching."""

    @property
    def rows(self) -> int:
        return len(self)


class SlowReader:
    """A ClusterReader whose detail reads meet at a barrier: sequential reads never pass it."""

    def __init__(self, keys: Sequence[str], parties: int) -> None:
        self.keys = keys
        self.barrier = threading.Barrier(parties, timeout=5)
        self.lock = threading.Lock()
        self.active = self.most = 0

    def list_jobs(
        self,
        *,
        columns: JobColumns = JobColumns.STATUS,
        owner: str | None = None,
        client_source_prefix: str = "",
        properties: Sequence[str] = (),
        name_prefix: str = "",
    ) -> Listing:
        markers = [client_source_marker(STACK, key, "old-digest") for key in self.keys]
        return Listing(
            # Queued: a Configuring job is read whole instead (`discovery.read_whole`)
            LiveJob(job_id, JobState.Queued, name=key, client_source=marker)
            for job_id, (key, marker) in enumerate(zip(self.keys, markers, strict=True), 1)
        )

    def read_details(self, job: LiveJob) -> LiveJob:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            self.barrier.wait()
        finally:
            with self.lock:
                self.active -= 1
        task = TaskDefinition("t", f"c{job.id}")
        definition = JobDefinition(env=(("JOB", str(job.id)),), tasks=(task,))
        return replace(job, definition=definition, tasks=(LiveTask(1, "t", TaskState.Queued),))

    def job_state(self, job_id: int) -> JobState:
        return JobState.Queued

    def job_custom_properties(self, job_id: int) -> Mapping[str, str]:
        return {"hpcspec.key": self.keys[job_id - 1]}

    def list_tasks(
        self, job_id: int, *, expand_sweeps: bool, state: TaskState | None = None
    ) -> list[LiveTask]:
        return []


def test_changed_jobs_details_are_read_concurrently_and_in_key_order() -> None:
    keys = [f"k{i}" for i in range(2 * DETAIL_READERS)]
    reader = SlowReader(keys, parties=DETAIL_READERS)
    live = discover(reader, STACK, {k: "new-digest" for k in keys})
    assert reader.most == DETAIL_READERS  # never more than the pool's size at once
    assert list(live.current) == keys
    for job_id, key in enumerate(keys, start=1):
        job = live.current[key]
        assert job.id == job_id and job.definition is not None
        assert job.definition.env == (("JOB", str(job_id)),)
        assert [t.name for t in job.tasks] == ["t"]


def test_unchanged_jobs_need_no_reads() -> None:
    keys = ["a", "b"]
    reader = SlowReader(keys, parties=2)
    live = discover(reader, STACK, {k: "old-digest" for k in keys})
    assert reader.most == 0 and all(j.definition is None for j in live.current.values())


def test_a_job_carrying_a_digest_its_key_still_accepts_needs_no_reads() -> None:
    """A job an earlier hpcspec applied carries that version's digest for the same spec
    (`DesiredJob.digests`): the listing decides, no detail read on every plan (the second
    review: four more requests per such job, every plan and reconcile round)."""
    keys = ["a", "b"]
    reader = SlowReader(keys, parties=2)
    live = discover(reader, STACK, {k: frozenset({"new-digest", "old-digest"}) for k in keys})
    assert reader.most == 0 and all(j.definition is None for j in live.current.values())
