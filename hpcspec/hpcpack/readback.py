"""REST rows read back into hpcpack's own types: `LiveJob`, `LiveTask` and `JobDefinition`.

The client reads rows (`PropertyMap`s: case-insensitive names, string values) and hands out
only these types; nothing outside `hpcpack` parses a row. A job listing asks for the columns
of a `JobColumns` (`live.py`); a task read for `TASK_DETAIL_COLUMNS` (discovery compares
them), `TASK_STATUS_COLUMNS` (status shows them), `TASK_LOG_COLUMNS` (`hpcspec logs`) or
`TASK_TARGET_COLUMNS` (`requeue --failed-only`, `cancel KEY/TASK`).
Values go through the one codec (`codec.canonical`); a value the catalogue cannot parse is
kept as its string, so it shows up as a difference instead of crashing a plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import MISSING, fields

from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES, Value
from hpcspec.hpcpack.codec import PropertyMap, TimeParser, canonical
from hpcspec.hpcpack.definition import JobDefinition, RunAs, Sweep, TaskDefinition, pairs
from hpcspec.hpcpack.live import TASK_COUNTERS, LiveJob, LiveTask
from hpcspec.hpcpack.states import JobState, TaskState
from hpcspec.masking import mask

# A task as discovery compares it: structure, the settable properties, and its outcome.
TASK_DETAIL_COLUMNS = (
    "JobTaskId",
    "Name",
    "State",
    "CommandLine",
    "WorkDirectory",
    "DependsOn",
    "Type",
    "StartValue",
    "EndValue",
    "IncrementValue",
    "ExitCode",
    "InstanceId",
    "ErrorMessage",
    "Output",
    "MinCores",
    "MaxCores",
    "MinNodes",
    "MaxNodes",
    "MinSockets",
    "MaxSockets",
    "RuntimeSeconds",
    "RequiredNodes",
    "RequestedNodeGroup",
    "IsExclusive",
    "IsRerunnable",
    "StdOutFilePath",
    "StdInFilePath",
    "StdErrFilePath",
    "FailJobOnFailure",
    "FailJobOnFailureCount",
    "TaskValidExitCodes",
    "UserBlob",
)
# A task as status shows it.
TASK_STATUS_COLUMNS = (
    "JobTaskId",
    "Name",
    "State",
    "ExitCode",
    "InstanceId",
    "Output",
    "ErrorMessage",
)
# A task as `hpcspec logs` shows it: its outcome, what it printed and where its files went.
TASK_LOG_COLUMNS = (
    *TASK_STATUS_COLUMNS,
    "InstanceValue",
    "WorkDirectory",
    "StdOutFilePath",
    "StdErrFilePath",
)
# A task as `requeue --failed-only` and `cancel KEY/TASK` pick it: which it is, and whether
# HPC Pack lets it run again (task requeue needs IsRerunnable).
TASK_TARGET_COLUMNS = (
    "JobTaskId",
    "Name",
    "State",
    "InstanceId",
    "InstanceValue",
    "IsRerunnable",
)


def _text(row: Mapping[str, str], name: str) -> str:
    return row.get(name) or ""


def _texts(row: Mapping[str, str], names: tuple[str, ...]) -> list[str]:
    """`_text` of each name (a `PropertyMap` reads them all in one call)."""
    if isinstance(row, PropertyMap):
        return row.texts(*names)
    return [_text(row, name) for name in names]


def listing_columns(properties: Iterable[str]) -> tuple[str, ...]:
    """The REST columns that carry job properties (catalogue names) in a listing: each one's
    wire name (Priority travels as ExpandedPriority, which keeps its offset)."""
    return tuple(dict.fromkeys(JOB_PROPERTIES[name].wire_name for name in properties))


def live_job(
    row: Mapping[str, str], parse_time: TimeParser, properties: Iterable[str] = ()
) -> LiveJob:
    """A job listing row → LiveJob (times read with the cluster's format); `properties`
    (catalogue names) are read into `LiveJob.listed` as canonical values."""
    (id_, state, name, owner, source, change, submit, start, end, requeues, error, total,
     *counters) = _texts(row, (*_LISTED, *TASK_COUNTERS.values()))  # fmt: skip
    counted = tuple(
        (state_name, int(count))
        for state_name, count in zip(TASK_COUNTERS, counters, strict=True)
        if count and count != "0"
    ) if any(counters) else ()  # fmt: skip
    return _listed_job(
        id=int(id_),
        state=JobState.parse(state),
        name=name,
        owner=owner,
        client_source=source,
        change_time=parse_time(change),
        submit_time=parse_time(submit),
        start_time=parse_time(start),
        end_time=parse_time(end),
        requeue_count=int(requeues or 0),
        error_message=mask(error),
        task_counts=counted + ((("Total", int(total)),) if total else ()),
        listed=_listed(row, properties, parse_time),
    )


# `LiveJob(**values)` for a listing's rows without the frozen dataclass's `__init__`, which
# sets each of its fields through `object.__setattr__` (a fifth of reading a row): the same
# instance state, in field order (every field is in the template; `values` fills id and
# state). Only while LiveJob stays a plain frozen dataclass with plain defaults and no
# `__post_init__` (checked here; a test holds the two equal).
_JOB_TEMPLATE = {f.name: None if f.default is MISSING else f.default for f in fields(LiveJob)}
_PLAIN_JOB = (
    not hasattr(LiveJob, "__post_init__")
    and not hasattr(LiveJob, "__slots__")
    and all(f.default_factory is MISSING and f.init for f in fields(LiveJob))
)


def _listed_job(**values: object) -> LiveJob:
    if not _PLAIN_JOB:
        return LiveJob(**values)  # type: ignore[arg-type]
    job = object.__new__(LiveJob)
    state = job.__dict__
    state.update(_JOB_TEMPLATE)
    state.update(values)
    return job


# What `live_job` reads of a row, in the order it unpacks them.
_LISTED = ("Id", "State", "Name", "Owner", "ClientSource", "ChangeTime", "SubmitTime",
           "StartTime", "EndTime", "RequeueCount", "ErrorMessage", "TaskCount")  # fmt: skip


def _listed(
    row: Mapping[str, str], properties: Iterable[str], parse_time: TimeParser
) -> tuple[tuple[str, Value], ...] | None:
    wanted = {name: JOB_PROPERTIES[name] for name in properties}
    if not wanted:
        return None
    return tuple(sorted(canonical(row, wanted, parse_time).items()))


def live_task(row: Mapping[str, str]) -> LiveTask:
    """A task listing row → LiveTask."""
    exit_code = _text(row, "ExitCode")
    value = _text(row, "InstanceValue")
    return LiveTask(
        task_id=int(_text(row, "JobTaskId") or 0),
        name=_text(row, "Name"),
        state=TaskState.parse(_text(row, "State") or "NA"),
        exit_code=int(exit_code) if exit_code.lstrip("-").isdigit() else None,
        output=mask(_text(row, "Output")),
        instance_id=int(_text(row, "InstanceId") or 0),
        error_message=mask(_text(row, "ErrorMessage")),
        instance_value=int(value) if value.lstrip("-").isdigit() else None,
        work_directory=_text(row, "WorkDirectory"),
        stdout_path=_text(row, "StdOutFilePath"),
        stderr_path=_text(row, "StdErrFilePath"),
        rerunnable=_text(row, "IsRerunnable").lower() != "false",
    )


def task_definition(
    values: Mapping[str, str],
    *,
    env: Mapping[str, str] | None = None,
    custom: Mapping[str, str] | None = None,
) -> TaskDefinition:
    """One task (or sweep master) from its REST properties."""
    folded = {k.lower(): v for k, v in values.items()}
    sweep = None
    if folded.get("type", "").lower() in ("parametricsweep", "1"):
        sweep = Sweep(
            int(folded.get("startvalue") or 1),
            int(folded.get("endvalue") or 1),
            int(folded.get("incrementvalue") or 1),
        )
    depends = tuple(d.strip() for d in folded.get("dependson", "").split(",") if d.strip())
    return TaskDefinition(
        name=folded.get("name", ""),
        command_line=folded.get("commandline", ""),
        work_directory=folded.get("workdirectory") or None,
        depends_on=depends,
        properties=pairs(canonical(values, TASK_PROPERTIES)),
        custom_properties=pairs(dict(custom or {})),
        env=pairs(dict(env or {})),
        sweep=sweep,
    )


def job_definition(
    values: Mapping[str, str],
    *,
    custom: Mapping[str, str],
    env: Mapping[str, str],
    tasks: Iterable[TaskDefinition],
    parse_time: TimeParser | None = None,
) -> JobDefinition:
    """A whole job from its REST properties, custom properties, env and tasks."""
    return JobDefinition(
        properties=pairs(canonical(values, JOB_PROPERTIES, parse_time)),
        custom_properties=pairs(dict(custom)),
        env=pairs(dict(env)),
        tasks=tuple(tasks),
    )


def job_ids(text: str) -> tuple[int, ...]:
    """`"12, 13"` (ParentJobIds, ChildJobIds) → (12, 13); anything that is not an id is skipped."""
    return tuple(int(part) for part in text.replace(";", ",").split(",") if part.strip().isdigit())


def run_as(values: Mapping[str, str]) -> RunAs | None:
    """The account a job runs as when it is not its owner's (`UserName` vs `Owner`, compared
    in any case as Windows does); None when it runs as its owner. The password is never read."""
    folded = {k.lower(): v for k, v in values.items()}
    user, owner = folded.get("username", ""), folded.get("owner", "")
    return RunAs(user) if user and user.lower() != owner.lower() else None
