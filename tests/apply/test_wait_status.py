"""`apply --wait` and `status` at the command line, against the emulator.

Without a TTY, `--wait` prints one line per state change and a heartbeat; Failed jobs are
requeued per `retries`; the exit code is the verdict (0 finished, 5 failed, 6 timed out).
`status` renders text, JSON and markdown, and costs one job listing plus one task listing per
active job (counted at the emulator).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine import wait
from tests.apply.recording import install, uninstall
from tests.conftest import Runner
from tests.engine.conftest import client_for


@pytest.fixture(autouse=True)
def quick_follow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wait, "POLL_SECONDS", 0.1)
    monkeypatch.setattr(wait, "HEARTBEAT_SECONDS", 0.4)


def write(directory: Path, stack: str, jobs: dict[str, str], retries: int = 0) -> Path:
    body = "".join(
        f"  {key}:\n    retries: {retries}\n    tasks:\n      t: {{commandLine: '{command}'}}\n"
        for key, command in jobs.items()
    )
    path = directory / "m.yaml"
    path.write_text(f"apiVersion: hpcspec/v1\nstack: {stack}\njobs:\n{body}", encoding="utf-8")
    return path


def test_wait_prints_each_state_change_and_a_heartbeat_then_exits_0(
    cli_env: Path, run_cli: Runner
) -> None:
    write(cli_env, "wait-ok", {"a": "sleep:1.2", "b": "echo quick"})
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--wait")
    assert code == 0, out + err
    assert "\x1b[" not in out  # no TTY: plain lines, no progress bar
    changes = [line for line in out.splitlines() if re.match(r"wait-ok/[ab] \(job \d+\): ", line)]
    assert any(line.startswith("wait-ok/a") and "→ Finished" in line for line in changes), out
    assert any(line.startswith("wait-ok/b") and "Finished" in line for line in changes), out
    # one line per change: no state is printed twice in a row for a job
    for key in ("a", "b"):
        states = [line.split(": ", 1)[1].split(" [")[0] for line in changes if f"/{key} " in line]
        assert len(states) == len(set(states)), states
    assert "still waiting for 1 job(s): wait-ok/a" in out, out
    assert "All 2 job(s) finished." in out


def test_wait_requeues_a_failed_job_per_retries_then_exits_5(
    cli_env: Path, run_cli: Runner
) -> None:
    write(cli_env, "wait-fail", {"bad": "exit:3"}, retries=1)
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--wait")
    assert code == 5, out + err
    assert "Failed; requeued (1 of 1 retries)" in out
    assert out.count("requeued") == 1
    assert "exit code 3" in out
    assert "wait-fail/bad Failed" in err


def test_status_wait_fails_for_a_key_that_has_no_job(cli_env: Path, run_cli: Runner) -> None:
    write(cli_env, "wait-absent", {"a": "echo quick", "b": "echo quick"})
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--target", "a", "--wait")
    assert code == 0, out + err
    code, out, err = run_cli("status", "m.yaml", "--wait", "--timeout", "20s")
    assert code == 5, out + err
    assert "All 2 job(s) finished." not in out
    assert "1 job(s) did not finish: wait-absent/b absent" in err
    assert "(job None)" not in out
    run_cli("destroy", "m.yaml", "--auto-approve")


def test_a_job_finished_by_hand_with_tasks_never_run_is_not_a_green_wait(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Red-team finding: `POST /jobs/{id}/finish` during `apply --wait` ended the job Finished
    with 2 of 3 tasks canceled, and the wait said "All 1 job(s) finished", exit 0."""
    path = cli_env / "m.yaml"
    path.write_text(
        "apiVersion: hpcspec/v1\nstack: wait-finished-by-hand\njobs:\n  a:\n    tasks:\n"
        "      t1: {commandLine: 'sleep:0.2'}\n"
        "      t2: {commandLine: 'sleep:60', dependsOn: [t1]}\n"
        "      t3: {commandLine: 'sleep:60', dependsOn: [t2]}\n",
        encoding="utf-8",
    )
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    client = client_for(cluster)
    try:
        rows = [r for r in client.iter_jobs(properties=["Id", "Name"]) if r.text("Name") == "a"]
        job_id = max(int(r.text("Id")) for r in rows)
        deadline = time.monotonic() + 20
        while client.job_state(job_id).name != "Running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        client.finish_job(job_id, "done by hand")
    finally:
        client.close()
    code, out, err = run_cli("status", "m.yaml", "--wait", "--timeout", "20s")
    assert code == 5, out + err
    assert "All 1 job(s) finished." not in out
    assert re.search(r"wait-finished-by-hand/a Finished with [23] of 3 task\(s\) canceled", err)
    run_cli("destroy", "m.yaml", "--auto-approve")


