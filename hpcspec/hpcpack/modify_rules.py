"""Which job properties may change in which job state.

Transcribed from `reference/hpcpack/derived/job-modify-rules.json` (the scheduler store's
`CanPropBeSet`), the strict table the REST API follows (`research/hpcpack-ground-truth.md` §4.2:
a PUT of Name on a Queued job is refused). Tasks may change only while the job is Configuring.
"""

from __future__ import annotations

from hpcspec.hpcpack.states import JobState

ANY_TIME = frozenset(
    {
        "Progress",
        "ProgressMessage",
        "EndpointReference",
        "NumberOfCalls",
        "NumberOfOutstandingCalls",
        "CallDuration",
        "CallsPerSecond",
    }
)

_QUEUED = frozenset(
    {
        "ErrorCode",
        "ErrorParams",
        "RequestCancel",
        "UserName",
        "Password",
        "PendingReason",
        "HoldUntil",
        "NotifyOnStart",
        "NotifyOnCompletion",
        "TargetResourceCount",
        "EmailAddress",
        # checked against the job template's priority range
        "Priority",
        "ExpandedPriority",
    }
)

_RUNNING = frozenset(
    {
        "ErrorCode",
        "ErrorParams",
        "RequestCancel",
        "NotifyOnCompletion",
        "TargetResourceCount",
        "EmailAddress",
        "HoldUntil",
        # checked against the job template
        "Project",
        "RuntimeSeconds",
        "Name",
        "RunUntilCanceled",
        "Priority",
        "ExpandedPriority",
    }
)

SETTABLE_BY_STATE: dict[JobState, frozenset[str]] = {
    JobState.Queued: _QUEUED,
    JobState.Running: _RUNNING,
}


def can_set_job_property(name: str, state: JobState) -> bool:
    """Whether the scheduler accepts a change of `name` while the job is in `state`."""
    if name in ANY_TIME or state is JobState.Configuring:
        return True
    return name in SETTABLE_BY_STATE.get(state, frozenset())


def can_modify_tasks(state: JobState) -> bool:
    """Tasks change only while the job is Configuring (Operation_TryToModifyInvalidStateTask)."""
    return state is JobState.Configuring
