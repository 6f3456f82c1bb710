"""What HPC Pack gives a job or task property that nobody set: the values a manifest need not
state, so `hpcspec import --job` writes only what differs.

Client-side defaults of the Scheduler API (research/hpcpack-ground-truth.md §3.1 and §3.2,
[STORE] SchedulerJob_props.cs and SchedulerTask_Props.cs; the XSDs' defaults in §2.1 agree):
Min/Max cores, sockets and nodes 1, UnitType Core, IsExclusive / RunUntilCanceled /
FailOnTaskFailure false, JobTemplate and Pool `Default`, ExpandedPriority 2000 (Normal),
NodeGroupOp Intersect; tasks IsRerunnable true, FailJobOnFailureCount 1. The Default template
makes AutoCalculateMin/Max true for a job created without Min*/Max*, and then the scheduler,
not the user, decides the Min*/Max* values: they are not the job's own settings either.
Values are canonical (`catalogue.py`): Priority as its 0..4000 number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hpcspec.hpcpack.catalogue import Value

_COUNTS = {
    f"{bound}{unit}": 1 for bound in ("Min", "Max") for unit in ("Cores", "Sockets", "Nodes")
}

JOB_DEFAULTS: Mapping[str, Value] = {
    **_COUNTS,
    "AutoCalculateMax": True,
    "AutoCalculateMin": True,
    "FailDependentTasks": False,
    "FailOnTaskFailure": False,
    "IsExclusive": False,
    "JobTemplate": "Default",
    "NodeGroupOp": "Intersect",
    "NotifyOnCompletion": False,
    "NotifyOnStart": False,
    "Pool": "Default",
    "Preemptable": True,
    "Priority": 2000,
    "RunUntilCanceled": False,
    "RuntimeSeconds": 0,
    "SingleNode": False,
    "UnitType": "Core",
}

TASK_DEFAULTS: Mapping[str, Value] = {
    **_COUNTS,
    "FailJobOnFailure": False,
    "FailJobOnFailureCount": 1,
    "IsExclusive": False,
    "IsRerunnable": True,
    "RuntimeSeconds": 0,
}

# Min*/Max* the scheduler calculates while AutoCalculateMin/Max is true.
_CALCULATED = {
    "AutoCalculateMin": ("MinCores", "MinSockets", "MinNodes"),
    "AutoCalculateMax": ("MaxCores", "MaxSockets", "MaxNodes"),
}
_FLAG_OF = {name: flag for flag, names in _CALCULATED.items() for name in names}


def job_settings(properties: Iterable[tuple[str, Value]]) -> dict[str, Value]:
    """A live job's properties without defaults and without the Min*/Max* values the scheduler
    calculated (AutoCalculateMin/Max true). With AutoCalculateMin/Max false, the bound of the
    job's unit (`MinCores` for UnitType Core…) is kept even at 1 and the flag dropped: the job
    XML importer sets the flag false whenever a Min*/Max* is given (ground truth §2.2), so
    `MinCores: 1` says the same in the words a user wrote."""
    given = dict(properties)
    unit = {"Socket": "Sockets", "Node": "Nodes"}.get(str(given.get("UnitType", "Core")), "Cores")
    kept: dict[str, Value] = {}
    for name, value in given.items():
        flag = _FLAG_OF.get(name)
        if flag is not None and given.get(flag, True):
            continue  # calculated by the scheduler
        if (flag is not None and name.endswith(unit)) or JOB_DEFAULTS.get(name, _UNSET) != value:
            kept[name] = value
    for flag, names in _CALCULATED.items():
        if kept.get(flag) is False and any(name in kept for name in names):
            del kept[flag]
    return kept


def task_settings(properties: Iterable[tuple[str, Value]]) -> dict[str, Value]:
    """A live task's properties without defaults."""
    return {n: v for n, v in properties if TASK_DEFAULTS.get(n, _UNSET) != v}


_UNSET = object()
