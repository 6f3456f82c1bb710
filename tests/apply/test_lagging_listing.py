"""Racing appliers on a cluster whose job listing lags its writes (docs/apply.md, "Racing
appliers": the re-check after submit is to cover a server that lists a new job late).

The references say nothing of how soon `GET /jobs` shows a job its create answered. Here it
behaves like a read replica a little behind: a listing shows the jobs below the first one
created less than `LAG` seconds ago, never a later one without an earlier one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.emulator import Timings
from hpcspec.engine.events import Recorder
from hpcspec.engine.lock import LockOptions, StackLock
from hpcspec.engine.pipeline import ApplyRequest, apply_stacks
from hpcspec.engine.steps import ApplyOptions
from hpcspec.errors import HpcspecError
from hpcspec.manifest.resolve import ResolvedStack
from tests.apply.stacks import audit, make_stack, patient_client

LAG = 0.3
CREATES = ("/hpc/jobs", "/hpc/jobs/jobFile")


class LaggingListing:
    """WSGI middleware: `GET /hpc/jobs` lists a new job only `lag` seconds after its create."""

    def __init__(self, app: Callable[..., Iterable[bytes]], lag: float) -> None:
        self.app, self.lag = app, lag
        self.born: dict[int, float] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        route = (environ["REQUEST_METHOD"], environ["PATH_INFO"])
        answer: list[Any] = []
        body = b"".join(self.app(environ, lambda *a: answer.extend(a)))
        status, headers = answer[0], answer[1]
        if status.startswith("200") and route[0] == "POST" and route[1] in CREATES:
            with self._lock:
                self.born[int(json.loads(body))] = time.monotonic()
        elif status.startswith("200") and route == ("GET", "/hpc/jobs"):
            body = json.dumps([r for r in json.loads(body) if self._listed(r)]).encode()
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        start(status, headers)
        return [body]

    def _listed(self, row: dict[str, Any]) -> bool:
        job_id = next(int(p["Value"]) for p in row["Properties"] if p["Name"] == "Id")
        now = time.monotonic()
        with self._lock:
            young = [i for i, born in self.born.items() if now - born < self.lag]
        return job_id < min(young, default=job_id + 1)


def apply(running: Any, stack: ResolvedStack, journals: Path) -> bool:
    """One apply without the stack lock (the race rule alone must hold, docs/apply.md):
    whether it had changes to make."""
    client = patient_client(running)
    request = ApplyRequest(
        cluster_name="emulator",
        options=ApplyOptions(parallelism=4),
        journal_root=journals,
        lock=LockOptions(enabled=False),
    )
    try:
        report = apply_stacks(client, [stack], request, observer=Recorder(), confirm=lambda _: True)
    except HpcspecError:
        return True
    finally:
        client.close()
    return report.plans[0].has_changes


@pytest.mark.slow
def test_two_appliers_on_a_lagging_listing_never_submit_a_key_twice(
    start_emulator: Callable[..., Any], tmp_path: Path
) -> None:
    running = start_emulator(nodes=4, cores_per_node=8, timings=Timings(tick=0.5, simulate=0.05))
    running.emulator.server.app = LaggingListing(running.emulator.server.app, LAG)
    stack = make_stack("lag", 4)
    start = threading.Barrier(2)

    def race(side: str) -> None:
        start.wait()
        apply(running, stack, tmp_path / side)

    appliers = [threading.Thread(target=race, args=(side,)) for side in "ab"]
    for applier in appliers:
        applier.start()
    for applier in appliers:
        applier.join(timeout=60)
    for _ in range(3):  # what a key's failure asks for: run apply again (each run's new
        time.sleep(LAG)  # jobs are listed by the next run)
        if not apply(running, stack, tmp_path / "a"):
            break
    client = patient_client(running)
    found = audit(client, "lag", [f"j{n}" for n in range(4)])
    client.close()
    assert found.submitted_twice() == [] and found.two_alive() == [], found.jobs
    assert sorted(found.jobs) == [f"j{n}" for n in range(4)] and found.configuring() == []


def test_the_stack_lock_waits_until_the_listing_shows_its_lock_job(
    start_emulator: Callable[..., Any],
) -> None:
    """Our lock job missing from the listing is not a lock job cancelled meanwhile: the lock
    lists again (as while it waits for a holder), takes the stack, and cancels its job."""
    running = start_emulator()
    running.emulator.server.app = LaggingListing(running.emulator.server.app, LAG)
    client = patient_client(running)
    lock = StackLock(client, "lag-lock", [], LockOptions(timeout=10), Recorder())
    lock.acquire()
    held = lock.job_id
    lock.release()
    time.sleep(LAG)
    found = audit(client, "lag-lock", [])
    client.close()
    assert held is not None and found.locks_alive == []
