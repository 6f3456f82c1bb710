"""What `hpcspec destroy` plans: every alive job of a stack cancelled; and whether it is done.

Each key with alive jobs (Configuring or active, not already Canceling) gets one CANCEL
change: its current job, with the key's other alive jobs — pending ones that an interrupted
apply left behind included — as duplicates, all cancelled by the destroy's steps
(`step_generator.destroy_steps`). Ended jobs stay as they are.

A listing may not show a job that exists (jobs deleted between its pages move the later rows
up, past a continuation that counts rows: docs/cluster-check.md, "Listings"), and no pass can
see that it happened. So a destroy is done only when a listing after its cancels shows no
alive job of the stack that its plan did not cancel (`left_alive`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from hpcspec.engine.discovery import StackJobs, choose_current
from hpcspec.engine.plan import Action, Change, Plan, Reason, ReasonCode
from hpcspec.engine.protocols import ClusterReader, JobColumns
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.errors import NotFound


def still_there(reader: ClusterReader, adopted: Mapping[str, int]) -> dict[str, int]:
    """The `adopt:` entries whose job still exists (one read each): destroy passes over a job
    the cluster has purged, where plan and status stop on it (`adopted-job-missing`)."""
    out = {}
    for key, job_id in adopted.items():
        try:
            reader.listed_job(job_id, JobColumns.STATUS)
        except NotFound:
            continue
        out[key] = job_id
    return out


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


def left_alive(plan: Plan, listed: StackJobs) -> dict[str, list[int]]:
    """Per key, the alive jobs a listing after the destroy shows that `plan` did not cancel
    (jobs the plan's listing never showed; a job it cancelled that a lagging listing still
    shows alive is not counted)."""
    cancelled = {c.live_id for c in plan.changes} | {d for c in plan.changes for d in c.duplicates}
    left: dict[str, list[int]] = {}
    for key in sorted({*listed.by_key, *listed.pending}):
        ids = [job.id for job in listed.alive(key) if job.id not in cancelled]
        if ids:
            left[key] = ids
    return left


def check_done(plan: Plan, listing: Callable[[bool], StackJobs]) -> None:
    """A destroy is done only when a listing after its cancels (`listing(read_orphans)`)
    shows no alive job of the stack that `plan` did not cancel."""
    left = left_alive(plan, listing(False))
    if any(key.startswith("<unknown:") for key in left):  # forgotten? its key?
        left = left_alive(plan, listing(True))
    if left:
        raise not_done(plan.stack, left)


def not_done(stack: str, left: dict[str, list[int]]) -> HpcspecError:
    """The error of a destroy that a listing after its cancels shows jobs of the stack left."""
    jobs = "; ".join(f"{key!r}: job {', '.join(map(str, ids))}" for key, ids in left.items())
    return HpcspecError(
        f"destroy of stack {stack!r} is not done: jobs of it are still alive that the "
        f"listing it planned from did not show ({jobs})",
        code="destroy-incomplete",
        hint="run destroy again; a listing that keeps missing jobs: docs/cluster-check.md, "
        "Listings",
    )
