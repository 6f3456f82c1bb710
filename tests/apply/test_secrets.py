"""A canary secret in `env` and `runAs.password` reaches the cluster and nowhere else.

The canary goes in by reference (`{secret: env:CANARY}`); the real CLI runs as a process with
`--debug`. The canary must not appear in stdout, stderr (debug logs included), the saved plan,
the journal or any file under the working directory — and the emulator must receive it on the
create/env requests and on submit, so the test cannot pass by never sending it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.apply import cli_process
from tests.apply.recording import install

MANIFEST = """\
apiVersion: hpcspec/v1
stack: canary-{via}
jobs:
  job:
    runAs: {{userName: 'HPC\\\\alice', password: {{secret: env:CANARY}}}}
    env:
      TOKEN: {{secret: env:CANARY}}
    tasks:
      t: {{commandLine: 'echo hi'}}
"""


@pytest.mark.parametrize("via", ["xml", "rest"])
def test_canary_secret_is_sent_to_the_cluster_and_never_shown_or_saved(
    start_emulator: Callable[..., Any], tmp_path: Path, via: str
) -> None:
    running = start_emulator()
    canary = running.user[1]  # alice's password doubles as the env value
    assert len(canary) >= 12
    recorder = install(running)
    env = cli_process.cli_env(running, tmp_path, CANARY=canary)
    (tmp_path / "m.yaml").write_text(MANIFEST.format(via=via))
    outputs = []
    for argv in (
        ["--debug", "plan", "m.yaml", "--out", "plan.json"],
        ["--debug", "apply", "plan.json", "--auto-approve", "--create-via", via],
        ["--debug", "status", "m.yaml", "--output", "json"],
        ["--debug", "plan", "m.yaml", "--output", "json"],
    ):
        code, out, err = cli_process.run(argv, tmp_path, env)
        assert code == 0, out + err
        outputs += [out, err]
    assert "DEBUG" in "".join(outputs) or "debug" in "".join(outputs).lower()
    assert all(canary not in text for text in outputs)
    files = [p for p in tmp_path.rglob("*") if p.is_file() and "emulator" not in p.parts[-2]]
    assert any(p.suffix == ".jsonl" for p in files) and any(p.name == "plan.json" for p in files)
    leaked = [p for p in files if canary.encode() in p.read_bytes()]
    assert leaked == []
    sent = [route for route, body in recorder.seen if canary.encode() in body]
    assert any(route.endswith("/submit") for route in sent), sent
    assert any("/env" in route or route == "POST /hpc/jobs/jobFile" for route in sent), sent


class QuotingFailure:
    """WSGI middleware: every request to a route ending in `suffix` gets a 500 whose body
    quotes the request back, as a careless server might (issue 13, finding 7)."""

    def __init__(self, app: Callable[..., Any], suffix: str) -> None:
        self.app, self.suffix = app, suffix

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Any:
        if environ["REQUEST_METHOD"] != "POST" or not environ["PATH_INFO"].endswith(self.suffix):
            return self.app(environ, start)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        start("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"could not handle " + body]


@pytest.mark.parametrize(("via", "suffix"), [("rest", "/envVariables"), ("xml", "/jobFile")])
def test_a_5xx_quoting_the_request_never_shows_the_secret(
    start_emulator: Callable[..., Any], tmp_path: Path, via: str, suffix: str
) -> None:
    running = start_emulator()
    canary = running.user[1]
    running.emulator.server.app = QuotingFailure(running.emulator.server.app, suffix)
    env = cli_process.cli_env(running, tmp_path, CANARY=canary)
    (tmp_path / "m.yaml").write_text(MANIFEST.format(via=via))
    argv = ["--debug", "apply", "m.yaml", "--auto-approve", "--create-via", via]
    code, out, err = cli_process.run(argv, tmp_path, env)
    assert code != 0, out + err
    assert "could not" in out + err  # the failure is reported
    assert canary not in out + err
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and canary.encode() in p.read_bytes()]
    assert [p for p in leaked if "emulator" not in p.parts[-2]] == []
