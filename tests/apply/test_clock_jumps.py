"""The wall clock jumping (NTP stepping it, a VM resumed, a user setting it) while apply waits.

hpcspec's timeouts are on the monotonic clock: `--lock-timeout` and `--wait --timeout` must
last as long as they say whatever `time.time()` does meanwhile. Here it jumps a day forward on
every read. (A lock's staleness is judged on the server's clock, from two
lock jobs' ChangeTime, never on ours: `tests/apply/test_lock.py`.)
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine.events import Recorder
from hpcspec.engine.lock import LockOptions, StackLock
from tests.apply.stacks import patient_client, stack_text
from tests.conftest import Runner

DAY = 86_400.0


@pytest.fixture
def jumping_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each read a day later than the one before: a deadline on this clock passes at the next
    read (a clock stepped back instead would make such a wait last for ever)."""
    real, reads = time.time, itertools.count(1)
    monkeypatch.setattr(time, "time", lambda: real() + DAY * next(reads))


@pytest.mark.slow  # waits out a 1 s --lock-timeout, then a short --wait
def test_lock_timeout_and_wait_timeout_ignore_a_wall_clock_that_jumps(
    cluster: Any, cli_env: Path, run_cli: Runner, jumping_clock: None
) -> None:
    (cli_env / "m.yaml").write_text(stack_text("clockjump", 2))
    client = patient_client(cluster)
    holder = StackLock(client, "clockjump", [], LockOptions(), Recorder())
    holder.acquire()
    try:
        started = time.monotonic()
        code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--lock-timeout", "1s")
        waited = time.monotonic() - started
    finally:
        holder.release()
        client.close()
    assert code == 1 and "[stack-locked]" in err, out + err
    assert 1.0 <= waited < 30, waited  # not at once: the wall clock ran a day ahead
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--wait", "--timeout", "60s")
    assert code == 0, out + err
