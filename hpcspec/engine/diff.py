"""Field-level differences between a desired job and the same job read back from the cluster.

Both sides are `JobDefinition`s with canonical values, so comparing is plain equality after
a few normalisations HPC Pack needs: property names case-insensitively, only the properties
the manifest sets (the server fills in defaults for the rest), lists whose order means nothing
(NodeGroups, RequestedNodes, SoftwareLicense) as sets, whatever their separator, and secrets
never compared by value (`same_value`: which re-spellings are the same value).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from hpcspec.engine.plan import DiffSection, FieldDiff
from hpcspec.engine.task_order import task_order_diff
from hpcspec.hpcpack import modify_rules
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES, Kind, PropertySpec, Value
from hpcspec.hpcpack.definition import EnvValue, JobDefinition, SecretRef, TaskDefinition
from hpcspec.hpcpack.states import JobState
from hpcspec.hpcpack.values import format_duration, format_priority
from hpcspec.manifest.resolve import ResolvedStack

_SENSITIVE_NAME = re.compile(r"pass|secret|token|credential|key", re.IGNORECASE)

UNORDERED = frozenset({"NodeGroups", "RequestedNodes", "SoftwareLicense", "RequiredNodes"})
# Kinds whose values are typed literals, shown without quotes (`MaxCores: 2`, `Priority: Normal`).
LITERAL_KINDS = frozenset({Kind.INT, Kind.BOOL, Kind.ENUM, Kind.PRIORITY, Kind.DURATION})


def is_literal(spec: PropertySpec | None) -> bool:
    """Whether a property's values read as typed literals rather than as text."""
    return spec is not None and spec.kind in LITERAL_KINDS


def show(spec: PropertySpec | None, value: Value | None) -> str | None:
    """A canonical value as people read it (`Normal+5`, `2h`, `true`)."""
    if value is None:
        return None
    if spec is not None and spec.kind is Kind.PRIORITY and isinstance(value, int):
        return format_priority(value)
    if spec is not None and spec.kind is Kind.DURATION and isinstance(value, int):
        return format_duration(value) if value else "0"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def same_value(name: str, desired: Value, live: Value | None) -> bool:
    """Whether a live value is the manifest's, re-spellings HPC Pack documents as the same
    value aside: a list of names in any order, case, spacing or separator (`,` as REST
    takes it, `;` as the job schema documents it), exit codes' `min`/`max` in any case, and
    the name of a job template or node group in any case.
    Everything else must be equal (docs/apply.md, "How plan compares live values")."""
    if live is None:  # the read-back leaves empty values out (`codec.canonical`)
        return desired == ""
    if isinstance(desired, str) and isinstance(live, str):
        if name in UNORDERED:
            return _items(desired) == _items(live)
        if name in EXIT_CODES:
            return _exit_codes(desired) == _exit_codes(live)
        if name in CLUSTER_NAMES:
            return desired.strip().lower() == live.strip().lower()
    return desired == live


# A name of something the cluster has, in any case, as preflight finds it (`preflight.py`:
# a manifest's `default` is the cluster's template `Default`, which the server may answer).
CLUSTER_NAMES = frozenset({"JobTemplate", "RequestedNodeGroup"})


# Exit-code lists (Kind.EXIT_CODES): `min`/`max` are words HPC Pack reads in any case.
EXIT_CODES = frozenset(
    spec.name
    for catalogue in (JOB_PROPERTIES, TASK_PROPERTIES)
    for spec in catalogue.values()
    if spec.kind is Kind.EXIT_CODES
)
# The separators of a list of names: `,` on REST; the job schema documents NodeGroups,
# RequestedNodes and RequiredNodes as "semicolon-delimited" lists
# (msdocs/jobschema-job-complextype.md, jobschema-task-complextype.md), and node and group
# names hold neither. (DependsOn too, but task names may hold `;`: `_names`.)
_SEPARATOR = re.compile(r"[,;]")


def _items(text: str) -> frozenset[str]:
    return frozenset(i.strip().lower() for i in _SEPARATOR.split(text) if i.strip())


def _names(tasks: tuple[str, ...]) -> frozenset[str]:
    """A `dependsOn` list as a set of task names in any case: not split at `;`, which the
    task names a matrix makes contain (`post[mesh=coarse;re=1e5]`)."""
    return frozenset(name.strip().lower() for name in tasks if name.strip())


def _exit_codes(text: str) -> tuple[str, ...]:
    return tuple(i.strip().lower() for i in text.split(",") if i.strip())


