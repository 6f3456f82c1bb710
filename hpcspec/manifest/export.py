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

import functools
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, get_args

from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES, Kind, PropertySpec, Value
from hpcspec.hpcpack.definition import (
    IDENTITY_PREFIX,
    EnvValue,
    JobDefinition,
    SecretRef,
    TaskDefinition,
)
from hpcspec.hpcpack.values import format_duration, format_priority
from hpcspec.manifest import emit
from hpcspec.manifest.emit import Block, Flow, FlowMap, Shared
from hpcspec.manifest.fold import MatrixGroup, matrix_groups
from hpcspec.manifest.vocabulary import API_VERSION, KEY_PATTERN, JobStateWanted, OnSpecChange

if TYPE_CHECKING:
    from hpcspec.manifest.resolve import DesiredJob

DEFAULT_SCHEMA = "schemas/hpcspec-v1.schema.json"
# A job's manifest-only policy, carried through job XML as custom properties by
# `hpcspec render` (`policy_tags`) so that `hpcspec import` gives it back.
DEPENDS_ON_TAG = f"{IDENTITY_PREFIX}dependsOn"
RETRIES_TAG = f"{IDENTITY_PREFIX}retries"
STATE_TAG = f"{IDENTITY_PREFIX}state"
ON_SPEC_CHANGE_TAG = f"{IDENTITY_PREFIX}onSpecChange"
_MAX_TAG_VALUE = 1024  # catalogue.MAX_CUSTOM_PROPERTY_VALUE
_KEY = re.compile(KEY_PATTERN)
_STACK_TAG = f"{IDENTITY_PREFIX}stack"


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


def policy_tags(job: DesiredJob) -> dict[str, str]:
    """What of a job the manifest says and job XML cannot: job dependencies, retries, wanted
    state and onSpecChange (only those that differ from the defaults)."""
    tags = {}
    deps = ",".join(job.depends_on)
    if deps and len(deps) <= _MAX_TAG_VALUE:
        tags[DEPENDS_ON_TAG] = deps
    if job.retries:
        tags[RETRIES_TAG] = str(job.retries)
    if job.state != "submitted":
        tags[STATE_TAG] = job.state
    if job.on_spec_change != "rerun":
        tags[ON_SPEC_CHANGE_TAG] = job.on_spec_change
    return tags


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
    document = Block(apiVersion=API_VERSION, stack=stack or "imported")
    if not _KEY.match(str(document["stack"])):
        document["stack"] = "imported"
    out_jobs = Block()
    used: set[str] = set()
    keys = [_unique(_job_key(item), used) for item in items]
    for key, item in zip(keys, items, strict=True):
        out_jobs[key] = _job(key, item, keep_identity, notes, set(keys))
    document["jobs"] = out_jobs
    comments = [f"yaml-language-server: $schema={schema}", *header]
    comments += [f"note: {n}" for n in notes]
    return ExportedManifest(emit.write(document, comments), tuple(notes))


def _job_key(item: ExportJob) -> str:
    if item.key:
        return item.key
    tagged = dict(item.definition.custom_properties).get(f"{IDENTITY_PREFIX}key", "")
    if _KEY.match(tagged):
        return tagged
    return slug(item.definition.name)


def _unique(key: str, used: set[str]) -> str:
    """`key`, or `key-2`, `key-3`...: the first not in `used` (lower-cased), which learns it."""
    lower = key.lower()
    if lower not in used:
        used.add(lower)
        return key
    chosen = next(f"{key}-{n}" for n in itertools.count(2) if f"{key}-{n}".lower() not in used)
    used.add(chosen.lower())
    return chosen


def _job(key: str, item: ExportJob, keep_identity: bool, notes: list[str], keys: set[str]) -> Block:
    definition = item.definition
    job = Block()
    tags = dict(definition.custom_properties)
    depends = item.depends_on or tuple(d for d in tags.get(DEPENDS_ON_TAG, "").split(",") if d)
    missing = [d for d in depends if d not in keys]
    if missing:
        notes.append(
            f"job {key!r}: dependsOn {', '.join(missing)} dropped: not among the imported jobs"
        )
    if [d for d in depends if d in keys]:
        job["dependsOn"] = _flow(d for d in depends if d in keys)
    props = _properties(definition.properties, JOB_PROPERTIES, f"job {key!r}", notes)
    if props.get("Name") == key:
        del props["Name"]  # the resolver names a job after its key
    elif "Name" not in props:
        notes.append(f"job {key!r} has no Name; hpcspec names it after its key")
    if props:
        job["properties"] = props
    custom = definition.user_custom_properties()
    if custom:
        job["customProperties"] = Block((k, _escaped(v)) for k, v in custom)
    identity = [(k, v) for k, v in definition.custom_properties if (k, v) not in custom]
    if identity and keep_identity:
        job.comment = "identity of the imported job: " + ", ".join(f"{k}={v}" for k, v in identity)
    if definition.env:
        job["env"] = _env(definition.env)
    if definition.run_as is not None:
        run_as = Block(userName=_escaped(definition.run_as.user_name))
        if definition.run_as.password is not None:
            run_as["password"] = _secret(definition.run_as.password)
        job["runAs"] = run_as
    _policy(job, key, tags, notes)
    if definition.parent_job_ids:
        notes.append(
            f"job {key!r}: ParentJobIds {list(definition.parent_job_ids)} dropped; "
            "use dependsOn: with job keys"
        )
    if definition.tasks:
        job["tasks"] = _tasks(key, definition.tasks, notes)
    return job


