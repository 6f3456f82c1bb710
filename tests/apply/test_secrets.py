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
        ["--debug", "plan", "m.yaml", "-o", "plan.json"],
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