def job_diffs(
    desired: JobDefinition, live: JobDefinition, state: JobState, *, task_extras: bool = False
) -> list[FieldDiff]:
    """Every difference, each marked with whether `state` lets it change in place.

    Task env and custom properties cost a request per task to read, so discovery does not
    read them; `task_extras=False` leaves them out of the comparison (the digest still
    reveals that something changed).
    """
    out: list[FieldDiff] = []
    live_props = {k.lower(): v for k, v in live.properties}
    out += property_diffs(desired.properties, live_props, state)
    editable = not state.is_terminal
    out += _pairs(
        DiffSection.CUSTOM_PROPERTY,
        dict(desired.user_custom_properties()),
        dict(live.user_custom_properties()),
        allowed=editable,
    )
    secret = secret_names(live)
    out += _env(
        DiffSection.ENV,
        dict(desired.env),
        dict(live.env),
        allowed=state is JobState.Configuring,
        secret=secret,
    )
    out += task_diffs(
        desired.tasks, live.tasks, allowed=modify_rules.can_modify_tasks(state), extras=task_extras
    )
    return out


def property_diffs(
    desired: Iterable[tuple[str, Value]],
    live: Mapping[str, Value],
    state: JobState,
    *,
    ignore: frozenset[str] = frozenset(),
) -> list[FieldDiff]:
    """The job properties the manifest sets whose live values (`live`: lower-cased names)
    differ, except those in `ignore`; each marked with whether `state` lets it change."""
    out = []
    for name, value in desired:
        if name in ignore:
            continue
        before = live.get(name.lower())
        if not same_value(name, value, before):
            spec = JOB_PROPERTIES.get(name)
            out.append(
                FieldDiff(
                    DiffSection.PROPERTY,
                    name,
                    show(spec, before),
                    show(spec, value),
                    # A job-XML-only property cannot be changed in place by REST at all.
                    allowed_now=modify_rules.can_set_job_property(name, state)
                    and (spec is None or spec.rest),
                    literal=is_literal(spec),
                )
            )
    return out


def managed_properties(stack: ResolvedStack) -> tuple[str, ...]:
    """The job properties some job of `stack` sets and does not leave to the cluster's admins:
    the columns the plan's listing reads to see drift."""
    names = {
        name
        for job in stack.jobs.values()
        for unmanaged in [job.unmanaged]
        for name, _ in job.definition.properties
        if name not in unmanaged
    }
    return tuple(sorted(names))


def drift_diffs(
    desired: JobDefinition,
    listed: Iterable[tuple[str, Value]],
    state: JobState,
    ignore: frozenset[str],
) -> list[FieldDiff]:
    """Drift: the job properties the manifest manages whose values, as the job listing
    returned them, differ from the manifest's (`before` is the cluster's value)."""
    live = {name.lower(): value for name, value in listed}
    return property_diffs(desired.properties, live, state, ignore=ignore)


def task_diffs(
    desired: tuple[TaskDefinition, ...],
    live: tuple[TaskDefinition, ...],
    *,
    allowed: bool,
    extras: bool = False,
) -> list[FieldDiff]:
    """Tasks by name: added, removed (never in place: HPC Pack cannot delete a task), changed.

    HPC Pack does not make task names unique: a manifest task is compared with the first live
    task of its name, and each later one is an extra task, `NAME#2`, `NAME#3`, ….
    """
    out: list[FieldDiff] = []
    live_by_name: dict[str, TaskDefinition] = {}
    for t in live:
        live_by_name.setdefault(t.name.lower(), t)
    desired_names = {t.name.lower() for t in desired}
    for task in desired:
        old = live_by_name.get(task.name.lower())
        if old is None:
            out.append(
                FieldDiff(DiffSection.TASK, task.name, None, _describe(task), allowed_now=allowed)
            )
            # Everything else the new task carries, for reviewers (its command line is above).
            fields = _task_fields(task, TaskDefinition(task.name, task.command_line), allowed, True)
            out += [d for d in fields if not d.name.endswith("/sweep")]
            continue
        out += _task_fields(task, old, allowed, extras)
    seen: dict[str, int] = {}
    for task in live:
        name = task.name.lower()
        seen[name] = seen.get(name, 0) + 1
        if name in desired_names and seen[name] == 1:
            continue
        shown = task.name if name not in desired_names else f"{task.name}#{seen[name]}"
        out.append(FieldDiff(DiffSection.TASK, shown, _describe(task), None, allowed_now=False))
    order = task_order_diff(desired, live)
    return [*out, order] if order is not None else out


def _describe(task: TaskDefinition) -> str:
    if task.sweep:
        return f"{task.command_line} (sweep {task.sweep.start}..{task.sweep.end}" + (
            f" step {task.sweep.increment})" if task.sweep.increment != 1 else ")"
        )
    return task.command_line


