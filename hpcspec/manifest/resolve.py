"""Manifest → the resolved, immutable desired state of each job (what the planner compares).

Vars are substituted, defaults merged under each job, property values parsed with the HPC Pack
catalogue, matrices expanded into Basic tasks, sweeps checked against HPC Pack's limits,
dependencies checked (targets exist, no cycles), and each job gets a stable digest of its
resolved spec (secret references included by name, never by value).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from hpcspec.hpcpack import catalogue
from hpcspec.hpcpack.definition import (
    JobDefinition,
    RunAs,
    Sweep,
    TaskDefinition,
    pairs,
)
from hpcspec.hpcpack.values import parse_int
from hpcspec.manifest import lifecycle, rules
from hpcspec.manifest import matrix as matrices
from hpcspec.manifest import properties as props_of
from hpcspec.manifest.errors import (
    KeyPath,
    ManifestError,
    missing_dependency,
    undeclared_variable,
)
from hpcspec.manifest.fingerprint import digest, spec_digests
from hpcspec.manifest.graph import CycleError, topological_order
from hpcspec.manifest.variables import job_text, scalar_text
from hpcspec.manifest.vocabulary import KEY_PATTERN

if TYPE_CHECKING:  # the pydantic models are loaded by whoever validated the manifest
    from hpcspec.manifest.models import Job, JobPolicy, Manifest, Task
_KEY = re.compile(KEY_PATTERN)
BUILT_IN_VARIABLES = ("stack", "job")


class DesiredState(StrEnum):
    """`state:` — what the job should be once applied (the YAML spelling is the value)."""

    SUBMITTED = "submitted"
    CONFIGURING = "configuring"  # created, not submitted
    CANCELED = "canceled"


class SpecChangePolicy(StrEnum):
    """`onSpecChange:` — what a changed spec does to a job that can no longer be edited."""

    RERUN = "rerun"  # a new job next to the ended one
    REPLACE = "replace"  # also replaces running work: the new job first, then the cancel
    REPLACE_CANCEL_FIRST = "replace-cancel-first"  # the old job cancelled before the create
    EXTEND = "extend"  # only new sweep points / matrix rows run (engine/extension.py); else rerun
    IGNORE = "ignore"
    ERROR = "error"  # refuse the change


@dataclass(frozen=True)
class DesiredJob:
    """One job as the manifest wants it."""

    key: str
    definition: JobDefinition
    state: DesiredState
    on_spec_change: SpecChangePolicy
    retries: int
    depends_on: tuple[str, ...]
    digest: str
    ignore_changes: frozenset[str] = frozenset()  # job properties left to the cluster's admins
    default_name: bool = False  # Name is the key's default: written at creation, then left
    digests: frozenset[str] = frozenset()  # `digest`, and an earlier hpcspec's for this spec

    def made_from(self, seen: str | None) -> bool:
        """Whether a live job's digest (`identity.live_digest`) says it was applied from
        this spec: `digest`, or the one an earlier hpcspec computed for it (`spec_digests`).
        The one rule every comparison of a live job's digest with the manifest uses."""
        return seen is not None and (seen == self.digest or seen in self.digests)

    @property
    def unmanaged(self) -> frozenset[str]:
        """The job properties plan never compares: `ignoreChanges`, and a defaulted Name (a
        `moved:` key would otherwise replace a Queued job only to rename it)."""
        if self.default_name:
            return self.ignore_changes | {"Name"}
        return self.ignore_changes


@dataclass(frozen=True)
class ResolvedStack:
    """Every job of a manifest, resolved; `jobs` keeps manifest order; `moved` old → new key."""

    stack: str
    source: str
    jobs: dict[str, DesiredJob]
    adopted: Mapping[str, int] = dataclasses.field(default_factory=dict)  # adopt: key → job id
    moved: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def job_order(self) -> list[str]:
        """Job keys so that every job comes after the jobs it depends on."""
        return topological_order({k: list(j.depends_on) for k, j in self.jobs.items()})


