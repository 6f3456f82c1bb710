"""Applying a saved plan: exactly what was reviewed, refusing jobs the cluster moved past.

`hpcspec apply plan.json` re-reads the manifest the plan was made from, checks that each
job's desired digest is still the one reviewed, discovers the live jobs again, and refuses
(per job, with a `stale-plan` block) any change whose live job id, State or ChangeTime moved
since the plan was made (DESIGN.md §3).
"""

from __future__ import annotations

from dataclasses import replace

from hpcspec.engine.discovery import discover
from hpcspec.engine.plan import Block, BlockCode, Change, Plan
from hpcspec.engine.planner import _time
from hpcspec.engine.protocols import ClusterReader
from hpcspec.manifest.resolve import ResolvedStack


def check_saved(reader: ClusterReader, saved: Plan, stack: ResolvedStack) -> Plan:
    """The saved plan with a `stale-plan` block on every change that no longer holds."""
    live = discover(reader, stack.stack, {k: j.digest for k, j in stack.jobs.items()})
    changes: list[Change] = []
    for change in saved.changes:
        why = _stale(change, stack, live.current.get(change.key) or live.orphans.get(change.key))
        if why:
            change = replace(
                change,
                blocks=(
                    *change.blocks,
                    Block(
                        BlockCode.STALE_PLAN,
                        f"the plan is stale for {change.key}: {why}",
                        "run hpcspec plan again, review it, and apply the new plan",
                    ),
                ),
            )
        changes.append(change)
    return replace(saved, changes=tuple(changes))


def _stale(change: Change, stack: ResolvedStack, job: object) -> str | None:
    desired = stack.jobs.get(change.key)
    if desired is not None and change.desired_digest not in (None, desired.digest):
        return "the manifest changed since the plan was made"
    if desired is None and change.desired_digest is not None:
        return "the job is no longer in the manifest"
    live_id = getattr(job, "id", None)
    if live_id != change.live_id:
        return f"the live job is now {live_id or 'absent'}, the plan saw {change.live_id}"
    if job is None:
        return None
    state = getattr(job, "state", None)
    state_name = state.name if state is not None else None
    if state_name != change.live_state:
        return f"job {live_id} is {state_name} now, the plan saw {change.live_state}"
    if _time(job) != change.live_change_time:  # type: ignore[arg-type]
        return f"job {live_id} changed at {_time(job)} after the plan"  # type: ignore[arg-type]
    return None