def _task_fields(
    task: TaskDefinition, old: TaskDefinition, allowed: bool, extras: bool
) -> list[FieldDiff]:
    out: list[FieldDiff] = []

    def add(
        field: str,
        before: str | None,
        after: str | None,
        *,
        rest: bool = True,
        literal: bool = False,
    ) -> None:
        path = f"{task.name}/{field}"
        out.append(
            FieldDiff(
                DiffSection.TASK, path, before, after, allowed_now=allowed and rest, literal=literal
            )
        )

    if task.command_line != old.command_line:
        add("commandLine", old.command_line, task.command_line)
    if (task.work_directory or "") != (old.work_directory or ""):
        add("workDirectory", old.work_directory, task.work_directory)
    if _names(task.depends_on) != _names(old.depends_on):
        add("dependsOn", ",".join(old.depends_on) or None, ",".join(task.depends_on) or None)
    if task.sweep != old.sweep:
        add("sweep", _range(old), _range(task), literal=True)
    live_props = {k.lower(): v for k, v in old.properties}
    for name, value in task.properties:
        before = live_props.get(name.lower())
        if not same_value(name, value, before):
            spec = TASK_PROPERTIES.get(name)
            add(
                name,
                show(spec, before),
                show(spec, value),
                rest=spec is None or spec.rest,
                literal=is_literal(spec),
            )
    if not extras:  # task env and custom properties were not read back
        return out
    task_custom = _pairs(
        DiffSection.CUSTOM_PROPERTY,
        dict(task.custom_properties),
        dict(old.custom_properties),
        allowed=allowed,
    )
    for diff in task_custom:
        add(f"customProperties.{diff.name}", diff.before, diff.after)
    for diff in _env(DiffSection.ENV, dict(task.env), dict(old.env), allowed=allowed):
        out.append(
            FieldDiff(
                DiffSection.TASK,
                f"{task.name}/env.{diff.name}",
                diff.before,
                diff.after,
                sensitive=diff.sensitive,
                allowed_now=allowed,
            )
        )
    return out


def _range(task: TaskDefinition) -> str | None:
    if task.sweep is None:
        return None
    return f"{task.sweep.start}..{task.sweep.end} step {task.sweep.increment}"


def _pairs(
    section: DiffSection, desired: dict[str, str], live: dict[str, str], *, allowed: bool
) -> list[FieldDiff]:
    out = []
    live_lower = {k.lower(): (k, v) for k, v in live.items()}
    for name, value in desired.items():
        before = live_lower.get(name.lower(), (name, None))[1]
        if before != value:
            out.append(FieldDiff(section, name, before, value, allowed_now=allowed))
    desired_lower = {k.lower() for k in desired}
    for name, value in live.items():
        # HPC Pack cannot delete a custom property: one emptied (how an update removes it)
        # is as good as absent.
        if name.lower() not in desired_lower and value != "":
            out.append(FieldDiff(section, name, value, None, allowed_now=allowed))
    return out


def secret_names(live: JobDefinition) -> frozenset[str]:
    """Env names the live job's `hpcspec.sensitive` tag says came from secrets."""
    tag = next((v for k, v in live.custom_properties if k.lower() == "hpcspec.sensitive"), "")
    return frozenset(n.strip().lower() for n in tag.split(",") if n.strip())


def looks_secret(name: str, secret: frozenset[str] = frozenset()) -> bool:
    """Whether an env variable's value is never shown: its name is in `secret` (lower-case
    names from the job's `hpcspec.sensitive` tag) or looks secret."""
    return _SENSITIVE_NAME.search(name) is not None or name.lower() in secret


def _shown(name: str, value: EnvValue | None, secret: frozenset[str] = frozenset()) -> str | None:
    """A live env value as a plan may show it: values that were or look secret are masked."""
    if value is None:
        return None
    if isinstance(value, SecretRef) or looks_secret(name, secret):
        return "(sensitive)"
    return value


def _env(
    section: DiffSection,
    desired: dict[str, EnvValue],
    live: dict[str, EnvValue],
    *,
    allowed: bool,
    secret: frozenset[str] = frozenset(),
) -> list[FieldDiff]:
    """Env differences. Live values that came from secrets (`secret`: names from the job's
    `hpcspec.sensitive` tag) or whose names look secret are shown as `(sensitive)`.

    HPC Pack holds no empty variable (a GET answers a missing name with an empty value,
    research/hpcpack-ground-truth.md): an empty value and an absent variable are the same."""
    out = []
    live_lower = {k.lower(): v for k, v in live.items() if v != ""}
    for name, value in desired.items():
        before = live_lower.get(name.lower())
        if isinstance(value, SecretRef):
            # A secret's value is never read back or compared; only its presence is.
            if before is None:
                out.append(
                    FieldDiff(
                        section, name, None, "(sensitive)", sensitive=True, allowed_now=allowed
                    )
                )
        elif (before or "") != value:
            shown = _shown(name, before, secret)
            masked = _SENSITIVE_NAME.search(name) is not None
            out.append(
                FieldDiff(
                    section,
                    name,
                    shown,
                    "(sensitive)" if masked else value,
                    sensitive=masked or shown == "(sensitive)",
                    allowed_now=allowed,
                )
            )
    desired_lower = {k.lower() for k in desired}
    for name, value in live.items():
        if name.lower() not in desired_lower and value != "":
            shown = _shown(name, value, secret)
            out.append(
                FieldDiff(
                    section,
                    name,
                    shown,
                    None,
                    sensitive=shown == "(sensitive)",
                    allowed_now=allowed,
                )
            )
    return out
