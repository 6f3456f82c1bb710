"""`POST /jobs/jobFile`: the emulator's own job XML importer.

Follows `reference/hpcpack/derived/job-xml-import-export.json` (the Store API's
JobPropertyBag/TaskPropertyBag import handlers) and `research/hpcpack-ground-truth.md` §2.2:
elements matched by local name (case-sensitive, namespace ignored), attributes matched
case-insensitively in document order (a later attribute overwrites an earlier one), unknown
attributes ignored (Id, State, Owner, UserName, Version, …), legacy Runtime and
Minimum/MaximumNumberOfProcessors forms, ExtendedTerms/CustomProperties, EnvironmentVariables,
Dependencies with GroupId. It shares no code with the client's job XML writer on purpose.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import cast

from lxml import etree

from hpcspec.emulator import errors, messages, safe_xml
from hpcspec.emulator.properties import JOB_TYPES, TASK_TYPES, format_bool, format_time, parse_time
from hpcspec.emulator.scheduler import Caller, Scheduler
from hpcspec.emulator.task_operations import add_tasks
from hpcspec.hpcpack import values
from hpcspec.hpcpack.states import JobType, NodeGroupOp, TaskType, UnitType

JOB_ATTRIBUTES = (
    "RequestedNodes", "IsExclusive", "Name", "ExpandedPriority", "Project", "RuntimeSeconds",
    "RunUntilCanceled", "SoftwareLicense", "UnitType", "FailOnTaskFailure", "NodeGroups",
    "OrderBy", "MinCoresPerNode", "MaxCoresPerNode", "MinMemory", "MaxMemory",
    "AutoCalculateMax", "AutoCalculateMin", "NotifyOnStart", "NotifyOnCompletion",
    "EmailAddress", "HoldUntil", "NodeGroupOp", "SingleNode", "JobValidExitCodes",
    "ParentJobIds", "EstimatedProcessMemory", "TaskExecutionFailureRetryLimit",
    "MinCores", "MinNodes", "MinSockets", "MaxCores", "MaxNodes", "MaxSockets", "JobTemplate",
)  # fmt: skip
TASK_ATTRIBUTES = (
    "Name", "MinCores", "MaxCores", "MinNodes", "MaxNodes", "MinSockets", "MaxSockets",
    "CommandLine", "RuntimeSeconds", "IsExclusive", "IsRerunnable", "StdErrFilePath",
    "StdInFilePath", "StdOutFilePath", "WorkDirectory", "RequiredNodes", "DependsOn", "Type",
    "StartValue", "EndValue", "IncrementValue", "GroupId", "TaskValidExitCodes",
    "FailJobOnFailure", "FailJobOnFailureCount", "RequestedNodeGroup",
)  # fmt: skip
TASK_ALIASES = {
    "minimumnumberofprocessors": "MinCores",
    "maximumnumberofprocessors": "MaxCores",
    "depend": "DependsOn",
    "stderr": "StdErrFilePath",
    "stdout": "StdOutFilePath",
    "stdin": "StdInFilePath",
    "runtime": "RuntimeSeconds",
}
_ENUMS = {
    "JobUnitType": [m.name for m in UnitType],
    "TaskType": [m.name for m in TaskType],
    "JobType": [m.name for m in JobType],
    "JobNodeGroupOp": [m.name for m in NodeGroupOp],
}


@dataclass
class ImportedTask:
    props: list[tuple[str, str]] = field(default_factory=list)
    custom: list[tuple[str, str]] = field(default_factory=list)
    env: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ImportedJob:
    props: list[tuple[str, str]] = field(default_factory=list)
    custom: list[tuple[str, str]] = field(default_factory=list)
    env: list[tuple[str, str]] = field(default_factory=list)
    group_deps: list[tuple[int, int]] = field(default_factory=list)
    tasks: list[ImportedTask] = field(default_factory=list)


def _invalid(text: str) -> errors.SchedulerError:
    return errors.bad_request(messages.INVALID_OPERATION, f" {text}")


def _value(kind: str, name: str, raw: str) -> str:
    """The importer's value rules: int.Parse, bool.TryParse or 0/1, Enum.Parse (exact)."""
    return raw if kind == "String" else _typed_value(kind, name, raw)


