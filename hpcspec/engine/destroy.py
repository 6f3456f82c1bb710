"""What `hpcspec destroy` plans: every alive job of a stack cancelled (pure).

Each key with alive jobs (Configuring or active, not already Canceling) gets one CANCEL
change: its current job, with the key's other alive jobs — pending ones that an interrupted
apply left behind included — as duplicates, all cancelled by the destroy's steps
(`step_generator.destroy_steps`). Ended jobs stay as they are.
"""

from __future__ import annotations

from hpcspec.engine.discovery import StackJobs, choose_current
from hpcspec.engine.plan import Action, Change, Plan, Reason, ReasonCode


def plan_destroy(listed: StackJobs, *, stack: str, cluster: str) -> Plan:
    """The destroy plan for every key `listed` found, in key order."""
    changes = []
    for key in sorted({*listed.by_key, *listed.pending}):
        jobs = listed.by_key.get(key, [])
        alive = listed.alive(key)
        if not alive:
            continue
        chosen = choose_current(jobs)[0] if jobs else alive[0]
        current = chosen if chosen in alive else alive[0]
        reasons = [Reason(ReasonCode.DESTROY, f"job {current.id} is {current.state.name}")]
        others = [job for job in alive if job is not current]
        reasons += [Reason(ReasonCode.DESTROY, f"job {j.id} is {j.state.name}") for j in others]
        changes.append(
            Change(
                key=key,
                action=Action.CANCEL,
                reasons=tuple(reasons),
                live_id=current.id,
                live_state=current.state.name,
                duplicates=tuple(job.id for job in others),
            )
        )
    return Plan(stack=stack, cluster=cluster, changes=tuple(changes))
