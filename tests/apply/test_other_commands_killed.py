"""`destroy` and `reconcile` stopped at random points, and `destroy` racing an apply.

The real CLI as processes of their own against a private emulator with a little latency
(`test_kill_and_race.py`'s). What must hold: a destroy killed with SIGKILL and run again with
its journal gone ends with no alive job of the stack and its lock jobs cancelled; an apply
after it gives each key one fresh job and the next plan has no changes; a destroy and an
apply started together take turns (the stack lock) and never leave a key two alive jobs; a
reconcile loop stopped by SIGTERM or SIGINT in the middle of a round ends that round, exits
0 and releases its lock, and the next round settles every key.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.emulator.faults import FaultPlan, FaultRule
from hpcspec.engine.events import Recorder
from hpcspec.engine.lock import LockOptions, StackLock
from tests.apply import cli_process
from tests.apply.conftest import InProcess
from tests.apply.stacks import audit, patient_client, stack_text
from tests.apply.test_kill_and_race import LATENCY, SLOW, journal_lines

JOBS = 12  # destroy cancels 8 at a time: a kill leaves some never sent
# Each cancel takes a while: a kill lands between two of them.
SLOW_CANCEL = FaultPlan(
    (*LATENCY.rules, FaultRule(match="POST /hpc/jobs/*/cancel", latency_ms=300))
)
KEYS = sorted(f"j{n}" for n in range(JOBS))


def alive_jobs(running: Any, stack: str) -> tuple[dict[str, list[int]], list[int]]:
    """Each key's alive jobs, and the stack's lock jobs still alive."""
    client = patient_client(running)
    try:
        found = audit(client, stack, KEYS)
    finally:
        client.close()
    alive = {k: [j["id"] for j in jobs if j["alive"]] for k, jobs in found.jobs.items()}
    return {k: ids for k, ids in alive.items() if ids}, found.locks_alive


@pytest.mark.slow
def test_destroy_killed_at_random_points_then_run_again_without_its_journal_converges(
    start_emulator: Callable[..., Any], tmp_path: Path, in_process: InProcess
) -> None:
    running = start_emulator(faults=SLOW_CANCEL, timings=SLOW, nodes=4, cores_per_node=8)
    env = cli_process.cli_env(running, tmp_path)
    chance = random.Random(23)
    stack = "killed-destroy"
    (tmp_path / "m.yaml").write_text(stack_text(stack, JOBS, state="configuring"))
    journal = cli_process.journal_path(env, stack)
    assert cli_process.run(["apply", "m.yaml", "--auto-approve"], tmp_path, env)[0] == 0
    first, _ = alive_jobs(running, stack)
    kills, left_alive = 0, []
    argv = ["destroy", "m.yaml", "--auto-approve"]
    for _ in range(2):  # two kills at seeded random moments, each after 1 or more cancels
        before = len(alive_jobs(running, stack)[0])
        target = before - chance.randint(1, 3)
        process = cli_process.start(argv, tmp_path, env)
        cli_process.wait_until(
            process, lambda t=target: len(alive_jobs(running, stack)[0]) <= t, 0.02
        )
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.communicate(timeout=60)
        journal.unlink(missing_ok=True)
        left_alive.append(len(alive_jobs(running, stack)[0]))
    code, out, err = cli_process.run(["destroy", "m.yaml", "--auto-approve"], tmp_path, env)
    assert code == 0, out + err
    assert alive_jobs(running, stack) == ({}, []), "a job or a lock of the stack left alive"
    assert kills == 2 and left_alive[0] > 0, f"no kill left work undone: {left_alive}"
    code, out, err = cli_process.run(["apply", "m.yaml", "--auto-approve"], tmp_path, env)
    assert code == 0, out + err
    again, locks = alive_jobs(running, stack)
    assert sorted(again) == KEYS and all(len(ids) == 1 for ids in again.values()), again
    assert locks == [] and again["j0"] != first["j0"], "j0 is not a fresh job"
    code, out, err = in_process(["plan", "m.yaml", "--detailed-exitcode"], tmp_path, env)
    assert code == 0, out + err


@pytest.mark.slow
def test_destroy_and_apply_started_together_take_turns_and_leave_no_key_two_jobs(
    start_emulator: Callable[..., Any], tmp_path: Path
) -> None:
    running = start_emulator(faults=LATENCY, timings=SLOW, nodes=4, cores_per_node=8)
    stack = "destroy-race"
    (tmp_path / "m.yaml").write_text(stack_text(stack, JOBS, state="configuring"))
    env = cli_process.cli_env(running, tmp_path)
    assert cli_process.run(["apply", "m.yaml", "--auto-approve"], tmp_path, env)[0] == 0
    # A changed spec: the apply replaces every job while the destroy cancels them.
    runs = []
    for side in ("apply", "destroy"):
        directory = tmp_path / side
        directory.mkdir()
        text = stack_text(stack, JOBS, state="configuring", tasks=3 if side == "apply" else 2)
        (directory / "m.yaml").write_text(text)
        runs.append((directory, cli_process.cli_env(running, directory, HOME=str(directory))))
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", cli_process.BARRIER, str(go), side, "m.yaml", "--auto-approve"],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for side, (cwd, env) in zip(("apply", "destroy"), runs, strict=True)
    ]
    cli_process.release(go, processes)
    outputs = [p.communicate(timeout=90) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    alive, locks = alive_jobs(running, stack)
    assert locks == [] and all(len(ids) == 1 for ids in alive.values()), alive
    # Whoever took the lock second decided: every key applied, or none alive.
    assert sorted(alive) in ([], KEYS), alive


# A round long enough to be stopped in the middle of: each create takes a while.
SLOW_CREATE = FaultPlan(
    (*LATENCY.rules, FaultRule(match="POST /hpc/jobs/jobFile", latency_ms=400)), seed=5
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm-mid-round", "sigint-between-rounds"]
)
def test_reconcile_stopped_mid_round_or_between_rounds_exits_0_unlocked_and_the_next_settles(
    start_emulator: Callable[..., Any], tmp_path: Path, in_process: InProcess, stop: int
) -> None:
    """SIGTERM lands while the first round creates jobs (the round ends first); SIGINT lands
    while the loop waits out a 60 s interval (it stops at once, not after the wait)."""
    running = start_emulator(faults=SLOW_CREATE, timings=SLOW, nodes=4, cores_per_node=8)
    env = cli_process.cli_env(running, tmp_path)
    stack = f"reconcile-{signal.Signals(stop).name.lower()}"
    (tmp_path / "m.yaml").write_text(stack_text(stack, JOBS, state="configuring"))
    journal = cli_process.journal_path(env, stack)
    argv = ["reconcile", "m.yaml", "--interval", "60"]
    process = cli_process.start(argv, tmp_path, env, default_signals=True)
    if stop == signal.SIGTERM:  # mid-round: some creates journalled, not all
        cli_process.wait_until(process, lambda: journal_lines(journal) >= 2, 0.01)
    else:  # between rounds: every key has its job
        cli_process.wait_until(process, lambda: len(alive_jobs(running, stack)[0]) >= JOBS, 0.05)
        time.sleep(0.5)
    assert process.poll() is None, process.communicate()
    signalled = time.monotonic()
    process.send_signal(stop)
    out, err = process.communicate(timeout=60)
    assert time.monotonic() - signalled < 30, "the loop waited out its interval"
    assert process.returncode == 0, out + err
    name = signal.Signals(stop).name
    assert f"{name} received; stopping after this round" in out and "reconcile: stopped" in out
    assert "Traceback" not in err
    alive, locks = alive_jobs(running, stack)
    assert locks == [], "the stopped loop left its lock job alive"
    assert all(len(ids) == 1 for ids in alive.values()), alive
    code, out, err = cli_process.run(["reconcile", "--once", "m.yaml"], tmp_path, env)
    assert code == 0, out + err
    alive, locks = alive_jobs(running, stack)
    assert sorted(alive) == KEYS and all(len(i) == 1 for i in alive.values()) and locks == []
    code, out, err = in_process(["plan", "m.yaml", "--detailed-exitcode"], tmp_path, env)
    assert code == 0, out + err


@pytest.mark.slow
def test_reconcile_stopped_while_waiting_for_another_holders_lock_stops_at_once(
    start_emulator: Callable[..., Any], tmp_path: Path
) -> None:
    """A service manager sends SIGTERM and, 90 s later (systemd), SIGKILL: a round waiting
    for a lock another apply holds (up to --lock-timeout, 600 s by default) has changed
    nothing, so it stops waiting, cancels its own lock job and the loop exits 0."""
    running = start_emulator(faults=LATENCY, timings=SLOW)
    env = cli_process.cli_env(running, tmp_path)
    stack = "reconcile-waits"
    (tmp_path / "m.yaml").write_text(stack_text(stack, 2, state="configuring"))
    client = patient_client(running)
    holder = StackLock(client, stack, [], LockOptions(), Recorder())
    holder.acquire()  # another apply, alive, holds the stack
    try:
        argv = ["reconcile", "m.yaml", "--interval", "60"]
        process = cli_process.start(argv, tmp_path, env, default_signals=True)
        # until its lock job waits behind the holder's
        cli_process.wait_until(process, lambda: len(alive_jobs(running, stack)[1]) >= 2, 0.05)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGTERM)
        try:
            out, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"still waiting for the lock 20 s after SIGTERM: {out + err}")
        assert process.returncode == 0, out + err
        assert "stopped while waiting for the lock" in out and "reconcile: stopped" in out
        assert alive_jobs(running, stack) == ({}, [holder.job_id]), "its lock job left alive"
    finally:
        holder.release()
        client.close()
