"""An apply killed with SIGKILL and re-run, and two applies racing, never leave a duplicate.

Both run the real CLI (`python -m hpcspec apply`) as separate processes against a private
emulator with a little latency, so a kill lands in the middle of creating, marking or
submitting (DESIGN.md §4: journal, recovery by token, marker; races settle by lowest id).
"""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.emulator import Timings
from hpcspec.emulator.faults import FaultPlan, FaultRule
from tests.apply import cli_process
from tests.apply.conftest import InProcess
from tests.apply.stacks import audit, live_by_name, patient_client, stack_text

LATENCY = FaultPlan((FaultRule(match="*", latency_ms=15),), seed=1)
# Racing appliers see each other only if each plans before the other's jobs are complete
# (a job still being created is listed, but pending: never a key's current job). A create
# that takes a second keeps that true on a machine loaded enough to start one process late.
RACE = FaultPlan(
    (*LATENCY.rules, FaultRule(match="POST /hpc/jobs/jobFile", latency_ms=1000)), seed=1
)
SLOW = Timings(tick=0.5, simulate=0.05)
JOBS = 10
# Stacks killed and re-run: one by each create path; `HPCSPEC_STRESS_ROUNDS` above 1 adds a
# second XML stack (two more kills at other seeded moments), as the stress tests read it.
KILLED = (
    ("xml", "rest", "xml")
    if int(os.environ.get("HPCSPEC_STRESS_ROUNDS", "1")) > 1
    else ("xml", "rest")
)


def journal_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def converged(running: Any, prefix: str, jobs: int, tasks: int = 2) -> None:
    client = patient_client(running)
    try:
        live = live_by_name(client, prefix)
    finally:
        client.close()
    assert set(live) == {f"{prefix}-j{n}" for n in range(jobs)}
    assert {n: len(j) for n, j in live.items() if len(j) != 1} == {}, "a duplicate job"
    assert all(j[0][1] != "Configuring" and j[0][2] == tasks for j in live.values())


@pytest.mark.slow
def test_apply_killed_at_random_points_and_rerun_converges_without_duplicates(
    start_emulator: Callable[..., Any], tmp_path: Path, in_process: InProcess
) -> None:
    """Each rerun starts with the journal deleted (an ephemeral CI runner, issue 13 (5)): the
    jobs a killed apply left pending are found by listing and adopted or cancelled."""
    running = start_emulator(faults=LATENCY, timings=SLOW, nodes=4, cores_per_node=8)
    env = cli_process.cli_env(running, tmp_path)
    chance = random.Random(11)
    kills = 0
    for n, via in enumerate(KILLED):
        stack = f"kill{n}"
        (tmp_path / "m.yaml").write_text(stack_text(stack, JOBS))
        journal = cli_process.journal_path(env, stack)
        argv = ["apply", "m.yaml", "--auto-approve", "--parallelism", "2", "--create-via", via]
        for _ in range(2):  # two kills at seeded random moments, then a run to the end
            journal.unlink(missing_ok=True)
            process = cli_process.start(argv, tmp_path, env)
            # Kill once the journal has a seeded random number of events: mid-create,
            # between a create and its marker, or around a submit.
            target = chance.randint(1, 2 * JOBS)
            cli_process.wait_until(
                process, lambda t=target, j=journal: journal_lines(j) >= t, 0.002
            )
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.communicate(timeout=60)
        journal.unlink(missing_ok=True)
        code, out, err = cli_process.run(argv, tmp_path, env)
        assert code == 0, out + err
        code, out, err = in_process(["plan", "m.yaml", "--detailed-exitcode"], tmp_path, env)
        assert code == 0, out + err
        converged(running, stack, JOBS)
        client = patient_client(running)
        found = audit(client, stack, [f"j{j}" for j in range(JOBS)])
        client.close()
        assert found.configuring() == [] and found.two_alive() == [], found.jobs
    assert kills >= len(KILLED) + 1, "the applies ended before they could be killed"


@pytest.mark.slow
def test_two_applies_started_together_leave_one_submitted_job_per_key(
    start_emulator: Callable[..., Any], tmp_path: Path
) -> None:
    running = start_emulator(faults=RACE, timings=SLOW, nodes=4, cores_per_node=8)
    # No stack lock: the race rule alone must hold (the lock would make them take turns).
    argv = ["apply", "m.yaml", "--auto-approve", "--parallelism", "4", "--no-lock"]
    runs = []
    for side in ("a", "b"):  # like two CI runners: own directory, HOME, state and journal
        directory = tmp_path / side
        directory.mkdir()
        (directory / "m.yaml").write_text(stack_text("race", JOBS))
        runs.append((directory, cli_process.cli_env(running, directory, HOME=str(directory))))
    processes = cli_process.start_together(argv, runs, tmp_path / "go")
    outputs = [p.communicate(timeout=90) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    converged(running, "race", JOBS)
    client = patient_client(running)
    rows = list(client.iter_jobs(properties=("Id", "Name", "State")))
    client.close()
    # Both really raced: more jobs were created than there are keys (the losers cancelled).
    assert len(rows) > JOBS
