"""A server that answers a write "200 OK" but does not apply it (a lying server, or a proxy that
answers for it): the marker PUT after a create is swallowed once. The job keeps its pending
Name and is submitted all the same (the PUT said OK); the next apply, through a clean server,
must recognise it as its key's job and create no second one (docs/apply.md, "Identity")."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine import identity
from hpcspec.engine.drift import detect_drift
from hpcspec.engine.events import Recorder
from hpcspec.engine.pipeline import ApplyRequest, apply_stacks
from hpcspec.engine.steps import ApplyOptions, CreateMethod
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState
from tests.apply.stacks import audit, make_stack, patient_client

JOB = re.compile(r"^/hpc/jobs/\d+$")


class SwallowMark:
    """WSGI middleware: the first `times` marker PUTs (`PUT /hpc/jobs/{id}` carrying
    ClientSource) are answered 200 with an empty body and never reach the emulator."""

    def __init__(self, app: Callable[..., Iterable[bytes]], times: int = 1) -> None:
        self.app, self.left = app, times
        self.swallowed: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if method == "PUT" and JOB.match(path) and b"ClientSource" in body:
            with self._lock:
                lie = self.left > 0
                self.left -= lie
            if lie:
                self.swallowed.append(path)
                start("200 OK", [("Content-Length", "0")])
                return [b""]
        return self.app(environ, start)


def apply(running: Any, stack: Any, root: Path, via: str) -> None:
    client = patient_client(running)
    request = ApplyRequest(
        cluster_name="emulator",
        options=ApplyOptions(via=CreateMethod(via)),
        journal_root=root,
    )
    try:
        apply_stacks(client, [stack], request, observer=Recorder(), confirm=lambda _: True)
    finally:
        client.close()


def ended(running: Any, stack: str, keys: list[str], within: float = 15.0) -> None:
    """Wait until no job of the stack is alive (the simulated tasks take 0.2 s)."""
    client = patient_client(running)
    try:
        deadline = time.monotonic() + within
        while any(j["alive"] for jobs in audit(client, stack, keys).jobs.values() for j in jobs):
            assert time.monotonic() < deadline, "the first apply's jobs did not end"
            time.sleep(0.1)
    finally:
        client.close()


@pytest.mark.slow
@pytest.mark.parametrize("via", ["xml", "rest"])
def test_a_swallowed_marker_put_leaves_one_job_per_key_after_the_next_apply(
    start_emulator: Callable[..., Any], tmp_path: Path, via: str
) -> None:
    running = start_emulator()
    clean = running.emulator.server.app
    liar = SwallowMark(clean)
    running.emulator.server.app = liar
    stack = make_stack(f"liar-{via}", 2)
    apply(running, stack, tmp_path / "first", via)
    assert len(liar.swallowed) == 1
    running.emulator.server.app = clean
    ended(running, stack.stack, list(stack.jobs))  # the unmarked job ran: no rival is alive
    apply(running, stack, tmp_path / "second", via)  # another runner: no journal of the first
    client = patient_client(running)
    try:
        found = audit(client, stack.stack, list(stack.jobs))
    finally:
        client.close()
    assert sorted(found.jobs) == ["j0", "j1"], found.jobs
    assert found.submitted_twice() == [] and found.two_alive() == [], found.jobs
    assert all(len(jobs) == 1 for jobs in found.jobs.values()), found.jobs
    assert found.locks_alive == []
    # Detectable: the lost PUT carried the manifest's Name, so drift shows the pending one.
    client = patient_client(running)
    try:
        report = detect_drift(client, stack)
    finally:
        client.close()
    drifted = {job.key: [d.name for d in job.diffs] for job in report.jobs if job.diffs}
    assert list(drifted.values()) == [["Name"]], report


NAME = identity.pending_name("s", "k", "d" * 16, CreateMethod.XML, "t" * 24)
SUBMITTED = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "submit_time", "kind"),
    [
        (JobState.Configuring, None, identity.IdentityKind.PENDING),  # being built
        (JobState.Canceled, None, identity.IdentityKind.PENDING),  # discarded before submit
        (JobState.Queued, None, identity.IdentityKind.MARKED),  # a listing without times
        (JobState.Finished, None, identity.IdentityKind.MARKED),
        (JobState.Canceled, SUBMITTED, identity.IdentityKind.MARKED),  # cancelled after submit
    ],
)
def test_a_pending_name_on_a_submitted_job_is_read_as_marked_by_its_digest(
    state: JobState, submit_time: datetime | None, kind: identity.IdentityKind
) -> None:
    job = LiveJob(7, state, name=NAME, submit_time=submit_time)
    found = identity.listed_identity(job)
    assert found is not None and found.kind is kind
    assert found.key_hash == identity.key_hash("s", "k")
    marked = kind is identity.IdentityKind.MARKED
    assert identity.live_digest(job) == ("d" * 16 if marked else None)
