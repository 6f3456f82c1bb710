"""HPC Pack's rules that can be checked without a cluster, each citing where it comes from.

The resolver calls these on resolved values (after `${var}` substitution and defaults), so a
manifest that HPC Pack would refuse is refused offline, at the line that says it. Each rule
names its reference under `../shared/reference/hpcpack/` in the hint; where a reference is
ambiguous the hint says so rather than pretending. Rules that depend on the clock
(`hold_until_problem`) are `hpcspec validate`'s alone: a job already held or started keeps
its HoldUntil, and plan/apply of it must not fail because time passed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hpcspec.hpcpack import catalogue
from hpcspec.hpcpack.catalogue import Value
from hpcspec.hpcpack.definition import Sweep
from hpcspec.hpcpack.values import int32_problem
from hpcspec.manifest import matrix as matrices
from hpcspec.manifest.errors import KeyPath, ManifestError

# Min/Max pairs: the minimum may not exceed the maximum (derived/error-codes.json:
# Validation_MinGreaterThanMax for jobs, Validation_TaskMinGreaterThanTaskMax for tasks).
JOB_MIN_MAX = (
    ("MinCores", "MaxCores"),
    ("MinNodes", "MaxNodes"),
    ("MinSockets", "MaxSockets"),
    ("MinMemory", "MaxMemory"),
    ("MinCoresPerNode", "MaxCoresPerNode"),
)
TASK_MIN_MAX = (("MinCores", "MaxCores"), ("MinNodes", "MaxNodes"), ("MinSockets", "MaxSockets"))

# Windows' own limit on one environment variable (name=value). HPC Pack refuses longer names
# and values (Operation_EnvironmentVarNameTooLong / ...ValueTooLong in derived/error-codes.json)
# but no reference gives its size, so a cluster may refuse a shorter one.
MAX_ENV_ENTRY = 32_767

_ORDER_BY_ITEM = re.compile(r"^(-?)(core|cores|memory)$", re.IGNORECASE)
_ORDER_BY_NAMES = {"core": "Core", "cores": "Cores", "memory": "Memory"}


def check_min_max(
    props: Mapping[str, Value], origins: Mapping[str, KeyPath], *, task: bool
) -> None:
    """Every Min*/Max* pair of a job (or a task) set together has min <= max."""
    for low_name, high_name in TASK_MIN_MAX if task else JOB_MIN_MAX:
        low, high = props.get(low_name), props.get(high_name)
        if not isinstance(low, int) or not isinstance(high, int) or low <= high:
            continue
        code = "Validation_TaskMinGreaterThanTaskMax" if task else "Validation_MinGreaterThanMax"
        raise ManifestError(
            f"{low_name} {low} is greater than {high_name} {high}",
            path=origins.get(low_name, ()),
            code="min-greater-than-max",
            hint=(
                f"HPC Pack refuses it (scheduler error {code}); {high_name} is set at "
                f"{_where(origins.get(high_name, ()))}"
            ),
        )


def _where(path: KeyPath) -> str:
    return ".".join(str(p) for p in path) or "the manifest"


def check_fail_job_on_failure_count(
    props: Mapping[str, Value], sweep: Sweep | None, where: KeyPath
) -> None:
    """FailJobOnFailureCount above 1 is for parametric sweep (and service) tasks only."""
    count = props.get("FailJobOnFailureCount")
    if sweep is None and isinstance(count, int) and count > 1:
        raise ManifestError(
            f"FailJobOnFailureCount is {count} on a task without a sweep",
            path=(*where, "properties", "FailJobOnFailureCount"),
            code="invalid-value",
            hint=(
                "a value above 1 is an error for a task that is not a parametric sweep "
                "(per ISchedulerTask.FailJobOnFailureCount (HPC Pack SDK docs)); give the task "
                "a sweep: or use FailJobOnFailure: true"
            ),
        )


def check_order_by(text: str, path: KeyPath) -> str:
    """OrderBy in the SDK's form `[-]Core|Memory[,...]`; returns it with names capitalised."""
    if not text.strip():
        return text
    items = [item.strip() for item in text.split(",")]
    out: list[str] = []
    seen: set[str] = set()
    for item in items:
        match = _ORDER_BY_ITEM.match(item)
        name = _ORDER_BY_NAMES[match.group(2).lower()] if match else ""
        if match is None or name.rstrip("s") in seen:
            raise ManifestError(
                f"OrderBy {text!r} is not a node preference list",
                path=path,
                code="invalid-value",
                hint=(
                    "write [-]Core or [-]Memory, comma-separated, each at most once, e.g. "
                    "'-Memory,Core' (the HPC Pack SDK reference documents JobOrderBy.Parse as "
                    "'[-][Core|Memory]'; its OrderByProperty enum says Cores, so both spellings "
                    "are accepted)"
                ),
            )
        seen.add(name.rstrip("s"))
        out.append(match.group(1) + name)
    return ",".join(out)


