"""`hpcspec reconcile`: a loop that applies, requeues Failed jobs per retries, stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.ci.conftest import CI_VARIABLES, Run, unique_stack, write_manifest

FAILING = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  flaky:
    retries: 1
    tasks:
      step: {{commandLine: "exit:3"}}
"""


def _env(emulator: Any, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES}
    env |= {
        "HPCSPEC_CONFIG": str(tmp_path / "config.yaml"),
        "HPCSPEC_CLUSTER": emulator.url,
        "HPCSPEC_USERNAME": emulator.admin[0],
        "HPCSPEC_PASSWORD": emulator.admin[1],
    }
    return env


def test_reconcile_requeues_a_failed_job_and_exits_0_on_sigterm(
    emulator: Any, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, FAILING.format(stack=unique_stack("reconcile")))
    process = subprocess.Popen(
        [sys.executable, "-m", "hpcspec", "reconcile", "--interval", "1s", str(manifest)],
        cwd=tmp_path,
        env=_env(emulator, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "flaky" in line and "requeue done" in line:
                break
        assert any("flaky" in x and "create done" in x for x in lines), lines
        assert any("flaky" in x and "requeue done" in x for x in lines), lines
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "SIGTERM received" in out and "reconcile: stopped" in out
    assert "Traceback" not in err


def test_reconcile_once_converges_then_has_nothing_to_do(
    cli_env: pytest.MonkeyPatch, hpcspec: Callable[..., Run], tmp_path: Path
) -> None:
    manifest = write_manifest(
        tmp_path, FAILING.format(stack=unique_stack("once")).replace("exit:3", "exit:0")
    )
    first = hpcspec("reconcile", "--once", str(manifest))
    assert first.code == 0, first.err
    assert "flaky" in first.out and "create done" in first.out
    second = hpcspec("reconcile", "--once", str(manifest))
    assert second.code == 0 and second.out == ""


RUNNING = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  long:
    tasks:
      work: {{commandLine: "{command}"}}
"""


def test_reconcile_respects_blocks_it_never_replaces_running_work_unasked(
    cli_env: pytest.MonkeyPatch, hpcspec: Callable[..., Run], tmp_path: Path
) -> None:
    stack = unique_stack("blocked")
    manifest = write_manifest(tmp_path, RUNNING.format(stack=stack, command="sleep:30"))
    assert hpcspec("reconcile", "--once", str(manifest)).code == 0
    deadline = time.monotonic() + 10
    while "Running" not in hpcspec("status", str(manifest)).out:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    manifest.write_text(RUNNING.format(stack=stack, command="sleep:31"))
    refused = hpcspec("reconcile", "--once", str(manifest))
    assert "long" in refused.out and "replace refused" in refused.out
    assert refused.code == 1  # like apply: a refused change is not success
    status = json.loads(hpcspec("status", "--output", "json", str(manifest)).out)
    assert status["jobs"][0]["state"] == "Running"  # the running job was left alone
    hpcspec("destroy", "--auto-approve", str(manifest))
