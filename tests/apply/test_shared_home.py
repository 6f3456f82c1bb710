"""Two applies of one user at once: one HOME, so one state directory and one journal.

Two terminals, or a reconcile loop and a human, share the journal of a stack. With the stack
lock they take turns; without it (`--no-lock`) each one's recovery must still leave alone
what the other is building. (Two stacks have two journals: nothing is shared.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.emulator.faults import FaultPlan, FaultRule
from tests.apply import cli_process
from tests.apply.stacks import stack_text
from tests.apply.test_kill_and_race import SLOW, converged


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
