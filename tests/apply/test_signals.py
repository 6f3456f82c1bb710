"""An apply stopped at a random point: by Ctrl-C (SIGINT), a cancelled CI job (SIGTERM) or a
terminal that went away (SIGHUP).

Each runs the real CLI as a process of its own against a private emulator with a little
latency, and is signalled once its journal holds a seeded random number of lines (mid-create,
between a create and its marker, around a submit). What must hold: the documented exit code
(130, 143, 129), one line saying so and no traceback, the stack lock released (a CI runner that
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

from tests.apply import cli_process
from tests.apply.stacks import audit, patient_client, stack_text
from tests.apply.test_kill_and_race import LATENCY, SLOW, converged, journal_lines

JOBS = 8
STOPS = (
    (signal.SIGINT, 130, "Interrupted."),
    (signal.SIGTERM, 143, "Terminated."),
    (signal.SIGHUP, 129, "Hung up."),  # the ssh session of the terminal running it dropped
)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_apply_stopped_by_sigint_or_sigterm_releases_its_lock_and_the_next_apply_settles(
    start_emulator: Callable[..., Any], tmp_path: Path
) -> None:
    running = start_emulator(faults=LATENCY, timings=SLOW, nodes=4, cores_per_node=8)
    env = cli_process.cli_env(running, tmp_path)
    chance = random.Random(7)
    for how, code, said in STOPS:
        stack = f"stop{int(how):02d}"  # no name a prefix of another: `converged` lists by it
        (tmp_path / "m.yaml").write_text(stack_text(stack, JOBS))
        journal = cli_process.journal_path(env, stack)
        argv = ["apply", "m.yaml", "--auto-approve", "--parallelism", "2"]
        process = cli_process.start(argv, tmp_path, env, default_signals=True)
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
