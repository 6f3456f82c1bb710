"""Three appliers without a cluster profile race on a cluster that keeps the ClientSource a
PUT writes but replaces it at submit (`StampedAt.SUBMIT`): each learns that only after its
first submit, so its race checks before then must find the rivals' submitted jobs, whose
markers are gone, by their custom properties (`custom_identity.unmeasured`): exactly one job
per key, no key submitted twice (the invariants of `test_stress.py`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.emulator.faults import FaultPlan
from hpcspec.hpcpack.profile import ClusterProfile, StampedAt
from tests.apply.conftest import InProcess
from tests.apply.test_stress import (
    EXTRA_ROUNDS,
    JITTER,
    LARGE,
    SLOW_CREATES,
    check_round,
    rounds,
    run_round,
)

AT_SUBMIT = ClusterProfile(
    client_source_kept=False,
    client_source_stamp="HPC Scheduler",
    client_source_stamped_at=StampedAt.SUBMIT,
)
JOBS = 8


@pytest.mark.slow
def test_racing_appliers_without_a_profile_where_the_submit_replaces_client_source(
    start_emulator: Callable[..., Any], tmp_path: Path, in_process: InProcess
) -> None:
    plan = FaultPlan((*JITTER, *SLOW_CREATES), seed=23)
    running = start_emulator(faults=plan, profile=AT_SUBMIT, **LARGE)
    argv = ["apply", "m.yaml", "--auto-approve", "--create-via", "xml", "--no-lock"]
    created = n = 0
    while n < rounds("xml") or (created <= JOBS * n and n < rounds("xml") + EXTRA_ROUNDS):
        stack = f"submit{n}"
        run_round(running, tmp_path / stack, stack, argv, retry=False, jobs=JOBS)
        jobs = check_round(running, tmp_path / stack, stack, in_process, tagged=True, jobs=JOBS)
        created += sum(jobs.values())
        n += 1
    assert created > JOBS * n, f"{n} rounds and no applier ever raced another"
