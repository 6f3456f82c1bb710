"""A new job is never made to wait on a parent job HPC Pack will not let it follow (pure).

HPC Pack cancels a job whose parent job is Canceled or Failed (`Execution_ParentJobCanceled`,
reference/hpcpack/derived/error-codes.json); apply gives a new job its parent key's current
job when the plan makes no new one. Red-team finding: after `destroy`, `apply --target c`
planned "1 to create" and made a job HPC Pack cancelled at once.
"""

from __future__ import annotations

import pytest

from hpcspec.engine.discovery import LiveStack
from hpcspec.engine.plan import Action, BlockCode, Change, PlanOptions
from hpcspec.engine.planner import make_plan
from hpcspec.hpcpack.states import JobState
from tests.engine.test_dependents import chain, job

DESTROYED = "Canceled by user. Message: hpcspec destroy at 2026-05-01T10:00:00Z"


def plan(options: PlanOptions, cancel: str = DESTROYED, **states: JobState) -> dict[str, Change]:
    """The plan of `chain()` whose keys have jobs in `states`; a Canceled one by `cancel`."""
    stack = chain()
    current = {
        key: job(stack, key, 10 + n, s, error_message=cancel if s is JobState.Canceled else "")
        for n, (key, s) in enumerate(states.items())
    }
    made = make_plan(stack, LiveStack(current=current), cluster="c", options=options)
    return {c.key: c for c in made.changes}


def blocks(change: Change) -> list[BlockCode]:
    return [b.code for b in change.blocks]


def target(*keys: str) -> PlanOptions:
    return PlanOptions(targets=frozenset(keys))


def test_a_child_targeted_alone_after_a_destroy_is_refused_naming_the_parent() -> None:
    gone = {k: JobState.Canceled for k in "abc"}
    changes = plan(target("c"), **gone)
    assert changes["c"].action is Action.CREATE
    assert blocks(changes["c"]) == [BlockCode.DEAD_PARENT]
    block = changes["c"].blocks[0]
    assert "c depends on b (job 11, Canceled)" in block.message
    assert block.hint == "--target b takes it along (or no --exclude of it)"


def test_a_refused_parent_refuses_its_children_down_the_chain() -> None:
    gone = {k: JobState.Canceled for k in "abc"}
    changes = plan(target("b", "c"), **gone)
    assert blocks(changes["b"]) == blocks(changes["c"]) == [BlockCode.DEAD_PARENT]
    assert changes["c"].blocks[0].hint == "b: see its refusal above"
    changes = plan(target("a", "b", "c"), **gone)
    assert not any(c.blocks for c in changes.values())  # the whole chain comes back


@pytest.mark.parametrize("state", [JobState.Failed, JobState.Canceled], ids=lambda s: s.name)
def test_a_parent_that_ended_badly_and_is_not_run_again_refuses_a_new_child(
    state: JobState,
) -> None:
    """b failed after its retries, or was canceled outside hpcspec: the plan leaves it."""
    states = {"a": JobState.Finished, "b": state, "c": JobState.Finished}
    changes = plan(PlanOptions(rerun=frozenset({"c"})), "maintenance", **states)
    assert changes["b"].action is Action.NO_OP and changes["b"].unmet is not None
    assert changes["c"].action is Action.RERUN and blocks(changes["c"]) == [BlockCode.DEAD_PARENT]
    assert changes["c"].blocks[0].hint == "--rerun b runs it again"


def test_a_child_with_no_parent_job_at_all_is_refused_in_the_plan_not_in_apply() -> None:
    changes = plan(target("c"))
    assert blocks(changes["c"]) == [BlockCode.DEAD_PARENT]
    assert "c depends on b (no job)" in changes["c"].blocks[0].message


@pytest.mark.parametrize(
    "state",
    [JobState.Finished, JobState.Running, JobState.Queued, JobState.Configuring],
    ids=lambda s: s.name,
)
def test_a_parent_that_finished_or_will_run_is_a_parent_to_wait_on(state: JobState) -> None:
    states = {"a": JobState.Finished, "b": state, "c": JobState.Finished}
    changes = plan(PlanOptions(rerun=frozenset({"c"})), **states)
    assert changes["c"].action is Action.RERUN and not changes["c"].blocks