@functools.lru_cache(maxsize=1024)  # a job's thousands of tasks repeat the same few values
def _typed_value(kind: str, name: str, raw: str) -> str:
    text = raw.strip()
    if kind in ("Int32", "Int64"):
        try:
            return str(int(text))
        except ValueError:
            raise _invalid(f"'{raw}' is not an integer for {name}.") from None
    if kind == "Boolean":
        if text.lower() in ("true", "1"):
            return "True"
        if text.lower() in ("false", "0"):
            return "False"
        raise _invalid(f"'{raw}' is not a Boolean for {name}.")
    if kind in _ENUMS:
        members = _ENUMS[kind]
        if text.isdigit() and int(text) < len(members):
            return members[int(text)]
        if text in members:
            return text
        raise _invalid(f"'{raw}' is not a valid {name}.")
    if kind == "DateTime":
        try:
            return format_time(parse_time(text))
        except ValueError:
            raise _invalid(f"'{raw}' is not a time for {name}.") from None
    return raw


def _runtime(raw: str) -> str:
    """`Infinite` or `[[DD:]HH:]MM` → seconds (0 = no limit)."""
    text = raw.strip()
    if text.lower() == "infinite":
        return "0"
    parts = text.split(":")
    if not 1 <= len(parts) <= 3 or not all(p.strip().isdigit() for p in parts):
        raise _invalid(f"'{raw}' is not a run time ([[DD:]HH:]MM or Infinite).")
    scale = (86400, 3600, 60)[-len(parts) :]
    return str(sum(int(p) * s for p, s in zip(parts, scale, strict=True)))


def _pairs(element: etree._Element, item: str) -> list[tuple[str, str]]:
    """`<Variable>`/`<Term>` children with Name and Value (trimmed); incomplete ones dropped."""
    out = []
    for child in element:
        if safe_xml.local_name(child) != item:
            continue
        fields = {safe_xml.local_name(c): (c.text or "").strip() for c in child}
        if "Name" in fields and "Value" in fields:
            out.append((fields["Name"], fields["Value"]))
    return out


def _attributes(element: etree._Element) -> list[tuple[str, str]]:
    """(local name in lower case, value) of each attribute (`{namespace}Name` → `name`)."""
    return [(_local_lower(str(k)), str(v)) for k, v in element.attrib.items()]


def _local_lower(name: str) -> str:
    return name.rpartition("}")[2].lower() if name.startswith("{") else name.lower()


_JOB_KNOWN = {n.lower(): n for n in JOB_ATTRIBUTES}
_TASK_NAMES = {**{n.lower(): n for n in TASK_ATTRIBUTES}, **TASK_ALIASES}  # attribute → property
_TASK_SPELLINGS = {n: n.lower() for n in TASK_ATTRIBUTES}  # as exported: no lowering per task


def parse_job_xml(text: str) -> ImportedJob:
    root = safe_xml.parse(text)
    if safe_xml.local_name(root) != "Job":
        raise _invalid("the job XML's root element must be <Job>.")
    job = ImportedJob()
    known = _JOB_KNOWN
    props: dict[str, str] = {}
    for attr, raw in _attributes(root):
        if attr in known:
            name = known[attr]
            props[name] = _value(JOB_TYPES[name], name, raw)
        elif attr in ("minimumnumberofprocessors", "maximumnumberofprocessors"):
            bound = "Min" if attr.startswith("min") else "Max"
            props["UnitType"] = "Core"
            props[f"{bound}Cores"] = _value("Int32", f"{bound}Cores", raw)
            props[f"AutoCalculate{bound}"] = "False"
        elif attr == "runtime":
            props["RuntimeSeconds"] = _runtime(raw)
        elif attr == "priority":
            try:
                props["ExpandedPriority"] = str(values.parse_priority(raw))
            except ValueError as error:
                raise _invalid(f"'{raw}' is not a priority: {error}.") from None
    for bound in ("Min", "Max"):
        if f"AutoCalculate{bound}" not in props:
            given = any(f"{bound}{u}" in props for u in ("Cores", "Nodes", "Sockets"))
            props[f"AutoCalculate{bound}"] = format_bool(not given)
    job.props = list(props.items())
    for child in root:
        kind = safe_xml.local_name(child)
        if kind == "EnvironmentVariables":
            job.env += _pairs(child, "Variable")
        elif kind in ("CustomProperties", "ExtendedTerms"):
            job.custom += _pairs(child, "Term")
        elif kind == "Dependencies":
            job.group_deps += _dependencies(child)
        elif kind == "Tasks":
            job.tasks += [_task(t) for t in child if safe_xml.local_name(t) == "Task"]
    return job


