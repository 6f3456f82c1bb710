"""A big wave is settled in batches: early jobs are submitted while later ones are created,
at most `parallelism` requests are in flight, and a small wave still costs one listing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine.apply import ApplyOptions, Outcome, apply_plan
from hpcspec.engine.journal import Journal
from hpcspec.engine.workflow import plan_stack
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.resolve import ResolvedStack
from tests.apply.stacks import patient_client


class InFlight:
    """WSGI middleware: the order of requests and the most ever handled at once."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.order: list[str] = []
        self.most = 0
        self._now = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        route = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}"
        with self._lock:
            self.order.append(route)
            self._now += 1
            self.most = max(self.most, self._now)
        try:
            time.sleep(0.005)  # long enough for concurrent requests to overlap
            return list(self.app(environ, start))
        finally:
            with self._lock:
                self._now -= 1


@pytest.fixture
def watched(cluster: Any) -> Iterator[InFlight]:
    watcher = InFlight(cluster.emulator.server.app)
    cluster.emulator.server.app = watcher
    yield watcher
    cluster.emulator.server.app = watcher.app


def independent(stack: str, jobs: int) -> ResolvedStack:
    lines = ["apiVersion: hpcspec/v1", f"stack: {stack}", "jobs:"]
    for n in range(jobs):
        lines += [f"  j{n}:", "    tasks:", f"      t: {{commandLine: 'echo {n}'}}"]
    return resolve(parse_manifest("\n".join(lines) + "\n", file="m.yaml"))


def apply_all(cluster: Any, stack: ResolvedStack, root: Path, parallelism: int) -> None:
    client = patient_client(cluster)
    plan = plan_stack(client, stack, cluster_name="emulator")
    result = apply_plan(
        client,
        stack,
        plan,
        Journal(stack.stack, root=root),
        options=ApplyOptions(parallelism=parallelism),
    )
    client.close()
    assert [r.outcome for r in result.results] == [Outcome.DONE] * len(stack.jobs)


def test_a_big_wave_submits_its_first_jobs_before_its_last_is_created(
    cluster: Any, watched: InFlight, tmp_path: Path
) -> None:
    apply_all(cluster, independent("settle-big", 24), tmp_path, parallelism=3)
    creates = [n for n, route in enumerate(watched.order) if route == "POST /hpc/jobs/jobFile"]
    submits = [n for n, route in enumerate(watched.order) if route.endswith("/submit")]
    listings = [r for r in watched.order if r == "GET /hpc/jobs"]
    assert len(creates) == len(submits) == 24
    assert submits[0] < creates[-1]  # pipelined, not create-all-then-submit-all
    # batches of max(parallelism, 24 // 8) = 3 jobs: more than one listing, fewer than jobs
    assert 1 < len(listings) - 1 <= 24 // 3  # (the plan's own listing is the first)
    assert watched.most <= 3


def test_a_small_wave_is_settled_by_one_listing(
    cluster: Any, watched: InFlight, tmp_path: Path
) -> None:
    apply_all(cluster, independent("settle-small", 5), tmp_path, parallelism=8)
    after_plan = watched.order[watched.order.index("POST /hpc/jobs/jobFile") :]
    assert after_plan.count("GET /hpc/jobs") == 1
    assert max(n for n, r in enumerate(after_plan) if r == "POST /hpc/jobs/jobFile") < min(
        n for n, r in enumerate(after_plan) if r.endswith("/submit")
    )
