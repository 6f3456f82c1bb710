"""An apply stopped by Ctrl-C (SIGINT) or by a cancelled CI job (SIGTERM) at a random point.

Each runs the real CLI as a process of its own against a private emulator with a little
latency, and is signalled once its journal holds a seeded random number of lines (mid-create,
between a create and its marker, around a submit). What must hold: the documented exit code
(130, 143), one line saying so and no traceback, the stack lock released (a CI runner that
takes over would otherwise wait two minutes for it to go stale), and the next apply settles
every key exactly once.
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.emulator.faults import FaultPlan, FaultRule
from tests.apply import cli_process
from tests.apply.stacks import audit, patient_client, stack_text
from tests.apply.test_kill_and_race import LATENCY, SLOW, converged, journal_lines

JOBS = 8
STOPS = ((signal.SIGINT, 130, "Interrupted."), (signal.SIGTERM, 143, "Terminated."))


@pytest.mark.slow
def test_apply_stopped_by_sigint_or_sigterm_releases_its_lock_and_the_next_apply_settles(
    start_emulator: Callable[..., Any], tmp_path: Path
) -> None:
    running = start_emulator(faults=LATENCY, timings=SLOW, nodes=4, cores_per_node=8)
    env = cli_process.cli_env(running, tmp_path)
    chance = random.Random(7)
    for how, code, said in STOPS:
        stack = f"sig{int(how)}"
        (tmp_path / "m.yaml").write_text(stack_text(stack, JOBS))
        journal = cli_process.journal_path(env, stack)
        argv = ["apply", "m.yaml", "--auto-approve", "--parallelism", "2"]
        process = cli_process.start(argv, tmp_path, env)
        target = chance.randint(1, 2 * JOBS)
        while process.poll() is None and journal_lines(journal) < target:
            time.sleep(0.002)
        assert process.poll() is None, "the apply ended before it could be stopped"
        process.send_signal(how)
        out, err = process.communicate(timeout=60)
        assert process.returncode == code, (how, out, err)
        assert said in err and "hpcspec apply m.yaml` resumes" in err, err
        assert "Traceback" not in err + out
        client = patient_client(running)
        try:
            assert audit(client, stack, []).locks_alive == [], f"{how.name} left its lock job"
        finally:
            client.close()
        # The next apply (on another runner: no journal) takes the lock at once and settles.
        journal.unlink(missing_ok=True)
        rerun = cli_process.run([*argv, "--lock-timeout", "0s"], tmp_path, env)
        assert rerun[0] == 0, rerun
        converged(running, stack, JOBS)
        client = patient_client(running)
        try:
            found = audit(client, stack, [f"j{j}" for j in range(JOBS)])
        finally:
            client.close()
        assert found.configuring() == [] and found.two_alive() == [], found.jobs


@pytest.mark.slow
def test_an_apply_without_the_lock_leaves_alone_the_creates_another_live_apply_of_this_home_builds(
    start_emulator: Callable[..., Any], tmp_path: Path
) -> None:
    """Two `--no-lock` applies of one user (one journal: two terminals, a reconcile loop and a
    human). The second one's recovery settles "the creates this journal left open", and the
    first one's REST create in progress was one of them: it was cancelled under it and its key
    failed. A create whose writer still runs is not left open; it is in flight."""
    slow_tasks = FaultPlan((FaultRule(match="POST /hpc/jobs/*/tasks*", latency_ms=150),), seed=1)
    running = start_emulator(faults=slow_tasks, timings=SLOW, nodes=4, cores_per_node=8)
    env = cli_process.cli_env(running, tmp_path)
    (tmp_path / "m.yaml").write_text(stack_text("shared", 2, tasks=6))
    journal = cli_process.journal_path(env, "shared")
    argv = ["apply", "m.yaml", "--auto-approve", "--no-lock", "--create-via", "rest"]
    first = cli_process.start([*argv, "--parallelism", "1"], tmp_path, env)
    while first.poll() is None and b"create-started" not in (
        journal.read_bytes() if journal.exists() else b""
    ):
        time.sleep(0.002)
    assert first.poll() is None, "the first apply ended before its create was in progress"
    second = cli_process.run(argv, tmp_path, env)
    out, err = first.communicate(timeout=60)
    assert (first.returncode, second[0]) == (0, 0), (out, err, second)
    converged(running, "shared", 2, tasks=6)
