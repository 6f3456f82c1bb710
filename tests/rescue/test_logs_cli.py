"""`hpcspec logs` against the emulator running tasks as processes: what each task printed,
a failed sweep instance's stderr file, `--tail`, `--failed`, JSON, `--follow`, the errors,
and the cost (one job listing, one task listing per job)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine import logs as engine_logs
from tests.apply.recording import install, uninstall
from tests.conftest import Runner

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell commands")

SWEEP = """apiVersion: hpcspec/v1
stack: {stack}
jobs:
  sweep:
    tasks:
      prepare: {{commandLine: echo preparing}}
      run:
        commandLine: "sh -c 'echo case *; case * in 4|9|17) echo boom * >&2; exit 3;; esac'"
        sweep: {{start: 1, end: 20}}
        workDirectory: '{work}'
        dependsOn: [prepare]
        properties: {{StdOutFilePath: 'case-**.out', StdErrFilePath: 'case-**.err'}}
  hello:
    tasks:
      greet:
        commandLine: echo Hello from ${{stack}}
      lines: {{commandLine: "sh -c 'for n in 1 2 3 4 5; do echo line $n; done'"}}
"""


def applied(directory: Path, run_cli: Runner, stack: str) -> Path:
    work = directory / "work"
    work.mkdir()
    path = directory / "m.yaml"
    path.write_text(SWEEP.format(stack=stack, work=work), encoding="utf-8")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--wait", "--timeout", "60s")
    assert code == 5, out + err  # the sweep fails: three instances exit 3
    return work


def test_logs_show_output_and_a_failed_sweep_instances_stderr_at_one_listing_each(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    work = applied(cli_env, run_cli, "logs-e2e")
    code, out, err = run_cli("logs", "m.yaml", "hello/greet")
    assert code == 0, out + err
    assert "==> hello/greet (job " in out and "Finished, exit code 0 <==" in out
    assert "Hello from logs-e2e" in out
    recorder = install(cluster)
    try:
        code, out, err = run_cli("logs", "m.yaml", "sweep", "--failed")
    finally:
        uninstall(cluster, recorder)
    assert code == 0, out + err
    sections = [line for line in out.splitlines() if line.startswith("==> ")]
    assert [s.split(" (job")[0] for s in sections] == [
        "==> sweep/run[4]",
        "==> sweep/run[9]",
        "==> sweep/run[17]",
    ]
    assert all("Failed, exit code 3" in s for s in sections)
    assert f"--- stderr → {work / 'case-17.err'} ---\nboom 17" in out
    assert f"--- stdout → {work / 'case-04.out'} ---\ncase 4" in out
    assert "(Output is empty: stdout and stderr both go to files)" in out
    routes = recorder.routes()
    task_listings = {r: n for r, n in routes.items() if r.endswith("/tasks")}
    assert routes["GET /hpc/jobs"] == 1 and list(task_listings.values()) == [1], routes
    assert sum(routes.values()) == 2 + routes["GET /hpc/cluster/info/dateTimeFormat"]


def test_one_instance_tail_and_json(cli_env: Path, run_cli: Runner) -> None:
    applied(cli_env, run_cli, "logs-json")
    code, out, _ = run_cli("logs", "m.yaml", "sweep/run[9]")
    assert code == 0 and out.count("==> ") == 1 and "boom 9" in out, out
    code, out, _ = run_cli("logs", "m.yaml", "hello/lines", "--tail", "2")
    assert code == 0 and "line 4\nline 5\n" in out and "line 3" not in out, out
    code, out, err = run_cli("logs", "m.yaml", "--failed", "-o", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["format_version"] == "1.0" and document["stack"] == "logs-json"
    jobs = {job["key"]: job for job in document["jobs"]}
    assert jobs["hello"]["tasks"] == [] and jobs["hello"]["state"] == "Finished"
    failed = jobs["sweep"]["tasks"]
    assert [(t["label"], t["exit_code"], t["instance_value"]) for t in failed] == [
        ("run[4]", 3, 4),
        ("run[9]", 3, 9),
        ("run[17]", 3, 17),
    ]
    stderr = next(f for f in failed[0]["files"] if f["streams"] == ["stderr"])
    assert stderr["reachable"] and stderr["text"] == "boom 4\n"


def test_unknown_keys_and_tasks_are_errors_that_list_what_exists(
    cli_env: Path, run_cli: Runner
) -> None:
    applied(cli_env, run_cli, "logs-errors")
    code, _, err = run_cli("logs", "m.yaml", "nope")
    assert code == 1 and "no job key 'nope' (keys: sweep, hello)" in err, err
    code, _, err = run_cli("logs", "m.yaml", "hello/nope")
    assert code == 1 and "has no task 'nope' (tasks: greet, lines)" in err, err
    code, _, err = run_cli("logs", "m.yaml", "sweep/run[99]")
    assert code == 1 and "has no task 'run[99]'" in err, err
    code, _, err = run_cli("logs", "--stack", "logs-errors", "a", "b")
    assert code == 1 and "expected MANIFEST [KEY[/TASK]]" in err
    code, _, err = run_cli("logs", "m.yaml", "--follow", "-o", "json")
    assert code == 1 and "--follow" in err


def test_by_stack_name_every_key_on_the_cluster_is_shown(cli_env: Path, run_cli: Runner) -> None:
    applied(cli_env, run_cli, "logs-by-stack")
    code, out, err = run_cli("logs", "--stack", "logs-by-stack", "hello")
    assert code == 0 and "Hello from logs-by-stack" in out, out + err
    code, out, _ = run_cli("logs", "--stack", "logs-by-stack", "--failed", "--tail", "0")
    assert code == 0 and out.count("==> sweep/run[") == 3 and "boom" not in out, out
    assert "no job of stack" not in err


def test_a_stack_name_with_no_jobs_says_so_instead_of_printing_nothing(
    cli_env: Path, run_cli: Runner
) -> None:
    """Red-team finding: `logs --stack` and `status --stack` of a mistyped stack printed
    nothing (or an empty table) and exited 0, as if it had jobs that printed nothing."""
    for argv in (["logs"], ["status"], ["status", "-o", "json"]):
        code, out, err = run_cli(*argv, "--stack", "logs-by-stak")
        assert code == 0 and "no job of stack 'logs-by-stak' found" in err, (argv, err)
        assert "no job of stack" not in out  # stdout stays what the format says


def test_follow_prints_what_a_running_task_writes_until_its_job_ends(
    cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_logs, "FOLLOW_SECONDS", 0.1)
    gate = cli_env / "gate"
    (cli_env / "m.yaml").write_text(
        "apiVersion: hpcspec/v1\nstack: logs-follow\njobs:\n  slow:\n    tasks:\n"
        "      t:\n        commandLine: \"sh -c 'echo first; while [ ! -e gate ]; do sleep 0.05;"
        " done; echo second'\"\n"
        f"        workDirectory: '{cli_env}'\n        properties: {{StdOutFilePath: t.out}}\n",
        encoding="utf-8",
    )
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    out_file = cli_env / "t.out"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "first" not in _text(out_file):
        time.sleep(0.05)
    from hpcspec.cli import logs as logs_command

    calls = []

    def collect_then_open_the_gate(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:  # the first poll of --follow: the task ends while logs follows it
            gate.touch()
        return collect_logs(*args, **kwargs)

    collect_logs = logs_command.collect_logs
    monkeypatch.setattr(logs_command, "collect_logs", collect_then_open_the_gate)
    code, out, err = run_cli("logs", "m.yaml", "slow", "--follow")
    assert code == 0, out + err
    assert out.index("first") < out.index("(stdout) <==\nsecond") < out.index("Finished, exit")
    assert out.count("first") == 1


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""
