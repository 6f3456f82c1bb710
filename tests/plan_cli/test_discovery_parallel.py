"""Discovery reads the details of changed jobs a few at a time (they wait on the network), and
the result is the same as reading them one by one."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from hpcspec.engine.discovery import DETAIL_READERS, discover
from hpcspec.engine.identity import client_source_marker

STACK = "par"


class SlowReader:
    """A JobReader whose job reads meet at a barrier: sequential reads would never pass it."""

    def __init__(self, keys: Sequence[str], parties: int) -> None:
        self.keys = keys
        self.barrier = threading.Barrier(parties, timeout=5)
        self.lock = threading.Lock()
        self.active = self.most = 0

    def iter_jobs(
        self, *, properties: Sequence[str], owner: str | None = None, rows_per_read: int = 1000
    ) -> Iterator[Mapping[str, str]]:
        for job_id, key in enumerate(self.keys, start=1):
            yield {
                "Id": str(job_id),
                "State": "Configuring",
                "Name": key,
                "ClientSource": client_source_marker(STACK, key, "old-digest"),
            }

    def job_properties(self, job_id: int) -> Mapping[str, str]:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            self.barrier.wait()
        finally:
            with self.lock:
                self.active -= 1
        return {"Id": str(job_id), "Name": self.keys[job_id - 1], "State": "Configuring"}

    def job_custom_properties(self, job_id: int) -> Mapping[str, str]:
        return {"hpcspec.key": self.keys[job_id - 1]}

    def job_env(self, job_id: int) -> Mapping[str, str]:
        return {"JOB": str(job_id)}

    def iter_tasks(
        self, job_id: int, *, properties: Sequence[str], expand_parametric: bool
    ) -> Iterator[Mapping[str, str]]:
        yield {"JobTaskId": "1", "Name": "t", "State": "Configuring", "CommandLine": f"c{job_id}"}

    def parse_time(self, text: str) -> datetime | None:
        return None


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
