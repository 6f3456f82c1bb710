"""A job XML create's mark runs beside its key's race check (docs/apply.md, *Racing appliers*):
the check no longer waits for the mark, but a job is never submitted before its mark
answered, a failed mark is never submitted, and a losing job is cancelled as before."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine.discovery import list_stack
from hpcspec.engine.events import Recorder
from hpcspec.engine.journal import Journal
from hpcspec.engine.outcomes import ApplyResult, JobResult, Outcome
from hpcspec.engine.pipeline import apply_plan, plan_stack
from hpcspec.engine.steps import ApplyOptions
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import ClusterProfile
from hpcspec.hpcpack.transport import Credentials, RetryPolicy, Transport, TransportOptions
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.resolve import ResolvedStack

JOB = re.compile(r"^/hpc/jobs/(\d+)(/submit)?$")


class Marks:
    """WSGI middleware: marker PUTs held for `delay` (or refused for the job Names in
    `refuse`), and what happened to each job, in order: ("marked", id) once a marker PUT
    was answered, ("submit", id) when a submit arrived; `overlapped` counts the job listings
    that arrived while a marker PUT was in flight."""

    def __init__(self, app: Callable[..., Iterable[bytes]], delay: float) -> None:
        self.app, self.delay = app, delay
        self.refuse: set[str] = set()
        self.rivals = 0  # the next creates that each first make a rival (lower) job of the key
        self.order: list[tuple[str, int]] = []
        self.overlapped = 0
        self._marking = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        found = JOB.match(path)
        if method == "POST" and path == "/hpc/jobs/jobFile" and self.rivals:
            self.rivals -= 1  # another applier's create of the same key lands first
            rival = dict(environ, **{"wsgi.input": io.BytesIO(body)})
            list(self.app(rival, lambda *args: None))
        if method == "GET" and path == "/hpc/jobs":
            with self._lock:
                self.overlapped += self._marking > 0
        if found and found[2] and method == "POST":
            with self._lock:
                self.order.append(("submit", int(found[1])))
        if not (found and not found[2] and method == "PUT" and b"ClientSource" in body):
            return self.app(environ, start)
        with self._lock:
            self._marking += 1
        try:
            time.sleep(self.delay)
            if any(name.encode() in body for name in self.refuse):
                start("400 Bad Request", [("Content-Type", "text/plain")])
                return [b"the marker cannot be written"]
            answer = list(self.app(environ, start))
            with self._lock:
                self.order.append(("marked", int(found[1])))
            return answer
        finally:
            with self._lock:
                self._marking -= 1


@pytest.fixture
def marks(cluster: Any) -> Iterator[Marks]:
    watcher = Marks(cluster.emulator.server.app, delay=0.05)
    cluster.emulator.server.app = watcher
    yield watcher
    cluster.emulator.server.app = watcher.app


def knowing_client(running: Any) -> HpcPackClient:
    """A client whose profile knows the cluster keeps ClientSource, as after `cluster check`
    (a client that must still learn it marks its first jobs before their check)."""
    name, password = running.admin
    retry = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05, total=10)
    options = TransportOptions(running.url, Credentials(name, password), retry=retry)
    return HpcPackClient(Transport(options), profile=ClusterProfile())


def named_jobs(stack: str, jobs: int) -> ResolvedStack:
    lines = ["apiVersion: hpcspec/v1", f"stack: {stack}", "jobs:"]
    for n in range(jobs):
        lines += [f"  j{n}:", f"    properties: {{Name: {stack}-j{n}}}", "    tasks:"]
        lines += [f"      t: {{commandLine: 'echo {n}'}}"]
    return resolve(parse_manifest("\n".join(lines) + "\n", file="m.yaml"))


def apply(client: HpcPackClient, stack: ResolvedStack, root: Path, parallelism: int) -> Any:
    plan = plan_stack(client, stack, cluster_name="emulator")
    journal = Journal(root / f"{stack.stack}.jsonl")
    options = ApplyOptions(parallelism=parallelism)
    return apply_plan(client, stack, plan, journal, options=options, observer=Recorder())


def outcomes(result: ApplyResult) -> dict[str, JobResult]:
    return {r.key: r for r in result.results}


def test_no_job_is_submitted_before_its_marker_write_was_answered(
    cluster: Any, marks: Marks, tmp_path: Path
) -> None:
    client = knowing_client(cluster)
    result = apply(client, named_jobs("beside-order", 6), tmp_path, parallelism=3)
    client.close()
    assert {r.outcome for r in result.results} == {Outcome.DONE}
    submitted = [job for what, job in marks.order if what == "submit"]
    assert len(submitted) == 6
    for job in submitted:
        assert marks.order.index(("marked", job)) < marks.order.index(("submit", job)), job
    assert marks.overlapped  # the race checks really ran while marks were in flight


def test_an_xml_job_whose_mark_fails_is_never_submitted_and_its_key_fails(
    cluster: Any, marks: Marks, tmp_path: Path
) -> None:
    marks.refuse.add("beside-fail-j1")
    client = knowing_client(cluster)
    stack = named_jobs("beside-fail", 3)
    result = outcomes(apply(client, stack, tmp_path, parallelism=3))
    failed = result["j1"]
    assert failed.outcome is Outcome.FAILED and failed.job_id is not None
    assert "marker cannot be written" in failed.message
    assert ("submit", failed.job_id) not in marks.order
    assert result["j0"].outcome is result["j2"].outcome is Outcome.DONE
    # as before the mark ran beside the check: the job stays pending and Configuring, for
    # the next apply's recovery to adopt (docs/apply.md, *Resuming*)
    listed = list_stack(client, "beside-fail", list(stack.jobs))
    client.close()
    assert [(j.id, j.state.name) for j in listed.pending["j1"]] == [(failed.job_id, "Configuring")]


def test_a_losing_job_whose_mark_runs_beside_the_check_is_cancelled_never_submitted(
    cluster: Any, marks: Marks, tmp_path: Path
) -> None:
    marks.rivals = 1
    client = knowing_client(cluster)
    stack = named_jobs("beside-lose", 2)
    result = apply(client, stack, tmp_path, parallelism=3).results
    listed = list_stack(client, "beside-lose", list(stack.jobs))
    client.close()
    assert {r.outcome for r in result} == {Outcome.DONE}
    lost = [r for r in result if "was cancelled" in r.message]
    assert len(lost) == 1, result
    ours = int(lost[0].message.split("ours (")[1].split(")")[0])
    assert lost[0].job_id is not None and lost[0].job_id < ours  # the rival (lower) carries it
    assert ("submit", ours) not in marks.order
    jobs = [*listed.by_key[lost[0].key], *listed.pending[lost[0].key]]
    assert {j.id: j.state.name for j in jobs}[ours] in ("Canceling", "Canceled")
