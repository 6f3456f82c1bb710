"""`hpcspec requeue` and `hpcspec cancel` against the emulator running tasks as processes:
exactly the failed sweep instances run again (each run leaves a line in a file), one sweep
instance is cancelled alone, and the plans say so before anything is sent."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.apply.recording import install, uninstall
from tests.conftest import Runner
from tests.render import event_schema

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell commands"),
]

# Each run appends its instance value to runs.txt; 3, 8 and 15 fail until `fixed` exists.
FLAKY_SWEEP = """apiVersion: hpcspec/v1
stack: {stack}
jobs:
  sweep:
    tasks:
      run:
        commandLine: >-
          sh -c 'echo * >> runs.txt;
          case * in 3|8|15) test -f fixed || {{ echo broken * >&2; exit 2; }};; esac'
        sweep: {{start: 1, end: 20}}
        workDirectory: '{work}'
"""

# Instance 2 runs until cancelled, unless `fixed` exists; the others end at once.
SLOW_SWEEP = """apiVersion: hpcspec/v1
stack: {stack}
jobs:
  sweep:
    tasks:
      run:
        commandLine: >-
          sh -c 'echo * >> runs.txt;
          if [ * -eq 2 ] && [ ! -f fixed ]; then sleep 60; fi'
        sweep: {{start: 1, end: 3}}
        workDirectory: '{work}'
"""


def manifest(directory: Path, text: str, stack: str) -> Path:
    work = directory / "work"
    work.mkdir()
    (directory / "m.yaml").write_text(text.format(stack=stack, work=work), encoding="utf-8")
    return work


def runs(work: Path) -> list[int]:
    return [int(line) for line in (work / "runs.txt").read_text(encoding="utf-8").split()]


def json_records(out: str, command: str) -> list[dict[str, Any]]:
    """`--output json`: every stdout line one JSON record, the first naming the command."""
    records = event_schema.records(out)
    assert records[0]["type"] == "version" and records[0]["command"] == command, records[0]
    return records


def planned_changes(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    (planned,) = [r for r in records if r["type"] == "planned"]
    assert [r["result"]["outcome"] for r in records if r["type"] == "job_applied"] == ["done"]
    changes: list[dict[str, Any]] = planned["plan"]["changes"]
    return changes


def test_requeue_failed_only_reruns_exactly_the_three_failed_instances_of_twenty(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    work = manifest(cli_env, FLAKY_SWEEP, "rescue-e2e")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--wait", "--timeout", "60s")
    assert code == 5, out + err
    assert sorted(runs(work)) == list(range(1, 21))
    (work / "fixed").write_text("", encoding="utf-8")
    recorder = install(cluster)
    try:
        code, out, err = run_cli(
            "requeue", "m.yaml", "sweep", "--failed-only", "--wait", "--timeout", "60s"
        )
    finally:
        uninstall(cluster, recorder)
    assert code == 0, out + err
    assert "sweep: requeue (failed tasks only: 3 of 20)" in out, out
    assert "3 failed and 0 canceled task(s) run again" in out
    again = runs(work)[20:]
    assert sorted(again) == [3, 8, 15], runs(work)  # exactly the failed ones, once each
    requeues = [r for r in recorder.routes().elements() if r.endswith("/requeue")]
    # one job requeue, no task requeue: an ended job's own requeue reruns its failed tasks
    assert len(requeues) == 1 and "/tasks/" not in requeues[0], requeues
    code, out, err = run_cli("status", "m.yaml")
    assert code == 0 and "Finished" in out, out + err


def test_cancel_one_sweep_instance_then_requeue_failed_only_runs_only_it_again(
    cli_env: Path, run_cli: Runner
) -> None:
    work = manifest(cli_env, SLOW_SWEEP, "cancel-e2e")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    for _ in range(400):  # the instance must be running to be the one cancelled
        if (work / "runs.txt").exists() and 2 in runs(work):
            break
        time.sleep(0.05)
    code, out, err = run_cli("cancel", "m.yaml", "sweep/run[2]")
    assert code != 0 and "--auto-approve" in err  # no terminal: no cancel without approval
    code, out, err = run_cli("cancel", "m.yaml", "sweep/run[2]", "-o", "json")
    assert code != 0 and "cannot ask for confirmation" in err and out.count("\n") <= 2, out
    code, out, err = run_cli("cancel", "m.yaml", "sweep/run[2]", "--auto-approve", "-o", "json")
    assert code == 0, out + err
    (change,) = planned_changes(json_records(out, "cancel"))
    assert change["action"] == "cancel" and change["key"] == "sweep", change
    assert change["reasons"][0]["message"].startswith("1 task(s) of job"), change
    code, out, err = run_cli("status", "m.yaml", "--wait", "--timeout", "60s")
    assert code == 5, out + err  # a cancelled task makes the job end Failed
    assert sorted(runs(work)) == [1, 2, 3]
    (work / "fixed").write_text("", encoding="utf-8")
    code, out, err = run_cli(
        "requeue", "m.yaml", "sweep", "--failed-only", "--wait", "--timeout", "60s", "-o", "json"
    )
    assert code == 0, out + err
    records = json_records(out, "requeue")
    (change,) = planned_changes(records)
    assert change["action"] == "requeue" and change["failed_only"] is not None, change
    assert records[-1]["type"] == "wait_ended", records[-1]
    assert sorted(runs(work)) == [1, 2, 2, 3]
    code, out, err = run_cli("cancel", "m.yaml", "sweep", "--auto-approve")
    assert code == 0 and "Nothing to cancel." in out, out + err
