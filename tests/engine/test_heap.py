"""An apply runs with the objects it started with frozen out of the cyclic collector (issue 17).

A full collector pass over the plan stalled every worker for 20–28 ms at the start of the
40 × 50 job XML apply (`engine/heap.py`); these tests hold that the apply runs frozen and that
nothing stays frozen after it.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from hpcspec.engine.events import Event, StepStarted
from hpcspec.engine.heap import frozen_heap
from hpcspec.engine.journal import Journal
from hpcspec.engine.outcomes import Outcome
from hpcspec.engine.pipeline import apply_plan, plan_stack
from hpcspec.engine.steps import ApplyOptions, CreateMethod
from hpcspec.manifest import parse_manifest, resolve
from tests.engine.conftest import client_for

MANIFEST = """\
apiVersion: hpcspec/v1
stack: frozen
jobs:
  a: {tasks: {t: {commandLine: 'echo a'}}}
  b: {tasks: {t: {commandLine: 'echo b'}}}
"""


def test_objects_alive_at_the_start_are_frozen_until_the_outermost_block_ends() -> None:
    # Frozen objects that die leave the count (other threads of the test process free some),
    # so the checks are on whether anything is frozen, not on exact counts.
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        assert gc.get_freeze_count() > 0
        with frozen_heap():
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0  # the inner block gave nothing back
    assert gc.get_freeze_count() == 0


def test_a_block_that_raises_still_gives_the_objects_back() -> None:
    try:
        with frozen_heap():
            raise KeyError("x")
    except KeyError:
        pass
    assert gc.get_freeze_count() == 0


class FreezeProbe:
    """An observer noting how many objects were frozen when each step started."""

    def __init__(self) -> None:
        self.counts: list[int] = []

    def notify(self, event: Event) -> None:
        if isinstance(event, StepStarted):
            self.counts.append(gc.get_freeze_count())


def test_an_apply_runs_its_steps_with_the_plan_frozen_and_unfreezes_after(
    emulator: Any, tmp_path: Path
) -> None:
    client = client_for(emulator)
    stack = resolve(parse_manifest(MANIFEST, file="m.yaml"))
    plan = plan_stack(client, stack, cluster_name="emulator")
    probe = FreezeProbe()
    options = ApplyOptions(via=CreateMethod.XML, parallelism=2)
    journal = Journal(tmp_path / "frozen.jsonl")
    result = apply_plan(client, stack, plan, journal, options=options, observer=probe)
    client.close()
    assert [r.outcome for r in result.results] == [Outcome.DONE, Outcome.DONE]
    assert probe.counts and all(count > 0 for count in probe.counts)
    assert gc.get_freeze_count() == 0