def resolve(
    manifest: Manifest,
    *,
    source: str = "<manifest>",
    vars_override: Mapping[str, str] | None = None,
) -> ResolvedStack:
    """Resolve a validated manifest; raises ManifestError at the first problem."""
    variables = {k: scalar_text(v) for k, v in manifest.vars.items()}
    for name in vars_override or {}:
        if name not in variables:
            origin = getattr(vars_override, "origins", {}).get(name, "--var")
            raise undeclared_variable(name, manifest.vars, name in BUILT_IN_VARIABLES, origin)
    variables.update(vars_override or {})
    variables["stack"] = manifest.stack
    defaults = manifest.job_defaults()
    jobs: dict[str, DesiredJob] = {}
    for key, job in manifest.jobs.items():
        _check_key(key, ("jobs", key), "job")
        jobs[key] = _resolve_job(key, job, defaults, {**variables, "job": key})
    for key, desired in jobs.items():
        for index, parent in enumerate(desired.depends_on):
            if parent not in jobs:
                raise missing_dependency(parent, jobs, ("jobs", key, "dependsOn", index), "job")
    try:
        topological_order({k: list(j.depends_on) for k, j in jobs.items()})
    except CycleError as cycle:
        raise ManifestError(
            f"jobs depend on each other in a cycle: {' -> '.join(cycle.cycle)}",
            path=("jobs", cycle.cycle[0], "dependsOn"),
            code="dependency-cycle",
        ) from None
    adopted = lifecycle.adopted_keys(manifest.adopt, jobs)
    moved = lifecycle.moved_keys(manifest.moved, jobs)
    return ResolvedStack(manifest.stack, source, jobs, adopted=adopted, moved=moved)


def _resolve_job(key: str, job: Job, defaults: JobPolicy, variables: dict[str, str]) -> DesiredJob:
    where: KeyPath = ("jobs", key)
    origins: props_of.Origins = {}
    # Defaults are resolved per job (they may say ${job}); errors point at `defaults:`.
    props = {
        **props_of.properties(
            props_of.unset(defaults.properties, job.properties),
            catalogue.JOB_PROPERTIES,
            catalogue.RESERVED_JOB_PROPERTIES,
            variables,
            ("defaults", "properties"),
            "job",
            origins,
        ),
        **props_of.properties(
            job.properties,
            catalogue.JOB_PROPERTIES,
            catalogue.RESERVED_JOB_PROPERTIES,
            variables,
            (*where, "properties"),
            "job",
            origins,
        ),
    }
    rules.check_min_max(props, origins, task=False)
    default_name = "Name" not in props
    props.setdefault("Name", key)
    custom = {
        **props_of.custom_properties(
            props_of.unset(defaults.customProperties, job.customProperties),
            variables,
            ("defaults", "customProperties"),
        ),
        **props_of.custom_properties(job.customProperties, variables, (*where, "customProperties")),
    }
    env = {
        **props_of.env(props_of.unset(defaults.env, job.env), variables, ("defaults", "env")),
        **props_of.env(job.env, variables, (*where, "env")),
    }
    run_as = job.runAs or defaults.runAs
    tasks = _tasks(key, job.tasks, variables)
    definition = JobDefinition(
        properties=pairs(props),
        custom_properties=pairs(custom),
        env=pairs(env),
        tasks=tuple(tasks),
        run_as=(
            RunAs(
                job_text(run_as.userName, variables, (*where, "runAs", "userName")),
                props_of.secret(run_as.password) if run_as.password else None,
            )
            if run_as
            else None
        ),
    )
    depends_on = tuple(job.dependsOn)
    return DesiredJob(
        key=key,
        definition=definition,
        state=DesiredState(job.state or defaults.state or DesiredState.SUBMITTED),
        on_spec_change=SpecChangePolicy(
            job.onSpecChange or defaults.onSpecChange or SpecChangePolicy.RERUN
        ),
        retries=job.retries if job.retries is not None else (defaults.retries or 0),
        depends_on=depends_on,
        digest=digest(definition, depends_on),
        digests=spec_digests(definition, depends_on),
        ignore_changes=lifecycle.ignored_fields(job, defaults, where),
        default_name=default_name,
    )


