"""What apply will do for each change, as data (pure): a `Plan` → ordered `Step`s per job.

The apply executor runs these against the cluster; tests and `--dry-run` read them. Steps of
one job run in order; jobs run in dependency order (a parent's id is needed for
`ParentJobIds`), independent jobs in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from hpcspec.engine.plan import Action, Change, Plan


class StepKind(Enum):
    CANCEL_OLD = "cancel-old"  # cancel the job a replace supersedes
    CANCEL_DUPLICATES = "cancel-duplicates"
    CREATE = "create"  # create the job (job XML or REST) with identity tags and token
    MARK = "mark"  # PUT ClientSource marker (+ ParentJobIds)
    UPDATE = "update"  # PUT changed properties, custom properties, env, tasks; retag digest
    CHECK_RACE = "check-race"  # another applier created the same key+digest? lowest id wins
    SUBMIT = "submit"  # submit (with runAs credentials when given)
    REQUEUE = "requeue"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Step:
    """One thing apply does to one job key."""

    kind: StepKind
    key: str
    job_id: int | None = None  # the live job the step acts on, when it exists already
    detail: str = ""


def steps_for(change: Change, *, submit: bool = True) -> list[Step]:
    """The ordered steps of one change (`submit`: the manifest wants the job submitted)."""
    key, live = change.key, change.live_id
    out: list[Step] = []
    if change.duplicates:
        out.append(
            Step(StepKind.CANCEL_DUPLICATES, key, None, ",".join(str(d) for d in change.duplicates))
        )
    match change.action:
        case Action.CREATE | Action.RERUN:
            out += _create(key, submit)
        case Action.REPLACE:
            out.append(Step(StepKind.CANCEL_OLD, key, live))
            out += _create(key, submit)
        case Action.UPDATE:
            out.append(Step(StepKind.UPDATE, key, live))
            if submit and change.live_state == "Configuring":
                out.append(Step(StepKind.SUBMIT, key, live))
        case Action.SUBMIT:
            out += [Step(StepKind.CHECK_RACE, key, live), Step(StepKind.SUBMIT, key, live)]
        case Action.REQUEUE:
            out.append(Step(StepKind.REQUEUE, key, live))
        case Action.CANCEL:
            out.append(Step(StepKind.CANCEL, key, live))
        case Action.NO_OP:
            pass
    return out


def _create(key: str, submit: bool) -> list[Step]:
    out = [Step(StepKind.CREATE, key), Step(StepKind.MARK, key)]
    if submit:
        out += [Step(StepKind.CHECK_RACE, key), Step(StepKind.SUBMIT, key)]
    return out


def plan_steps(plan: Plan, submit_keys: frozenset[str]) -> dict[str, list[Step]]:
    """Every change's steps, by key; changes that are refused (blocked) get none."""
    return {
        change.key: steps_for(change, submit=change.key in submit_keys)
        for change in plan.changes
        if not change.blocks and change.is_change
    }
