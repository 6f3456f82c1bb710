"""The planner's check (pure) that each new job's parent jobs can still finish.

Apply creates a job with the ids of its `dependsOn` keys' jobs in `ParentJobIds`: the parent's
new job when this plan makes one, else the parent key's current job (`LiveStack.current_ids`,
what the executor uses). HPC Pack cancels a job whose parent job is Canceled or Failed
(`Execution_ParentJobCanceled`, `reference/hpcpack/derived/error-codes.json`; the emulator's
clock does the same when the child would start), and apply cannot create a job whose parent
key has no job at all (`missing-parent`). A plan that would make such a job — `apply --target
child` after a destroy, or while the parent failed after its retries — is refused with
`BlockCode.DEAD_PARENT`, naming the parent and the flag that takes it along, instead of a
plan saying "1 to create" whose job HPC Pack cancels at once. Refusals go down the chain: a
refused parent keeps its dead job, so its new children are refused too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from hpcspec.engine.plan import Action, Block, BlockCode, Change
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState
from hpcspec.manifest.resolve import ResolvedStack

# HPC Pack cancels the children of a parent job in these states.
_DEAD = frozenset({JobState.Failed, JobState.Canceled, JobState.Canceling})


def with_live_parents(
    changes: list[Change], stack: ResolvedStack, current: Mapping[str, LiveJob]
) -> list[Change]:
    """`changes` with every new job refused whose parent key will have no job that can
    finish once the plan is carried out (the module's rule)."""
    by_key = {c.key: c for c in changes}
    while True:  # a refusal leaves its key's dead job in place: look again below it
        more = {
            key: dead
            for key, change in by_key.items()
            if change.action.makes_job and not change.blocks and key in stack.jobs
            for dead in [_dead_parents(key, by_key, stack, current)]
            if dead
        }
        if not more:
            return [by_key[c.key] for c in changes]
        for key, dead in more.items():
            by_key[key] = _refused(by_key[key], dead, by_key, current)


def _dead_parents(
    key: str, by_key: Mapping[str, Change], stack: ResolvedStack, current: Mapping[str, LiveJob]
) -> list[str]:
    out = []
    for parent in stack.jobs[key].depends_on:
        change = by_key.get(parent)
        if (
            change is not None
            and not change.blocks
            and (change.action.makes_job or change.action is Action.REQUEUE)
        ):
            continue  # the parent has a job that will run: a new one, or its own requeued
        job = current.get(parent)
        if job is None or job.state in _DEAD:
            out.append(parent)
    return out


def _refused(
    change: Change, dead: list[str], by_key: Mapping[str, Change], current: Mapping[str, LiveJob]
) -> Change:
    def standing(parent: str) -> str:
        job = current.get(parent)
        return f"{parent} (no job)" if job is None else f"{parent} (job {job.id}, {job.state.name})"

    left_out = [p for p in dead if p not in by_key]
    refused = [p for p in dead if p in by_key and by_key[p].blocks]
    idle = [p for p in dead if p in by_key and not by_key[p].blocks]
    # Left out by --target (name it too) or by --exclude (drop that): either takes it along.
    along = " ".join(f"--target {p}" for p in left_out)
    hints = [f"{along} takes it along (or no --exclude of it)"] if left_out else []
    hints += [f"{', '.join(refused)}: see its refusal above"] if refused else []
    hints += [" ".join(f"--rerun {p}" for p in idle) + " runs it again"] if idle else []
    block = Block(
        BlockCode.DEAD_PARENT,
        f"{change.key} depends on {', '.join(standing(p) for p in dead)}, which this plan "
        "does not run again: HPC Pack would cancel the new job at once",
        "; ".join(hints),
    )
    return replace(change, blocks=(*change.blocks, block))