def check_env(name: str, value: str | None, path: KeyPath) -> None:
    """An environment variable HPC Pack can set: a name without `=`, within Windows' size."""
    if not name or "=" in name:
        raise ManifestError(
            f"environment variable name {name!r} is not valid",
            path=path,
            code="invalid-value",
            hint="a name may not be empty or contain '=' (scheduler error "
            "Operation_InvalidEnvironmentVarName)",
        )
    size = len(name) + 1 + (len(value) if value is not None else 0)
    if size > MAX_ENV_ENTRY:
        raise ManifestError(
            f"environment variable {name!r} is {size} characters long (name=value)",
            path=path,
            code="invalid-value",
            hint=(
                f"Windows limits a variable to {MAX_ENV_ENTRY} characters; HPC Pack refuses "
                "long names and values (scheduler errors Operation_EnvironmentVarNameTooLong "
                "and ...ValueTooLong) without documenting its own limit, which may be lower"
            ),
        )


def check_sweep(sweep: Sweep, where: KeyPath) -> None:
    """A parametric sweep HPC Pack accepts: Int32 bounds, start >= 1, increment >= 1, ..."""
    for field in ("start", "end", "increment"):
        problem = int32_problem(getattr(sweep, field))
        if problem:
            raise ManifestError(
                f"sweep {field}: {problem}",
                path=(*where, field),
                code="invalid-sweep",
                hint="StartValue, EndValue, IncrementValue are Int32 (TaskPropertyIds, HPC Pack "
                "SDK docs)",
            )
    if sweep.increment < 1:
        raise ManifestError(
            f"sweep increment must be at least 1, got {sweep.increment}",
            path=(*where, "increment"),
            code="invalid-sweep",
            hint="HPC Pack refuses it (Validation_TaskIncrementValueLessThanZero)",
        )
    if sweep.start < 1:
        raise ManifestError(
            f"sweep start must be greater than zero, got {sweep.start}",
            path=(*where, "start"),
            code="invalid-sweep",
            hint=(
                "ISchedulerTask.StartValue (HPC Pack SDK docs): the value must be greater than "
                "zero (HPC Pack 2016's own code does not check it, so some clusters accept 0; "
                "hpcspec keeps to the documented rule)"
            ),
        )
    if sweep.start > sweep.end:
        raise ManifestError(
            f"sweep start {sweep.start} is greater than end {sweep.end}",
            path=(*where, "start"),
            code="invalid-sweep",
            hint="HPC Pack refuses such a sweep (Validation_TaskInvalidParametricSweep)",
        )
    if sweep.count > catalogue.MAX_SWEEP_INSTANCES:
        raise ManifestError(
            f"sweep has {sweep.count} instances; HPC Pack allows {catalogue.MAX_SWEEP_INSTANCES:,}",
            path=where,
            code="invalid-sweep",
            hint="the limit of ISchedulerTask.IsParametric (HPC Pack SDK docs); split the range "
            "over several tasks",
        )


def check_matrix_sizes(job_key: str, tasks: Mapping[str, Any]) -> None:
    """A job's tasks, matrices counted before expansion, stay within MAX_TASKS_PER_JOB."""
    total = 0
    limit = catalogue.MAX_TASKS_PER_JOB
    for key, task in tasks.items():
        if task.matrix is None:
            total += 1
            continue
        where = ("jobs", job_key, "tasks", key, "matrix")
        size = matrices.size(task.matrix)
        total += size
        if total > limit:
            alone = f"; its matrix alone has {size:,} combinations" if size > 1 else ""
            raise ManifestError(
                f"job {job_key!r} would have more than {limit:,} tasks{alone}",
                path=where,
                code="too-many-tasks",
                hint="split the job, use fewer axis values, or use a native sweep: for a range",
            )
        if matrices.exclude_work(task.matrix) > matrices.MAX_EXCLUDE_WORK:
            raise ManifestError(
                "the matrix's exclude rows name too many different sets of axes for its size",
                path=(*where, "exclude"),
                code="too-many-tasks",
                hint="name the same axes in every exclude row, or list the rows with include:",
            )


def hold_until_problem(value: str, now: datetime) -> str | None:
    """Why HPC Pack would refuse this HoldUntil now: in the past, or more than a year ahead."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment < now:
        return (
            f"HoldUntil {value} is in the past (HPC Pack refuses it: scheduler error "
            "Operation_JobInvalidHoldUntil)"
        )
    if moment > now + timedelta(days=365):
        return (
            f"HoldUntil {value} is more than a year ahead (HPC Pack refuses it: "
            "scheduler error Operation_JobHoldUntilTooLong)"
        )
    return None
