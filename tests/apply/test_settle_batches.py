"""A big wave is settled in batches: early jobs are submitted while later ones are created,
at most `parallelism` requests are in flight, and a small wave still costs one listing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hpcspec.emulator import Timings
from hpcspec.emulator.seed import unrelated_jobs
from hpcspec.engine import race
from hpcspec.engine.discovery import list_stack
from hpcspec.engine.events import Event, JobApplied, Recorder
from hpcspec.engine.journal import Journal
from hpcspec.engine.outcomes import Outcome
from hpcspec.engine.pipeline import apply_plan, plan_stack
from hpcspec.engine.steps import ApplyOptions
from hpcspec.hpcpack.profile import ClusterProfile
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


def apply_all(
    cluster: Any, stack: ResolvedStack, root: Path, parallelism: int, observer: Any = None
) -> None:
    client = patient_client(cluster)
    # The emulator's own profile: these tests count listings, and a first apply without one
    # lists more until its first submit shows that ClientSource is kept (`custom_identity.
    # unmeasured`; tests/apply/test_client_source_learning.py).
    client.profile = ClusterProfile()
    plan = plan_stack(client, stack, cluster_name="emulator")
    result = apply_plan(
        client,
        stack,
        plan,
        Journal(root / f"{stack.stack}.jsonl"),
        options=ApplyOptions(parallelism=parallelism),
        observer=observer or Recorder(),
    )
    client.close()
    assert [r.outcome for r in result.results] == [Outcome.DONE] * len(stack.jobs)


def test_a_big_wave_submits_its_first_jobs_before_its_last_is_created(
    cluster: Any, watched: InFlight, tmp_path: Path
) -> None:
    apply_all(cluster, independent("settle-big", 24), tmp_path, parallelism=3)
    creates = [n for n, route in enumerate(watched.order) if route == "POST /hpc/jobs/jobFile"]
    submits = [n for n, route in enumerate(watched.order) if route.endswith("/submit")]
    assert len(creates) == len(submits) == 24
    # the race checks' listings (the plan's own come before the first create)
    listings = [r for r in watched.order[creates[0] :] if r == "GET /hpc/jobs"]
    assert submits[0] < creates[-1]  # pipelined, not create-all-then-submit-all
    # batches of max(parallelism, 24 // 8) = 3 jobs: more than one listing, fewer than jobs
    # (a batch's re-checks after submitting ride along with the next batch's checks)
    assert 1 < len(listings) <= 24 // 3 + 1
    assert watched.most <= 3


def test_a_small_wave_is_settled_by_one_listing_and_rechecked_by_one_more(
    cluster: Any, watched: InFlight, tmp_path: Path
) -> None:
    apply_all(cluster, independent("settle-small", 5), tmp_path, parallelism=8)
    after_plan = watched.order[watched.order.index("POST /hpc/jobs/jobFile") :]
    assert after_plan.count("GET /hpc/jobs") == 2  # the race check, the re-check
    assert max(n for n, r in enumerate(after_plan) if r == "POST /hpc/jobs/jobFile") < min(
        n for n, r in enumerate(after_plan) if r.endswith("/submit")
    )


class LastMarkLate:
    """WSGI middleware: the `nth` marker `PUT /hpc/jobs/{id}` answers `delay` seconds late."""

    def __init__(self, app: Callable[..., Iterable[bytes]], nth: int, delay: float) -> None:
        self.app, self.nth, self.delay = app, nth, delay
        self.puts = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "PUT" and environ["PATH_INFO"].count("/") == 3:
            with self._lock:
                self.puts += 1
                late = self.puts == self.nth
            if late:
                time.sleep(self.delay)
        return self.app(environ, start)


def test_a_small_wave_whose_last_mark_is_late_is_still_rechecked_by_one_listing(
    cluster: Any, watched: InFlight, tmp_path: Path
) -> None:
    """A mark still running for a key its race check let through will submit it, and that
    submit parks it for the re-check: the others' re-checks wait for it instead of taking a
    listing of their own (before: 3 listings whenever one mark came back last)."""
    late = LastMarkLate(watched.app, nth=5, delay=0.3)
    watched.app = late
    try:
        apply_all(cluster, independent("settle-late-mark", 5), tmp_path, parallelism=8)
    finally:
        watched.app = late.app
    after_plan = watched.order[watched.order.index("POST /hpc/jobs/jobFile") :]
    assert after_plan.count("GET /hpc/jobs") == 2  # the race check, the re-check


def test_each_job_is_reported_when_it_is_done_not_when_its_wave_is(
    cluster: Any, watched: InFlight, tmp_path: Path
) -> None:
    creates_seen: list[int] = []

    class Creates:
        def notify(self, event: Event) -> None:
            if isinstance(event, JobApplied):
                creates_seen.append(watched.order.count("POST /hpc/jobs/jobFile"))

    apply_all(
        cluster, independent("settle-report", 24), tmp_path, parallelism=3, observer=Creates()
    )
    assert len(creates_seen) == 24
    assert creates_seen[0] < 24  # the first job was reported before the last one was created


def test_a_failed_race_check_listing_submits_nothing_and_fails_the_batch(
    cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13 (1b): an unchecked race is never submitted anyway."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("an odd listing row")

    monkeypatch.setattr(race, "settle", broken)
    stack = independent("settle-broken", 4)
    client = patient_client(cluster)
    plan = plan_stack(client, stack, cluster_name="emulator")
    journal = Journal(tmp_path / "settle-broken.jsonl")
    result = apply_plan(client, stack, plan, journal, options=ApplyOptions(), observer=Recorder())
    assert [r.outcome for r in result.results] == [Outcome.FAILED] * 4
    assert all("race check" in r.message and "odd listing" in r.message for r in result.results)
    listed = list_stack(client, "settle-broken", list(stack.jobs)).by_key
    client.close()
    states = {job.state.name for jobs in listed.values() for job in jobs}
    assert sorted(listed) == sorted(stack.jobs)
    assert states == {"Configuring"}  # created and marked, never submitted


def test_listings_grow_coarser_on_a_cluster_of_many_pages(
    start_emulator: Any, tmp_path: Path
) -> None:
    db = tmp_path / "busy.db"
    unrelated_jobs(db, 2500)  # every listing reads 3 pages of 1,000 rows
    # A third of them are Queued or Running and every clock tick re-reads them all; nothing
    # here waits on a state change, so the clock ticks twice a second, not 20 times.
    running = start_emulator(db=db, timings=Timings(tick=0.5, simulate=0.2))
    watcher = InFlight(running.emulator.server.app)
    running.emulator.server.app = watcher
    apply_all(running, independent("settle-busy", 24), tmp_path, parallelism=3)
    start = watcher.order.index("POST /hpc/jobs/jobFile")
    pages = watcher.order[start:].count("GET /hpc/jobs")
    # batches of 3 would take 8 listings × 3 pages; after the first, batches of 9 jobs (the
    # last batch's re-checks after submitting take one listing more)
    assert pages <= 3 * 5, pages