def test_status_finds_a_moved_key_before_apply_records_it(cli_env: Path, run_cli: Runner) -> None:
    """`moved: {a: b}` makes a's job b's job for plan before any apply; status listed b as
    absent (and a as a second key), so `status --wait` could not follow b's job."""
    write(cli_env, "wait-moved", {"a": "echo quick"})
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--wait")
    assert code == 0, out + err
    text = (cli_env / "m.yaml").read_text(encoding="utf-8")
    (cli_env / "m.yaml").write_text(
        text.replace("  a:\n", "  b:\n") + "moved:\n  a: b\n", encoding="utf-8"
    )
    code, out, err = run_cli("status", "m.yaml", "--output", "json")
    rows = {row["key"]: row for row in json.loads(out)["jobs"]}
    assert list(rows) == ["b"] and rows["b"]["state"] == "Finished", out
    code, out, err = run_cli("status", "m.yaml", "--wait", "--timeout", "20s")
    assert code == 0, out + err
    run_cli("destroy", "m.yaml", "--auto-approve")


def test_wait_times_out_with_exit_6(cli_env: Path, run_cli: Runner) -> None:
    write(cli_env, "wait-slow", {"slow": "sleep:30"})
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--wait", "--timeout", "1s")
    assert code == 6, out + err
    assert "Timed out" in err
    code, out, err = run_cli("destroy", "m.yaml", "--auto-approve")
    assert code == 0, out + err


def test_status_outputs_and_request_cost(cli_env: Path, run_cli: Runner, cluster: Any) -> None:
    write(
        cli_env,
        "status-cost",
        {"done": "echo ok", "failing": "exit:2 boom", "running": "sleep:30", "other": "sleep:30"},
    )
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    code, out, _ = run_cli("status", "m.yaml", "--wait", "--timeout", "3s")
    assert code == 5  # two jobs still run, but `failing` already failed: 5 over 6
    recorder = install(cluster)
    try:
        code, out, err = run_cli("status", "m.yaml", "--output", "json")
    finally:
        uninstall(cluster, recorder)
    assert code == 0, out + err
    doc = json.loads(out)
    rows = {row["key"]: row for row in doc["jobs"]}
    assert rows["done"]["state"] == "Finished" and rows["failing"]["state"] == "Failed"
    assert rows["running"]["state"] == "Running"
    assert rows["running"]["tasks"] == {"Running": 1} and rows["running"]["total_tasks"] == 1
    assert [t["exit_code"] for t in rows["failing"]["failed_tasks"]] == [2]
    routes = recorder.routes()
    # Status costs the listing pages plus one task listing per job with failed tasks to
    # explain (issue 17): running jobs' tasks by state come from the listing's counters.
    # And the client's one-off read of the cluster's date format (none once an earlier command
    # saved it in the cluster's profile).
    assert routes["GET /hpc/jobs"] == 1
    failing_id = rows["failing"]["job_id"]
    assert routes[f"GET /hpc/jobs/{failing_id}/tasks"] == 1, routes
    assert routes["GET /hpc/cluster/info/dateTimeFormat"] <= 1
    assert sum(routes.values()) == 2 + routes["GET /hpc/cluster/info/dateTimeFormat"], routes
    # --provenance adds one custom-property read per job (a listing cannot return custom
    # properties).
    recorder = install(cluster)
    try:
        assert run_cli("status", "m.yaml", "--provenance", "--output", "json")[0] == 0
    finally:
        uninstall(cluster, recorder)
    wide = recorder.routes()
    assert sum(n for r, n in wide.items() if r.endswith("/customProperties")) == len(rows), wide
    assert sum(wide.values()) == 2 + len(rows) + wide["GET /hpc/cluster/info/dateTimeFormat"]
    code, out, _ = run_cli("status", "m.yaml")
    assert code == 0 and "status-cost" in out and "Failed" in out and "exit code 2" in out, out
    code, md, _ = run_cli("status", "m.yaml", "--output", "markdown")
    assert code == 0 and md.count("\n|") >= 5, md
    assert run_cli("destroy", "m.yaml", "--auto-approve")[0] == 0


def test_wait_on_a_terminal_shows_progress_bars(cluster: Any, tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    from tests.apply import cli_process

    write(tmp_path, "wait-tty", {"a": "sleep:1", "b": "echo quick"})
    env = cli_process.cli_env(cluster, tmp_path, TERM="xterm", COLUMNS="100")
    del env["NO_COLOR"]
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "hpcspec", "apply", "m.yaml", "--auto-approve", "--wait"],
        cwd=tmp_path,
        env=env,
        stdout=follower,
        stderr=subprocess.PIPE,
    )
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the process closed its end
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    text = screen.decode("utf-8", "replace")
    assert "━" in text and "1/1" in text, text  # rich bars: tasks ended of total
    assert "wait-tty/a (job" in text and "All 2 job(s) finished." in text


def test_a_wait_with_no_key_meant_to_run_says_so_instead_of_all_0_finished(
    cli_env: Path, run_cli: Runner
) -> None:
    """Red-team finding (low): with only `state: configuring` keys, `status --wait` printed
    "All 0 job(s) finished."."""
    path = cli_env / "m.yaml"
    path.write_text(
        "apiVersion: hpcspec/v1\nstack: wait-nothing\njobs:\n  a:\n    state: configuring\n"
        "    tasks:\n      t: {commandLine: 'echo hi'}\n",
        encoding="utf-8",
    )
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    code, out, err = run_cli("status", "m.yaml", "--wait", "--timeout", "20s")
    assert code == 0, out + err
    assert "All 0 job(s)" not in out and "Nothing to wait for" in out, out
    run_cli("destroy", "m.yaml", "--auto-approve")
