"""A 200 with an empty body where the references document a JSON array (`GET /jobs`: "Get Job
List" in `hpcpack-rest-api-2016.md`; an empty listing is `[]`) is a `bad-response` naming the
request, never "no jobs": read as "nothing", a plan says every job is to be created and apply
runs each key a second time (a proxy or a broken server answering one listing so)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.apply.stacks import audit, patient_client, stack_text
from tests.conftest import Runner

STACK = "empty-answer"
KEYS = ["j0", "j1"]


class EmptyListing:
    """WSGI middleware: the `nth` job listing (`GET /hpc/jobs`) from now on is answered 200
    with no body; every other request reaches the emulator."""

    def __init__(self, app: Callable[..., Iterable[bytes]], nth: int = 1) -> None:
        self.app, self.left = app, nth
        self.answered = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        if (environ["REQUEST_METHOD"], environ["PATH_INFO"]) == ("GET", "/hpc/jobs"):
            with self._lock:
                self.left -= 1
                empty = self.left == 0
            if empty:
                self.answered += 1
                start("200 OK", [("Content-Type", "application/json"), ("Content-Length", "0")])
                return [b""]
        return self.app(environ, start)


@pytest.fixture
def applied(cluster: Any, cli_env: Path, run_cli: Runner) -> Iterator[Path]:
    """The stack applied through a clean server: its jobs exist."""
    (cli_env / "m.yaml").write_text(stack_text(STACK, len(KEYS)), encoding="utf-8")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    yield cli_env


def jobs_of_stack(cluster: Any) -> dict[str, list[int]]:
    client = patient_client(cluster)
    try:
        found = audit(client, STACK, KEYS)
    finally:
        client.close()
    assert found.locks_alive == []
    return {key: sorted(j["id"] for j in jobs) for key, jobs in found.jobs.items()}


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "m.yaml"],
        ["apply", "m.yaml", "--auto-approve"],
        ["apply", "m.yaml", "--auto-approve", "--no-lock"],
    ],
    ids=["plan", "apply", "apply-no-lock"],
)
def test_an_empty_job_listing_is_a_bad_response_and_creates_nothing(
    cluster: Any, applied: Path, run_cli: Runner, argv: list[str]
) -> None:
    before = jobs_of_stack(cluster)
    assert sorted(before) == KEYS
    wrapper = EmptyListing(cluster.emulator.server.app)
    cluster.emulator.server.app = wrapper
    try:
        code, out, err = run_cli(*argv)
    finally:
        cluster.emulator.server.app = wrapper.app
    assert wrapper.answered == 1
    assert code != 0, out + err
    assert "GET /jobs" in err and "empty" in err and "bad-response" in err, err
    assert "create" not in out.lower(), out
    assert jobs_of_stack(cluster) == before  # no job created (and no lock job left alive)
