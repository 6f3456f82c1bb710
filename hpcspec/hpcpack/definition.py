"""The one shape of a job that everything speaks: `JobDefinition` and `TaskDefinition`.

The manifest resolver produces it, job XML renders and parses it, the REST create path sends
it, discovery reads it back from a live job, and the emulator stores what it describes; so
"job XML create equals REST create" is one equality of two `JobDefinition`s.

Properties hold canonical values (see `catalogue.py`) keyed by their exact HPC Pack name and
kept sorted, so equal definitions compare and hash equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES, PropertySpec, Value
from hpcspec.hpcpack.sweep import instance_count

_V = TypeVar("_V")

IDENTITY_PREFIX = "hpcspec."  # custom properties hpcspec owns: stack, key, digest, token, source


@dataclass(frozen=True)
class SecretRef:
    """A value supplied at apply time from the environment or a file; never printed."""

    source: Literal["env", "file"]
    name: str

    def __str__(self) -> str:
        return "(sensitive)"

    def reference(self) -> str:
        """`env:NAME` / `file:PATH`: where the value comes from (not the value)."""
        return f"{self.source}:{self.name}"


EnvValue = str | SecretRef


def pairs(items: Mapping[str, _V] | Iterable[tuple[str, _V]]) -> tuple[tuple[str, _V], ...]:
    """Sorted (name, value) pairs, the frozen form of a mapping."""
    if not items:
        return ()
    if isinstance(items, dict | Mapping):  # names are unique: values are never compared
        return tuple(sorted(items.items())) if len(items) > 1 else tuple(items.items())
    return tuple(sorted(items, key=_name))


def _name(pair: tuple[str, object]) -> str:
    return pair[0]


@dataclass(frozen=True)
class Sweep:
    """A native ParametricSweep range."""

    start: int
    end: int
    increment: int = 1

    @property
    def count(self) -> int:
        return instance_count(self.start, self.end, self.increment)


@dataclass(frozen=True, slots=True)  # slots: a big job builds tens of thousands
class TaskDefinition:
    """One task: Basic, or ParametricSweep when `sweep` is set."""

    name: str
    command_line: str
    work_directory: str | None = None
    depends_on: tuple[str, ...] = ()
    properties: tuple[tuple[str, Value], ...] = ()
    custom_properties: tuple[tuple[str, str], ...] = ()
    env: tuple[tuple[str, EnvValue], ...] = ()
    sweep: Sweep | None = None

    @property
    def type_name(self) -> str:
        return "ParametricSweep" if self.sweep else "Basic"

    def get(self, name: str) -> Value | None:
        return dict(self.properties).get(name)


def _task_definition_builder() -> Callable[..., TaskDefinition]:
    """`TaskDefinition(...)` with every field given, built through the slots' own setters: a
    frozen dataclass's `__init__` sets each field with `object.__setattr__`, three times as
    slow, and job XML import builds one per task of files with 100,000."""
    slot = {name: TaskDefinition.__dict__[name].__set__ for name in TaskDefinition.__slots__}
    set_name, set_command_line = slot["name"], slot["command_line"]
    set_work_directory, set_depends_on = slot["work_directory"], slot["depends_on"]
    set_properties, set_custom = slot["properties"], slot["custom_properties"]
    set_env, set_sweep = slot["env"], slot["sweep"]
    new = object.__new__

    def build(
        name: str,
        command_line: str,
        work_directory: str | None,
        depends_on: tuple[str, ...],
        properties: tuple[tuple[str, Value], ...],
        custom_properties: tuple[tuple[str, str], ...],
        env: tuple[tuple[str, EnvValue], ...],
        sweep: Sweep | None,
    ) -> TaskDefinition:
        task: TaskDefinition = new(TaskDefinition)
        set_name(task, name)
        set_command_line(task, command_line)
        set_work_directory(task, work_directory)
        set_depends_on(task, depends_on)
        set_properties(task, properties)
        set_custom(task, custom_properties)
        set_env(task, env)
        set_sweep(task, sweep)
        return task

    if len(slot) != 8:  # a field added or removed: build() must set every one
        raise TypeError(f"TaskDefinition has {len(slot)} fields; task_definition sets 8")
    return build


task_definition = _task_definition_builder()


@dataclass(frozen=True)
class RunAs:
    """The account a job runs as; the password is only ever a reference."""

    user_name: str
    password: SecretRef | None = None


@dataclass(frozen=True)
class JobDefinition:
    """One job as HPC Pack sees it: properties, custom properties, env and tasks."""

    properties: tuple[tuple[str, Value], ...] = ()
    custom_properties: tuple[tuple[str, str], ...] = ()
    env: tuple[tuple[str, EnvValue], ...] = ()
    tasks: tuple[TaskDefinition, ...] = ()
    run_as: RunAs | None = None
    parent_job_ids: tuple[int, ...] = field(default=())

    def get(self, name: str) -> Value | None:
        return dict(self.properties).get(name)

    @property
    def name(self) -> str:
        return str(self.get("Name") or "")

    def user_custom_properties(self) -> tuple[tuple[str, str], ...]:
        """Custom properties without hpcspec's own identity tags."""
        return tuple(
            (k, v) for k, v in self.custom_properties if not k.lower().startswith(IDENTITY_PREFIX)
        )

    def xml_only_properties(self) -> tuple[tuple[str, ...], ...]:
        """Where this job sets a property only job XML carries (the REST API documents no way
        to send it): `("properties", name)` or `("tasks", task, "properties", name)`."""
        found: list[tuple[str, ...]] = [
            ("properties", n) for n, _ in self.properties if not _rest(JOB_PROPERTIES, n)
        ]
        found += [
            ("tasks", task.name, "properties", n)
            for task in self.tasks
            for n, _ in task.properties
            if not _rest(TASK_PROPERTIES, n)
        ]
        return tuple(found)

    def xml_trimmed_pairs(self) -> tuple[tuple[str, ...], ...]:
        """Where this job sets an env variable or custom property whose name or value starts
        or ends with white space, which HPC Pack's job XML importer trims (`Name/Value text:
        trimmed`, reference/hpcpack/derived/job-xml-import-export.json): `("env", name)`,
        `("customProperties", name)`, or the same under `("tasks", task)`. A secret's value
        is not known before apply and is never compared; only its name counts."""
        found = [
            (*where, section, name)
            for where, env, custom in [
                ((), self.env, self.user_custom_properties()),
                *((("tasks", t.name), t.env, t.custom_properties) for t in self.tasks),
            ]
            for section, items in (("env", env), ("customProperties", custom))
            for name, value in items
            if _padded(name) or (isinstance(value, str) and _padded(value))
        ]
        return tuple(found)

    def has_secrets(self) -> bool:
        envs = [v for _, v in self.env] + [v for t in self.tasks for _, v in t.env]
        return any(isinstance(v, SecretRef) for v in envs) or bool(
            self.run_as and self.run_as.password
        )


def _padded(text: str) -> bool:
    """Whether .NET's `String.Trim` (Unicode white space, as Python's `str.strip`) changes
    `text`."""
    return text != text.strip()


def _rest(catalogue: Mapping[str, PropertySpec], name: str) -> bool:
    spec = catalogue.get(name)
    return spec is None or spec.rest