def _dependencies(element: etree._Element) -> list[tuple[int, int]]:
    out = []
    for parent in element:
        if safe_xml.local_name(parent) != "Parent":
            continue
        parent_id = _group_id(parent)
        for child in parent:
            if safe_xml.local_name(child) == "Child":
                out.append((parent_id, _group_id(child)))
    return out


def _group_id(element: etree._Element) -> int:
    attrs = dict(_attributes(element))
    try:
        return int(attrs.get("groupid", ""))
    except ValueError:
        raise _invalid("a dependency <Parent>/<Child> needs an integer GroupId.") from None


@functools.lru_cache(maxsize=256)  # a job's tasks spell the same few attributes
def _task_attribute(key: str) -> tuple[str, str | None, str]:
    """An attribute's (local name in lower case, property or None, the property's type)."""
    attr = _TASK_SPELLINGS.get(key) or _local_lower(key)
    name = _TASK_NAMES.get(attr)
    return attr, name, TASK_TYPES[name] if name is not None else ""


def _task(element: etree._Element) -> ImportedTask:
    props: dict[str, str] = {}
    parametric: str | None = None
    attribute, typed = _task_attribute, _typed_value
    for key, raw in cast("list[tuple[str, str]]", element.items()):  # lxml: str, never bytes
        attr, name, type_name = attribute(key)
        if name is None:
            if attr == "isparametric":
                parametric = _value("Boolean", "IsParametric", raw)
        elif attr == "runtime":
            props[name] = _runtime(raw)
        else:
            props[name] = raw if type_name == "String" else typed(type_name, name, raw)
    if parametric is not None:
        kind = props.get("Type")
        wants = "ParametricSweep" if parametric == "True" else None
        if kind is None and wants:
            props["Type"] = wants
        elif kind is not None and (kind == "ParametricSweep") != (parametric == "True"):
            raise errors.bad_request(
                messages.TASK_TYPE_AND_IS_PARAMETRIC_INCOMPATIBLE, kind, parametric.lower()
            )
    if props.get("Type") in ("NodePrep", "NodeRelease"):
        props.pop("GroupId", None)
    task = ImportedTask(list(props.items()))
    if not len(element):  # most tasks have no environment or custom properties
        return task
    for child in element:
        kind = safe_xml.local_name(child)
        if kind == "EnvironmentVariables":
            task.env += _pairs(child, "Variable")
        elif kind in ("CustomProperties", "ExtendedTerms"):
            task.custom += _pairs(child, "Term")
    return task


def import_job(scheduler: Scheduler, caller: Caller, text: str) -> int:
    """Create a Configuring job (and its tasks) from job XML; returns the new job id."""
    imported = parse_job_xml(text)
    with scheduler.store.transaction():
        job_id = scheduler.create_job(caller, imported.props)
        if imported.custom:
            scheduler.set_custom(caller, job_id, None, imported.custom)
        if imported.env:
            scheduler.set_env(caller, job_id, None, imported.env)
        if imported.group_deps:
            job = scheduler.job(job_id)
            job.props["_group_deps"] = json.dumps(imported.group_deps)
            scheduler.store.save_job(job)
        ids = add_tasks(scheduler, caller, job_id, [item.props for item in imported.tasks])
        for item, task_id in zip(imported.tasks, ids, strict=True):
            if item.custom:
                scheduler.set_custom(caller, job_id, task_id, item.custom)
            if item.env:
                scheduler.set_env(caller, job_id, task_id, item.env)
    return job_id
