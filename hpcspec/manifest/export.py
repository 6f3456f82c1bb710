"""JobDefinitions → tidy manifest YAML: the reverse of `resolve`, for `hpcspec import`.

Each job becomes an entry under `jobs:` keyed by its `hpcspec.key` tag or a slug of its name;
properties come in the catalogue's order with readable values (Priority `Normal+5`, durations
`2h`, lists as lists); tasks are keyed by name, sweeps written as `sweep:`, and runs of tasks
named `KEY[axis=value;...]` folded back into the `matrix:` they came from when that provably
gives the same tasks. Literal `${` is escaped as `$${`. hpcspec's own `hpcspec.*` tags are
dropped (kept as comments when asked). Nothing is invented: a value the definition lacks is
not written, and whatever cannot be said in a manifest is reported in `notes`.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import SingleQuotedScalarString

from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES, Kind, PropertySpec, Value
from hpcspec.hpcpack.definition import (
    IDENTITY_PREFIX,
    EnvValue,
    JobDefinition,
    SecretRef,
    TaskDefinition,
)
from hpcspec.hpcpack.values import format_duration, format_priority
from hpcspec.manifest.errors import ManifestError
from hpcspec.manifest.matrix import combinations, task_name
from hpcspec.manifest.models import API_VERSION
from hpcspec.manifest.variables import substitute

DEFAULT_SCHEMA = "schemas/hpcspec-v1.schema.json"
_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_STACK_TAG = f"{IDENTITY_PREFIX}stack"
_MATRIX_NAME = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.\-]*)\[(.*)\]$")


@dataclass(frozen=True)
class ExportJob:
    """One job to write: its definition and, when known, its key and job dependencies."""

    definition: JobDefinition
    key: str | None = None
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportedManifest:
    """The manifest text and what could not be carried over exactly."""

    text: str
    notes: tuple[str, ...] = field(default=())


def slug(text: str, fallback: str = "job") -> str:
    """A manifest key from display text: `Mesh for cfd` → `mesh-for-cfd`."""
    key = re.sub(r"[^A-Za-z0-9_.\-]+", "-", text.strip().lower()).strip("-.")
    return key if key and _KEY.match(key) else fallback


def export_manifest(
    jobs: Iterable[ExportJob | JobDefinition],
    *,
    stack: str | None = None,
    keep_identity: bool = False,
    schema: str = DEFAULT_SCHEMA,
    header: Sequence[str] = (),
) -> ExportedManifest:
    """Write jobs as one manifest of stack `stack` (default: their hpcspec.stack tag)."""
    items = [j if isinstance(j, ExportJob) else ExportJob(j) for j in jobs]
    notes: list[str] = []
    tagged = (dict(j.definition.custom_properties).get(_STACK_TAG) for j in items)
    stack = stack or next((t for t in tagged if t), None)
    if stack and not _KEY.match(stack):
        notes.append(f"stack {stack!r} is not a valid stack name; using 'imported'")
    document = CommentedMap(apiVersion=API_VERSION, stack=stack or "imported")
    if not _KEY.match(document["stack"]):
        document["stack"] = "imported"
    out_jobs = CommentedMap()
    for item in items:
        key = _unique(_job_key(item), out_jobs)
        out_jobs[key] = _job(key, item, keep_identity, notes)
    document["jobs"] = out_jobs
    comments = [*header, *(f"note: {n}" for n in notes)]
    if comments:
        document.yaml_set_start_comment("\n".join(comments))
    stream = io.StringIO()
    stream.write(f"# yaml-language-server: $schema={schema}\n")
    _yaml().dump(document, stream)
    return ExportedManifest(stream.getvalue(), tuple(notes))


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    return yaml


def _job_key(item: ExportJob) -> str:
    if item.key:
        return item.key
    tagged = dict(item.definition.custom_properties).get(f"{IDENTITY_PREFIX}key", "")
    if _KEY.match(tagged):
        return tagged
    return slug(item.definition.name)


def _unique(key: str, used: Iterable[str]) -> str:
    taken = {k.lower() for k in used}
    if key.lower() not in taken:
        return key
    return next(f"{key}-{n}" for n in itertools.count(2) if f"{key}-{n}".lower() not in taken)


def _job(key: str, item: ExportJob, keep_identity: bool, notes: list[str]) -> CommentedMap:
    definition = item.definition
    job = CommentedMap()
    if item.depends_on:
        job["dependsOn"] = _flow(item.depends_on)
    props = _properties(definition.properties, JOB_PROPERTIES, f"job {key!r}", notes)
    if props.get("Name") == key:
        del props["Name"]  # the resolver names a job after its key
    elif "Name" not in props:
        notes.append(f"job {key!r} has no Name; hpcspec names it after its key")
    if props:
        job["properties"] = props
    custom = definition.user_custom_properties()
    if custom:
        job["customProperties"] = CommentedMap((k, _escaped(v)) for k, v in custom)
    identity = [(k, v) for k, v in definition.custom_properties if (k, v) not in custom]
    if identity and keep_identity:
        job.yaml_set_start_comment(
            "identity of the imported job: " + ", ".join(f"{k}={v}" for k, v in identity)
        )
    if definition.env:
        job["env"] = _env(definition.env)
    if definition.run_as is not None:
        run_as = CommentedMap(userName=_escaped(definition.run_as.user_name))
        if definition.run_as.password is not None:
            run_as["password"] = _secret(definition.run_as.password)
        job["runAs"] = run_as
    if definition.parent_job_ids:
        notes.append(
            f"job {key!r}: ParentJobIds {list(definition.parent_job_ids)} dropped; "
            "use dependsOn: with job keys"
        )
    if definition.tasks:
        job["tasks"] = _tasks(key, definition.tasks, notes)
    return job


def _properties(
    items: Iterable[tuple[str, Value]],
    catalogue: dict[str, PropertySpec],
    what: str = "",
    notes: list[str] | None = None,
) -> CommentedMap:
    given = dict(items)
    out = CommentedMap(
        (n, _property_value(s, given.pop(n))) for n, s in catalogue.items() if n in given
    )
    if given and notes is not None:
        notes.append(f"{what}: dropped properties a manifest cannot set: {', '.join(given)}")
    return out


def _property_value(spec: PropertySpec, value: Value) -> object:
    if spec.kind is Kind.PRIORITY and isinstance(value, int):
        return format_priority(value)
    if spec.kind is Kind.DURATION and isinstance(value, int):
        return format_duration(value) if value else 0
    if spec.kind is Kind.STRING_LIST and isinstance(value, str) and value:
        return _flow(_escaped(v) for v in value.split(","))
    if isinstance(value, str):
        return _escaped(value)
    return value


def _escaped(text: str) -> str:
    """A literal string as manifest text: `${` would be read as a variable."""
    return text.replace("${", "$${")


def _plain_safe(value: object) -> object:
    # libyaml refuses `a:b` inside flow collections ([a:b], {secret: env:X}); quote it.
    return SingleQuotedScalarString(value) if isinstance(value, str) and ":" in value else value


def _flow(items: Iterable[object]) -> CommentedSeq:
    seq = CommentedSeq(_plain_safe(i) for i in items)
    seq.fa.set_flow_style()
    return seq


def _secret(ref: SecretRef) -> CommentedMap:
    secret = CommentedMap(secret=_plain_safe(ref.reference()))
    secret.fa.set_flow_style()
    return secret


def _env(env: Iterable[tuple[str, EnvValue]]) -> CommentedMap:
    return CommentedMap(
        (k, _secret(v) if isinstance(v, SecretRef) else _escaped(v)) for k, v in env
    )


@dataclass
class _Group:
    """Tasks written under one key: a single task, or a folded matrix."""

    key: str
    tasks: list[TaskDefinition]
    body: CommentedMap | None = None  # the folded matrix task, when it folds


def _tasks(job_key: str, tasks: Sequence[TaskDefinition], notes: list[str]) -> CommentedMap:
    groups = _matrix_groups(tasks)
    while True:  # a dependency on part of a matrix cannot be written: unfold such groups
        owner = {t.name: g for g in groups if g.body is not None for t in g.tasks}
        partial = {id(g) for t in tasks for g in _partial_refs(t.depends_on, owner)}
        if not partial:
            break
        groups = [
            part
            for g in groups
            for part in ([_Group(t.name, [t]) for t in g.tasks] if id(g) in partial else [g])
        ]
    out = CommentedMap()
    keys: dict[str, str] = {}  # task name -> key
    for position, group in enumerate(groups, 1):
        key = group.key if _KEY.match(group.key) else slug(group.key, f"task{position}")
        key = _unique(key, out)
        if group.body is None and key != group.key:
            what = f"task {group.key!r}" if group.key else f"unnamed task {position}"
            notes.append(f"job {job_key!r}: {what} is keyed {key!r} (and so named)")
        for task in group.tasks:
            keys[task.name] = key
        out[key] = group.body if group.body is not None else _task(group.tasks[0])
    folded = {t.name: g for g in groups if g.body is not None for t in g.tasks}
    for group in groups:
        depends = _depends_keys(group.tasks[0].depends_on, folded, keys, job_key, notes)
        if depends:
            out[keys[group.tasks[0].name]]["dependsOn"] = _flow(depends)
    return out


def _partial_refs(depends: Sequence[str], owner: dict[str, _Group]) -> list[_Group]:
    bad, i = [], 0
    while i < len(depends):
        group = owner.get(depends[i])
        if group is None:
            i += 1
            continue
        names = [t.name for t in group.tasks]
        if list(depends[i : i + len(names)]) != names:
            bad.append(group)
            i += 1
        else:
            i += len(names)
    return bad


def _depends_keys(
    depends: Sequence[str],
    folded: dict[str, _Group],
    keys: dict[str, str],
    job_key: str,
    notes: list[str],
) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(depends):
        name = depends[i]
        group = folded.get(name)
        i += len(group.tasks) if group is not None else 1
        if name not in keys:
            notes.append(f"job {job_key!r}: dependency on unknown task {name!r} dropped")
        elif keys[name] not in out:
            out.append(keys[name])
    return out


def _task(task: TaskDefinition) -> CommentedMap:
    body = CommentedMap(commandLine=_escaped(task.command_line))
    if task.work_directory is not None:
        body["workDirectory"] = _escaped(task.work_directory)
    if task.sweep is not None:
        sweep = CommentedMap(
            start=task.sweep.start, end=task.sweep.end, increment=task.sweep.increment
        )
        sweep.fa.set_flow_style()
        body["sweep"] = sweep
    if task.properties:
        body["properties"] = _properties(task.properties, TASK_PROPERTIES)
    if task.custom_properties:
        body["customProperties"] = CommentedMap((k, _escaped(v)) for k, v in task.custom_properties)
    if task.env:
        body["env"] = _env(task.env)
    return body


def _matrix_groups(tasks: Sequence[TaskDefinition]) -> list[_Group]:
    """Runs of `KEY[axis=value;...]` tasks, folded into matrix tasks where that is exact."""
    plain = {t.name for t in tasks}
    groups: list[_Group] = []
    for base, run in itertools.groupby(tasks, key=lambda t: _matrix_base(t.name)):
        members = list(run)
        body = _fold(base, members) if base and base not in plain else None
        if body is None:
            groups += [_Group(t.name, [t]) for t in members]
        else:
            groups.append(_Group(base, members, body))
    return groups


def _matrix_base(name: str) -> str:
    match = _MATRIX_NAME.match(name)
    return match.group(1) if match else ""


Row = tuple[tuple[str, str], ...]


def _row(name: str) -> Row | None:
    match = _MATRIX_NAME.match(name)
    if not match:
        return None
    row: Row = tuple(
        (axis, value) for axis, _, value in (p.partition("=") for p in match.group(2).split(";"))
    )
    if not all(_KEY.match(axis) for axis, _ in row) or task_name(match.group(1), row) != name:
        return None
    return row


def _fold(base: str, tasks: list[TaskDefinition]) -> CommentedMap | None:
    """The one matrix task that expands to exactly `tasks`, or None."""
    found = [_row(t.name) for t in tasks]
    rows = [r for r in found if r is not None]
    if len(rows) != len(tasks):
        return None
    matrix = _matrix(rows)
    if combinations(matrix) != rows:
        return None
    bodies = [_templated(_task(t), dict(row)) for t, row in zip(tasks, rows, strict=True)]
    body = bodies[0]
    if any(b != body for b in bodies) or any(t.depends_on != tasks[0].depends_on for t in tasks):
        return None
    pairs = zip(tasks, rows, strict=True)
    if not isinstance(body, CommentedMap) or not all(
        _expands_to(body, _task(t), dict(row)) for t, row in pairs
    ):
        return None
    body["matrix"] = matrix
    return body


def _matrix(rows: list[Row]) -> CommentedMap:
    axes = [axis for axis, _ in rows[0]]
    values: dict[str, list[str]] = {a: [] for a in axes}
    for row in rows:
        for axis, value in row:
            if axis in values and value not in values[axis]:
                values[axis].append(value)
    product = [
        tuple(zip(axes, combo, strict=True)) for combo in itertools.product(*values.values())
    ]
    matrix = CommentedMap()
    if product == rows:
        for axis in axes:
            matrix[axis] = _flow(values[axis])
    else:
        include = CommentedSeq()
        for row in rows:
            entry = CommentedMap((axis, _plain_safe(value)) for axis, value in row)
            entry.fa.set_flow_style()
            include.append(entry)
        matrix["include"] = include
    return matrix


def _templated(node: object, row: dict[str, str]) -> object:
    """`node` with each matrix value in its strings written as `${matrix.AXIS}`."""
    if isinstance(node, dict):
        out = CommentedMap()
        for k, v in node.items():
            out[k] = _templated(v, row)
        if isinstance(node, CommentedMap) and node.fa.flow_style():
            out.fa.set_flow_style()
        return out
    if isinstance(node, list):
        return CommentedSeq(_templated(v, row) for v in node)
    if not isinstance(node, str):
        return node
    values = {v: a for a, v in row.items() if v}
    if len(values) != len([v for v in row.values() if v]):
        return node  # two axes share a value: ambiguous, leave the text alone
    if not values:
        return node
    pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))
    return pattern.sub(lambda m: "${matrix." + values[m.group(0)] + "}", node)


def _expands_to(template: object, expected: object, row: dict[str, str]) -> bool:
    """Does substituting `row` into `template` give `expected` (both manifest text)?"""
    if isinstance(template, dict) and isinstance(expected, dict):
        return list(template) == list(expected) and all(
            _expands_to(template[k], expected[k], row) for k in template
        )
    if isinstance(template, list) and isinstance(expected, list):
        return len(template) == len(expected) and all(
            _expands_to(a, b, row) for a, b in zip(template, expected, strict=True)
        )
    if isinstance(template, str) and isinstance(expected, str):
        scope = {f"matrix.{a}": v for a, v in row.items()}
        try:
            return substitute(template, scope, ()) == substitute(expected, {}, ())
        except ManifestError:
            return False
    return template == expected
