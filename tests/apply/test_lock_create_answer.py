"""A lock job whose create was answered with no readable id (a garbled, empty or lost answer)
exists on the cluster all the same: the lock finds it by the token in its Name, uses it (or
cancels it), and no live lock job of ours remains when apply ends (docs/apply.md, "The stack
lock"). Before, the applier never knew its id: the job stayed live and every other applier
waited for it until it went stale (two minutes)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine.events import Recorder
from hpcspec.engine.lock import LockOptions, StackLock
from hpcspec.engine.outcomes import Outcome
from hpcspec.engine.pipeline import ApplyRequest, apply_stacks
from tests.apply.stacks import audit, make_stack, patient_client
from tests.apply.test_lagging_listing import LAG, LaggingListing


class GarbledLockCreate:
    """WSGI middleware: the first `times` lock-job creates (`POST /hpc/jobs` whose Name says
    `:lock:`) reach the emulator — the job is made — but are answered `status` with `answer`
    (a 200 whose body is no job id, or a 502: an outcome the client cannot know)."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        answer: bytes,
        *,
        status: str = "200 OK",
        times: int = 1,
    ) -> None:
        self.app, self.answer, self.status, self.left = app, answer, status, times
        self.made: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        route = (environ["REQUEST_METHOD"], environ["PATH_INFO"])
        if route != ("POST", "/hpc/jobs") or b":lock:" not in body:
            return self.app(environ, start)
        with self._lock:
            garble = self.left > 0
            self.left -= garble
        if not garble:
            return self.app(environ, start)
        answered: list[Any] = []
        made = b"".join(self.app(environ, lambda *a: answered.extend(a)))
        assert answered[0].startswith("200"), answered
        self.made.append(int(json.loads(made)))
        length_header = ("Content-Length", str(len(self.answer)))
        start(self.status, [("Content-Type", "application/json"), length_header])
        return [self.answer]


ANSWERS = {"garbled": b'{"Id": "?"}', "text": b"<html>OK</html>", "empty": b""}


def lock_jobs_alive(client: Any, stack: str) -> list[int]:
    return audit(client, stack, []).locks_alive


@pytest.mark.parametrize("answer", list(ANSWERS), ids=list(ANSWERS))
def test_apply_uses_its_lock_job_when_the_creates_answer_has_no_id(
    start_emulator: Callable[..., Any], tmp_path: Path, answer: str
) -> None:
    running = start_emulator()
    wrapper = GarbledLockCreate(running.emulator.server.app, ANSWERS[answer])
    running.emulator.server.app = wrapper
    stack = make_stack(f"lock-answer-{answer}", 1)
    client = patient_client(running)
    try:
        request = ApplyRequest(cluster_name="emulator", journal_root=tmp_path)
        report = apply_stacks(client, [stack], request, observer=Recorder(), confirm=lambda _: True)
        assert [r.outcome for r in report.results[0].results] == [Outcome.DONE]
        assert len(wrapper.made) == 1  # one lock job: found by its token, not made again
        assert client.job_state(wrapper.made[0]).is_canceled  # used, then released
        found = audit(client, stack.stack, list(stack.jobs))
        assert found.locks_alive == [] and [len(jobs) for jobs in found.jobs.values()] == [1]
    finally:
        client.close()


@pytest.mark.parametrize(
    ("status", "answer"), [("200 OK", b"<html>OK</html>"), ("502 Bad Gateway", b"")]
)
def test_a_lock_job_the_listing_shows_late_is_used_or_cancelled(
    start_emulator: Callable[..., Any], status: str, answer: bytes
) -> None:
    """Behind a listing that lags its writes: after a 200 without an id the lock waits for its
    job to be listed and takes it; after a 502 (the job may not exist) it creates another and
    cancels the first once it is listed. Either way no lock job of ours is left alive."""
    running = start_emulator()
    lagging = LaggingListing(running.emulator.server.app, LAG)
    wrapper = GarbledLockCreate(lagging, answer, status=status)
    running.emulator.server.app = wrapper
    client = patient_client(running)
    stack = f"lock-late-{status[:3]}"
    lock = StackLock(client, stack, [], LockOptions(timeout=10), Recorder())
    try:
        lock.acquire()
        assert lock.job_id is not None
        if status.startswith("200"):
            assert lock.job_id == wrapper.made[0]
        else:
            assert lock.job_id != wrapper.made[0]
            assert client.job_state(wrapper.made[0]).is_canceled
        lock.release()
        assert lock_jobs_alive(client, stack) == []
    finally:
        client.close()


class RefuseCancel:
    """WSGI middleware: `POST /hpc/jobs/{id}/cancel` of the ids `refused()` gives answers 400."""

    def __init__(self, app: Callable[..., Iterable[bytes]], refused: Callable[[], list[int]]):
        self.app, self.refused = app, refused

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        cancel = environ["REQUEST_METHOD"] == "POST" and path.endswith("/cancel")
        if cancel and int(path.split("/")[3]) in self.refused():
            body = json.dumps({"Code": -1, "Message": "refused by the test"}).encode()
            start("400 Bad Request", [("Content-Type", "application/json")])
            return [body]
        return self.app(environ, start)


def test_our_lost_lock_job_is_never_the_holder_we_wait_for_even_when_its_cancel_fails(
    start_emulator: Callable[..., Any],
) -> None:
    """A 502 on the first lock create, the listing late: the lock creates another. When the
    first one (a lower id) is listed and cannot be cancelled, it is still ours, not a holder:
    the lock is taken at once instead of waiting for our own lock job to go stale."""
    running = start_emulator()
    refuse = RefuseCancel(running.emulator.server.app, lambda: wrapper.made)
    wrapper = GarbledLockCreate(LaggingListing(refuse, LAG), b"", status="502 Bad Gateway")
    running.emulator.server.app = wrapper
    client = patient_client(running)
    lock = StackLock(client, "lock-uncancellable", [], LockOptions(timeout=3), Recorder())
    try:
        lock.acquire()  # before: StackLocked after 3 s, held by our own lost lock job
        assert lock.job_id is not None and lock.job_id not in wrapper.made
        lock.release()
        assert lock_jobs_alive(client, "lock-uncancellable") == wrapper.made  # left to go stale
    finally:
        client.close()
