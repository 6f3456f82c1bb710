"""Job, task and node properties as the REST API shows them: names, types, defaults, parsing.

Names and store types are transcribed from `reference/hpcpack/derived/property-ids.json`
(JobPropertyIds / TaskPropertyIds); which a client may set comes from the REST create/PUT/add
lists in `research/hpcpack-ground-truth.md` §3.1-§3.2 (plus every name of
`derived/job-modify-rules.json`). Values are stored exactly as the wire carries them (strings);
booleans as .NET writes them (`True`/`False`, §7) and times in the head node's format
(`M/d/yyyy h:mm:ss tt`, UTC). Keys starting with `_` are the emulator's own bookkeeping.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from hpcspec.emulator import errors, messages
from hpcspec.hpcpack import values
from hpcspec.hpcpack.states import JobState, JobType, NodeGroupOp, TaskState, TaskType, UnitType

DATETIME_FORMAT = "M/d/yyyy h:mm:ss tt"  # GET /cluster/info/dateTimeFormat (spec example)

JOB_TYPES: dict[str, str] = {
    "Id": "Int32", "State": "JobState", "PreviousState": "JobState",
    "AllocatedNodes": "AllocationList", "SubmitTime": "DateTime", "CreateTime": "DateTime",
    "StartTime": "DateTime", "EndTime": "DateTime", "ChangeTime": "DateTime", "Name": "String",
    "IsExclusive": "Boolean", "RunUntilCanceled": "Boolean", "UnitType": "JobUnitType",
    "RuntimeSeconds": "Int32", "Owner": "String", "UserName": "String", "Password": "String",
    "Project": "String", "JobType": "JobType", "JobTemplate": "String", "Priority": "JobPriority",
    "RequestedNodes": "StringList", "NodeGroups": "StringList", "RequiredNodes": "String",
    "IsBackfill": "Boolean", "SoftwareLicense": "StringList", "ErrorMessage": "String",
    "ErrorCode": "Int32", "ErrorParams": "String", "MinCores": "Int32", "MaxCores": "Int32",
    "MinSockets": "Int32", "MaxSockets": "Int32", "MinNodes": "Int32", "MaxNodes": "Int32",
    "NextJobTaskId": "Int32", "HasGrown": "Boolean", "HasShrunk": "Boolean",
    "TaskCount": "Int32", "ConfiguringTaskCount": "Int32", "SubmittedTaskCount": "Int32",
    "ValidatingTaskCount": "Int32", "QueuedTaskCount": "Int32", "DispatchingTaskCount": "Int32",
    "RunningTaskCount": "Int32", "FinishedTaskCount": "Int32", "FailedTaskCount": "Int32",
    "CanceledTaskCount": "Int32", "CancelingTaskCount": "Int32", "FinishingTaskCount": "Int32",
    "TotalCpuTime": "Int64", "TotalUserTime": "Int64", "TotalKernelTime": "Int64",
    "CanGrow": "Boolean", "CanShrink": "Boolean", "ComputedMinCores": "Int32",
    "ComputedMaxCores": "Int32", "ComputedMinSockets": "Int32", "ComputedMaxSockets": "Int32",
    "ComputedMinNodes": "Int32", "ComputedMaxNodes": "Int32", "WaitTime": "Int32",
    "OrderBy": "JobOrderby", "TaskLevelUpdateTime": "DateTime", "MinMaxUpdateTime": "DateTime",
    "RequestCancel": "CancelRequest", "RequeueCount": "Int32", "AutoRequeueCount": "Int32",
    "FailureReason": "FailureReason", "EndpointReference": "String", "ServiceName": "String",
    "PendingReason": "PendingReason", "ComputedNodeList": "String",
    "AutoCalculateMax": "Boolean", "AutoCalculateMin": "Boolean", "MinMemory": "Int32",
    "MaxMemory": "Int32", "MinCoresPerNode": "Int32", "MaxCoresPerNode": "Int32",
    "NumberOfCalls": "Int64", "NumberOfOutstandingCalls": "Int64", "CallDuration": "Int64",
    "CallsPerSecond": "Int64", "HasRuntime": "Boolean", "FailOnTaskFailure": "Boolean",
    "Preemptable": "Boolean", "DefaultTaskGroupId": "Int32", "ClientSource": "String",
    "ClientSubSource": "String", "Progress": "Int32", "ProgressMessage": "String",
    "TargetResourceCount": "Int32", "ExpandedPriority": "Int32", "HoldUntil": "DateTime",
    "NotifyOnStart": "Boolean", "NotifyOnCompletion": "Boolean", "ExcludedNodes": "StringList",
    "EmailAddress": "String", "Pool": "String", "RuntimeType": "JobRuntimeType",
    "NodeGroupOp": "JobNodeGroupOp", "JobValidExitCodes": "String", "SingleNode": "Boolean",
    "ParentJobIds": "String", "FailDependentTasks": "Boolean", "ChildJobIds": "String",
    "EstimatedProcessMemory": "Int32", "PlannedCoreCount": "Int32",
    "TaskExecutionFailureRetryLimit": "Int32",
}  # fmt: skip

TASK_TYPES: dict[str, str] = {
    "Id": "Int32", "AllocatedNodes": "AllocationList", "AllocatedCoreIds": "String",
    "Output": "String", "ParentJobId": "Int32", "PreviousState": "TaskState",
    "RequiredNodes": "String", "RuntimeSeconds": "Int32", "State": "TaskState",
    "TotalCpuTime": "Int64", "TotalUserTime": "Int64", "TotalKernelTime": "Int64",
    "TotalSocketCount": "Int32", "TotalNodeCount": "Int32", "TotalCoreCount": "Int32",
    "UnitType": "JobUnitType", "WorkDirectory": "String", "JobTaskId": "Int32",
    "CommandLine": "String", "DependsOn": "String", "IsRerunnable": "Boolean",
    "StdOutFilePath": "String", "StdInFilePath": "String", "StdErrFilePath": "String",
    "HasCustomProperties": "Boolean", "ExitCode": "Int32", "TaskValidExitCodes": "String",
    "RequestCancel": "CancelRequest", "Closed": "Boolean", "RequeueCount": "Int32",
    "FailureReason": "FailureReason", "PendingReason": "PendingReason", "FailedNodeId": "Int32",
    "StartValue": "Int32", "EndValue": "Int32", "IncrementValue": "Int32", "InstanceId": "Int32",
    "InstanceValue": "Int32", "GroupId": "Int32", "SubmitTime": "DateTime",
    "CreateTime": "DateTime", "StartTime": "DateTime", "EndTime": "DateTime",
    "ChangeTime": "DateTime", "Name": "String", "IsExclusive": "Boolean",
    "ErrorMessage": "String", "ErrorCode": "Int32", "ErrorParams": "String", "MinCores": "Int32",
    "MaxCores": "Int32", "MinSockets": "Int32", "MaxSockets": "Int32", "MinNodes": "Int32",
    "MaxNodes": "Int32", "HasRuntime": "Boolean", "ParentJobState": "JobState",
    "MemoryUsed": "Int64", "TaskId": "TaskId", "AutoRequeueCount": "Int32",
    "TaskOwner": "String", "UserBlob": "String", "Type": "TaskType",
    "TotalSubTaskNumber": "Int32", "IsServiceConcluded": "Boolean",
    "FailJobOnFailure": "Boolean", "FailJobOnFailureCount": "Int32", "ExitIfPossible": "Boolean",
    "ExecutionFailureRetryCount": "Int32", "RequestedNodeGroup": "String",
}  # fmt: skip

# What a client may send on create/PUT/submit (§3.1) plus every name of job-modify-rules.json.
JOB_SETTABLE = frozenset(
    [
        "Name",
        "UserName",
        "Password",
        "Project",
        "RuntimeSeconds",
        "MinCores",
        "MaxCores",
        "MinNodes",
        "MaxNodes",
        "MinSockets",
        "MaxSockets",
        "UnitType",
        "RequestedNodes",
        "IsExclusive",
        "RunUntilCanceled",
        "NodeGroups",
        "FailOnTaskFailure",
        "AutoCalculateMax",
        "AutoCalculateMin",
        "Preemptable",
        "MinMemory",
        "MaxMemory",
        "MinCoresPerNode",
        "MaxCoresPerNode",
        "SoftwareLicense",
        "OrderBy",
        "ClientSource",
        "Progress",
        "ProgressMessage",
        "TargetResourceCount",
        "ExpandedPriority",
        "ServiceName",
        "NotifyOnStart",
        "NotifyOnCompletion",
        "EmailAddress",
        "Priority",
        "JobTemplate",
        "Pool",
        "JobValidExitCodes",
        "ParentJobIds",
        "FailDependentTasks",
        "NodeGroupOp",
        "SingleNode",
        "HoldUntil",
        "ChildJobIds",
        "EstimatedProcessMemory",
        "TaskExecutionFailureRetryLimit",
        "ErrorCode",
        "ErrorParams",
        "RequestCancel",
        "PendingReason",
        "EndpointReference",
        "NumberOfCalls",
        "NumberOfOutstandingCalls",
        "CallDuration",
        "CallsPerSecond",
    ]
)
# §3.2 plus the job XML importer's task attributes (derived/job-xml-import-export.json).
TASK_SETTABLE = frozenset(
    [
        "Name",
        "MinCores",
        "MaxCores",
        "MinNodes",
        "MaxNodes",
        "MinSockets",
        "MaxSockets",
        "RuntimeSeconds",
        "CommandLine",
        "WorkDirectory",
        "RequiredNodes",
        "DependsOn",
        "IsExclusive",
        "IsRerunnable",
        "StdOutFilePath",
        "StdInFilePath",
        "StdErrFilePath",
        "StartValue",
        "EndValue",
        "IncrementValue",
        "UserBlob",
        "Type",
        "FailJobOnFailure",
        "FailJobOnFailureCount",
        "TaskValidExitCodes",
        "RequestedNodeGroup",
        "GroupId",
    ]
)
WRITE_ONLY = frozenset({"Password"})  # never returned (SchedulerJob.GetWriteOnlyPropertyIds)

# Client-side defaults (§3.1, §3.2, XSD defaults); anything else unset reads back as "".
JOB_DEFAULTS: dict[str, str] = {
    "UnitType": "Core", "MinCores": "1", "MaxCores": "1", "MinSockets": "1", "MaxSockets": "1",
    "MinNodes": "1", "MaxNodes": "1", "IsExclusive": "False", "RunUntilCanceled": "False",
    "FailOnTaskFailure": "False", "AutoCalculateMin": "True", "AutoCalculateMax": "True",
    "JobTemplate": "Default", "Pool": "Default", "ExpandedPriority": "2000",
    "NodeGroupOp": "Intersect", "JobType": "Batch", "RuntimeSeconds": "0", "RequeueCount": "0",
    "AutoRequeueCount": "0", "Preemptable": "True", "SingleNode": "False",
    "FailDependentTasks": "False", "NotifyOnStart": "False", "NotifyOnCompletion": "False",
    "Progress": "0", "IsBackfill": "False", "HasGrown": "False", "HasShrunk": "False",
    "CanGrow": "False", "CanShrink": "False", "RequestCancel": "None", "FailureReason": "None",
    "PendingReason": "None", "ErrorCode": "0", "TotalCpuTime": "0", "TotalUserTime": "0",
    "TotalKernelTime": "0", "OrderBy": "", "RuntimeType": "Batch",
}  # fmt: skip
TASK_DEFAULTS: dict[str, str] = {
    "MinCores": "1", "MaxCores": "1", "MinSockets": "1", "MaxSockets": "1", "MinNodes": "1",
    "MaxNodes": "1", "IsRerunnable": "True", "IsExclusive": "False", "Type": "Basic",
    "FailJobOnFailure": "False", "FailJobOnFailureCount": "1", "StartValue": "0",
    "EndValue": "0", "IncrementValue": "1", "RuntimeSeconds": "0", "RequeueCount": "0",
    "AutoRequeueCount": "0", "UnitType": "Core", "ExitCode": "0", "GroupId": "0",
    "RequestCancel": "None", "FailureReason": "None", "PendingReason": "None", "ErrorCode": "0",
    "Closed": "False", "ExitIfPossible": "False", "ExecutionFailureRetryCount": "0",
    "TotalCpuTime": "0", "TotalUserTime": "0", "TotalKernelTime": "0", "MemoryUsed": "0",
}  # fmt: skip

_ENUMS: dict[str, tuple[str, ...]] = {
    "JobState": tuple(m.name or "" for m in JobState),
    "TaskState": tuple(m.name or "" for m in TaskState),
    "JobUnitType": tuple(m.name for m in UnitType),
    "TaskType": tuple(m.name for m in TaskType),
    "JobType": tuple(m.name for m in JobType),
    "JobNodeGroupOp": tuple(m.name for m in NodeGroupOp),
    "JobPriority": tuple(values.PRIORITY_BUCKETS),
}
_PRIORITY_NAMES = tuple(values.PRIORITY_BUCKETS)


def canonical(names: Mapping[str, str], name: str) -> str | None:
    """The exact property name for `name` in any case, or None when it does not exist."""
    if name in names:
        return name
    lowered = name.strip().lower()
    return next((n for n in names if n.lower() == lowered), None)


def format_time(moment: float) -> str:
    """Seconds since the epoch → `M/d/yyyy h:mm:ss tt` in UTC."""
    return _format_second(math.floor(moment))


@functools.lru_cache(maxsize=256)  # many rows are stamped within the same second
def _format_second(second: int) -> str:
    when = datetime.fromtimestamp(second, UTC)
    hour = when.hour % 12 or 12
    half = "AM" if when.hour < 12 else "PM"
    return f"{when.month}/{when.day}/{when.year} {hour}:{when:%M:%S} {half}"


_CULTURE_TIME = re.compile(
    r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?\s*$"
)


def parse_time(text: str) -> float:
    """`M/d/yyyy h:mm:ss tt`, `MM/dd/yyyy HH:mm:ss` or ISO 8601 (UTC) → epoch seconds."""
    match = _CULTURE_TIME.match(text)
    if match:
        month, day, year, hour, minute, second, half = match.groups()
        h = int(hour)
        if half:
            h = h % 12 + (12 if half.upper() == "PM" else 0)
        when = datetime(int(year), int(month), int(day), h, int(minute), int(second or 0), 0, UTC)
        return when.timestamp()
    iso = values.parse_datetime(text)  # raises ValueError
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def format_bool(flag: bool) -> str:
    return "True" if flag else "False"


def parse_bool(text: str) -> bool:
    """`true`/`false` in any case, or `0`/`1`."""
    return values.parse_bool(text.strip())


def priority_name(expanded: int) -> str:
    """The JobPriority bucket an expanded priority falls in (buckets of 1000)."""
    return _PRIORITY_NAMES[min(max(expanded, 0) // 1000, 4)]


def parse_value(kind: str, name: str, raw: str) -> str:
    """A value sent by a client → its stored wire string; SchedulerError (400) when invalid."""
    if kind == "String":
        return raw
    return _parse_typed(kind, name, raw)


@functools.lru_cache(maxsize=1024)  # a job's thousands of tasks repeat the same few values
def _parse_typed(kind: str, name: str, raw: str) -> str:
    text = raw.strip()
    try:
        if kind in ("Int32", "Int64"):
            return str(values.parse_int(text))
        if kind == "Boolean":
            return format_bool(parse_bool(text))
        if kind == "StringList":
            return ",".join(p.strip() for p in text.split(",") if p.strip())
        if kind == "DateTime":
            return format_time(parse_time(text)) if text else ""
        if kind in _ENUMS:
            return _parse_enum(_ENUMS[kind], text)
    except ValueError as error:
        raise errors.bad_request(
            messages.INVALID_OPERATION, f" the value '{raw}' is not valid for {name}: {error}."
        ) from None
    return raw


def _parse_enum(members: tuple[str, ...], text: str) -> str:
    if text.lstrip("-").isdigit():
        number = int(text)
        if members is _ENUMS["JobPriority"] and 0 <= number < len(members):
            return members[number]
        flags = {"JobState": JobState, "TaskState": TaskState}
        for kind, enum in flags.items():
            if members is _ENUMS[kind]:
                return enum(number).name or ""
        if 0 <= number < len(members):
            return members[number]
    for member in members:
        if member.lower() == text.lower():
            return member
    raise ValueError(f"expected one of {', '.join(members)}")


def exit_code_ok(spec: str, code: int) -> bool:
    """Whether `code` is in a `0,3,10..20,min..max` list (ischedulertask-validexitcodes.md)."""
    if not spec.strip():
        return code == 0
    for part in spec.split(","):
        bounds = [_exit_bound(b) for b in part.strip().split("..")]
        low, high = (bounds[0], bounds[0]) if len(bounds) == 1 else (min(bounds), max(bounds))
        if low <= code <= high:
            return True
    return False


def _exit_bound(text: str) -> int:
    lowered = text.strip().lower()
    if lowered == "min":
        return -(2**31)
    if lowered == "max":
        return 2**31 - 1
    return int(lowered)


def check_exit_codes(spec: str) -> None:
    """Refuse a malformed valid-exit-codes list with Operation_InvalidExitCodes (400)."""
    try:
        values.parse_exit_codes(spec)
    except ValueError:
        raise errors.bad_request(messages.INVALID_EXIT_CODES, spec) from None
    if any(p.strip().lower() in ("min", "max") for p in spec.split(",")):
        raise errors.bad_request(messages.INVALID_EXIT_CODES, spec)