def _policy(job: Block, key: str, tags: dict[str, str], notes: list[str]) -> None:
    """state, onSpecChange and retries from the tags `policy_tags` wrote."""
    allowed = {STATE_TAG: get_args(JobStateWanted), ON_SPEC_CHANGE_TAG: get_args(OnSpecChange)}
    for tag, field_name in ((STATE_TAG, "state"), (ON_SPEC_CHANGE_TAG, "onSpecChange")):
        if tag in tags:
            if tags[tag] in allowed[tag]:
                job[field_name] = tags[tag]
            else:
                notes.append(f"job {key!r}: {tag}={tags[tag]!r} is not a valid {field_name}")
    if RETRIES_TAG in tags:
        if tags[RETRIES_TAG].isdigit():
            job["retries"] = int(tags[RETRIES_TAG])
        else:
            notes.append(f"job {key!r}: {RETRIES_TAG}={tags[RETRIES_TAG]!r} is not a count")


def _properties(
    items: Iterable[tuple[str, Value]],
    catalogue: dict[str, PropertySpec],
    what: str = "",
    notes: list[str] | None = None,
) -> Block:
    given = dict(items)
    order = _ORDER[id(catalogue)]
    names = sorted((n for n in given if n in catalogue), key=order.__getitem__)
    out = Block((n, _property_value(catalogue[n].kind, given.pop(n))) for n in names)
    if given and notes is not None:
        notes.append(f"{what}: dropped properties a manifest cannot set: {', '.join(given)}")
    return out


@functools.lru_cache(maxsize=1024)
def _task_properties(items: tuple[tuple[str, Value], ...]) -> Shared:
    """A task's properties; the tasks that have the same ones share this block, which the
    emitter writes once (a big job's tasks mostly differ only in names and command lines)."""
    return Shared(_properties(items, TASK_PROPERTIES))


# each catalogue's names -> position, so a job's few properties are ordered without a scan
_ORDER = {id(c): {n: i for i, n in enumerate(c)} for c in (JOB_PROPERTIES, TASK_PROPERTIES)}


@functools.lru_cache(maxsize=4096)  # a big job's tasks repeat the same few values
def _property_value(kind: Kind, value: Value) -> object:
    if kind is Kind.PRIORITY and isinstance(value, int):
        return format_priority(value)
    if kind is Kind.DURATION and isinstance(value, int):
        return format_duration(value) if value else 0
    if kind is Kind.STRING_LIST and isinstance(value, str) and value:
        return _flow(_escaped(v) for v in value.split(","))
    if isinstance(value, str):
        return _escaped(value)
    return value


def _escaped(text: str) -> str:
    """A literal string as manifest text: `${` would be read as a variable."""
    return text.replace("${", "$${")


def _flow(items: Iterable[str]) -> Flow:
    return Flow(items)


def _secret(ref: SecretRef) -> FlowMap:
    return FlowMap(secret=ref.reference())


def _env(env: Iterable[tuple[str, EnvValue]]) -> Block:
    out = Block()
    for name, value in env:  # a loop, not a generator: this runs once per task of big jobs
        out[name] = _secret(value) if isinstance(value, SecretRef) else _escaped(value)
    return out


def _tasks(job_key: str, tasks: Sequence[TaskDefinition], notes: list[str]) -> Block:
    groups = matrix_groups(tasks, _task)
    while True:  # a dependency on part of a matrix cannot be written: unfold such groups
        owner = {t.name: g for g in groups if g.body is not None for t in g.tasks}
        if not owner:  # nothing folded: no dependency can name part of a matrix
            break
        partial = {id(g) for t in tasks for g in _partial_refs(t.depends_on, owner)}
        if not partial:
            break
        groups = [
            part
            for g in groups
            for part in ([MatrixGroup(t.name, [t]) for t in g.tasks] if id(g) in partial else [g])
        ]
    out = Block()
    used: set[str] = set()
    keys: dict[str, str] = {}  # task name -> key
    for position, group in enumerate(groups, 1):
        key = group.key if _KEY.match(group.key) else slug(group.key, f"task{position}")
        key = _unique(key, used)
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
            body = out[keys[group.tasks[0].name]]
            assert isinstance(body, dict)
            body["dependsOn"] = _flow(depends)
    return out


def _partial_refs(depends: Sequence[str], owner: dict[str, MatrixGroup]) -> list[MatrixGroup]:
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
    folded: dict[str, MatrixGroup],
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


def _task(task: TaskDefinition) -> Block:
    body = Block(commandLine=_escaped(task.command_line))
    if task.work_directory is not None:
        body["workDirectory"] = _escaped(task.work_directory)
    if task.sweep is not None:
        sweep = task.sweep
        body["sweep"] = FlowMap(start=sweep.start, end=sweep.end, increment=sweep.increment)
    if task.properties:
        body["properties"] = _task_properties(task.properties)
    if task.custom_properties:
        body["customProperties"] = Block((k, _escaped(v)) for k, v in task.custom_properties)
    if task.env:
        body["env"] = _env(task.env)
    return body