def _tasks(
    job_key: str, tasks: Mapping[str, Task], variables: dict[str, str]
) -> list[TaskDefinition]:
    rules.check_matrix_sizes(job_key, tasks)  # before anything is expanded
    names: dict[str, list[str]] = {}  # task key -> expanded task names
    for key, task in tasks.items():
        _check_key(key, ("jobs", job_key, "tasks", key), "task")
        if task.matrix is not None:
            rows = matrices.combinations(task.matrix)
            names[key] = [matrices.task_name(key, row) for row in rows]
        else:
            names[key] = [key]
    for key, task in tasks.items():
        for index, target in enumerate(task.dependsOn):
            if target not in tasks:
                at = ("jobs", job_key, "tasks", key, "dependsOn", index)
                raise missing_dependency(target, tasks, at, "task")
    try:
        topological_order({k: list(t.dependsOn) for k, t in tasks.items()})
    except CycleError as cycle:
        raise ManifestError(
            f"tasks depend on each other in a cycle: {' -> '.join(cycle.cycle)}",
            path=("jobs", job_key, "tasks", cycle.cycle[0], "dependsOn"),
            code="dependency-cycle",
        ) from None

    out: list[TaskDefinition] = []
    seen: dict[str, str] = {}
    sweeps = 0
    for key, task in tasks.items():
        where: KeyPath = ("jobs", job_key, "tasks", key)
        depends = tuple(name for target in task.dependsOn for name in names[target])
        rows = matrices.combinations(task.matrix) if task.matrix is not None else [()]
        for row, name in zip(rows, names[key], strict=True):
            scope = {**variables, **{f"matrix.{axis}": value for axis, value in row}}
            if name.lower() in seen:
                raise ManifestError(
                    f"task name {name!r} is used twice in job {job_key!r}",
                    path=where,
                    code="duplicate-task-name",
                    hint=f"rename one of {seen[name.lower()]!r} and {name!r}",
                )
            seen[name.lower()] = name
            definition = _task(task, name, depends, scope, where)
            if definition.sweep is not None:
                sweeps += 1
                if sweeps > catalogue.MAX_SWEEP_TASKS_PER_JOB:
                    raise ManifestError(
                        f"job {job_key!r} has more than {catalogue.MAX_SWEEP_TASKS_PER_JOB} "
                        "parametric sweep tasks, HPC Pack's limit per job",
                        path=(*where, "sweep"),
                        code="too-many-sweeps",
                        hint="split the job, or widen one sweep's range instead",
                    )
            out.append(definition)
    return out


def _task(
    task: Task, name: str, depends: tuple[str, ...], variables: dict[str, str], where: KeyPath
) -> TaskDefinition:
    command = job_text(task.commandLine, variables, (*where, "commandLine"))
    if not command.strip():
        raise ManifestError(
            "commandLine is empty",
            path=(*where, "commandLine"),
            code="invalid-value",
            hint="give the command the task runs",
        )
    if len(command) > catalogue.MAX_COMMAND_LINE:
        raise ManifestError(
            f"commandLine is {len(command)} characters; HPC Pack allows "
            f"{catalogue.MAX_COMMAND_LINE}",
            path=(*where, "commandLine"),
            code="invalid-value",
        )
    origins: props_of.Origins = {}
    props = props_of.properties(
        task.properties,
        catalogue.TASK_PROPERTIES,
        catalogue.RESERVED_TASK_PROPERTIES,
        variables,
        (*where, "properties"),
        "task",
        origins,
    )
    rules.check_min_max(props, origins, task=True)
    sweep = _sweep(task, variables, (*where, "sweep")) if task.sweep is not None else None
    rules.check_fail_job_on_failure_count(props, sweep, where)
    return TaskDefinition(
        name=name,
        command_line=command,
        work_directory=(
            job_text(task.workDirectory, variables, (*where, "workDirectory"))
            if task.workDirectory is not None
            else None
        ),
        depends_on=depends,
        properties=pairs(props),
        custom_properties=pairs(
            props_of.custom_properties(
                task.customProperties, variables, (*where, "customProperties")
            )
        ),
        env=pairs(props_of.env(task.env, variables, (*where, "env"))),
        sweep=sweep,
    )


def _sweep(task: Task, variables: dict[str, str], where: KeyPath) -> Sweep:
    assert task.sweep is not None
    bounds: dict[str, int] = {}
    for field in ("start", "end", "increment"):
        raw = getattr(task.sweep, field)
        text = job_text(raw, variables, (*where, field)) if isinstance(raw, str) else raw
        try:
            bounds[field] = parse_int(text)
        except ValueError:
            raise ManifestError(
                f"sweep {field} must be an integer, got {text!r}",
                path=(*where, field),
                code="invalid-sweep",
            ) from None
    sweep = Sweep(bounds["start"], bounds["end"], bounds["increment"])
    rules.check_sweep(sweep, where)
    return sweep


def _check_key(key: str, path: KeyPath, what: str) -> None:
    if not _KEY.match(key):
        raise ManifestError(
            f"{what} key {key!r} may contain only letters, digits, '_', '.' and '-'",
            path=path,
            code="invalid-key",
            hint=f"a {what} key is a stable identity; put display text in properties.Name"
            if what == "job"
            else "task keys become HPC Pack task names used by dependsOn",
        )
