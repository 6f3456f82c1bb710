"""`hpcspec logs`, `requeue` and `cancel` follow the manifest's `moved:` block as plan and
status do: right after a key is renamed (before the next apply records the move), the new
key names the job the cluster knows under the old one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import Runner

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell commands"),
]

# Fails (exit 2) until `fixed` exists in the work directory.
FLAKY = """apiVersion: hpcspec/v1
stack: {stack}
jobs:
  {key}:
    tasks:
      run:
        commandLine: "sh -c 'echo ran; test -f fixed || {{ echo broken >&2; exit 2; }}'"
        workDirectory: '{work}'
"""


def failed_then_moved(directory: Path, run_cli: Runner, stack: str) -> Path:
    """Key `a` applied and Failed, then renamed `b` with `moved: {a: b}` (no apply since)."""
    work = directory / "work"
    work.mkdir()
    path = directory / "m.yaml"
    path.write_text(FLAKY.format(stack=stack, key="a", work=work), encoding="utf-8")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--wait", "--timeout", "60s")
    assert code == 5, out + err
    renamed = FLAKY.format(stack=stack, key="b", work=work) + "moved:\n  a: b\n"
    path.write_text(renamed, encoding="utf-8")
    return work


def test_logs_of_a_moved_key_show_its_job_before_apply_records_the_move(
    cli_env: Path, run_cli: Runner
) -> None:
    failed_then_moved(cli_env, run_cli, "moved-logs")
    code, out, err = run_cli("logs", "m.yaml", "b")
    assert code == 0 and "==> b/run (job " in out and "exit code 2" in out, out + err
    assert "broken" in out, out
    code, out, err = run_cli("destroy", "m.yaml", "--auto-approve")
    assert code == 0, out + err


def test_requeue_and_cancel_of_a_moved_key_act_on_its_job_before_apply_records_the_move(
    cli_env: Path, run_cli: Runner
) -> None:
    work = failed_then_moved(cli_env, run_cli, "moved-rescue")
    (work / "fixed").write_text("", encoding="utf-8")
    code, out, err = run_cli("requeue", "m.yaml", "b", "--wait", "--timeout", "60s")
    assert code == 0, out + err
    code, out, err = run_cli("cancel", "m.yaml", "b", "--auto-approve")
    assert code == 0 and "Nothing to cancel." in out, out + err
    code, out, err = run_cli("destroy", "m.yaml", "--auto-approve")
    assert code == 0, out + err
