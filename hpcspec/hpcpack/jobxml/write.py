"""A `JobDefinition` → job XML the real importer reads (`job submit /jobfile:`, `/jobs/jobFile`).

Shaped like `job export` output (`reference/hpcpack/job-xml-examples/`, ground truth §2.1):
root `Job` in the HPCS2008R2 namespace with `Version="3.000"`, properties as attributes with
their store names (booleans lower-case, Priority as export writes it, RuntimeSeconds in
seconds), then `ExtendedTerms` (custom properties, identity tags included),
`EnvironmentVariables`, an empty `Dependencies` and `Tasks`. Written as text, indented as
lxml's pretty printer wrote it, every value escaped by `escape.py`; deterministic: the same
definition gives the same bytes. Like the inputs known to
import on HPC Pack 2016 U3, the file has no XML declaration (UTF-8 is XML's default) and no
comments; HoldUntil is written without a zone, as the importer's DateTime.Parse reads it as
the intended UTC instant (docs/job-xml.md).

Properties the importer does not read (Preemptable, Pool, a task's UserBlob, the run-as
account) are not written — they would be silently dropped; `schema.not_imported` gives them
to a caller that sets them with PUT, and `render_notes` says what a file leaves out. A
secret environment value is written only when a `secrets` resolver is given; otherwise the
variable is left out and `render_notes` names its reference (never a value).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import itemgetter

from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES, Kind, PropertySpec, Value
from hpcspec.hpcpack.definition import EnvValue, JobDefinition, SecretRef, TaskDefinition
from hpcspec.hpcpack.jobxml import escape
from hpcspec.hpcpack.jobxml.schema import (
    IMPORTED_JOB_PROPERTIES,
    IMPORTED_TASK_PROPERTIES,
    NAMESPACE,
    VERSION,
)
from hpcspec.hpcpack.values import format_priority

SecretResolver = Callable[[SecretRef], str]


def render(definition: JobDefinition, *, secrets: SecretResolver | None = None) -> bytes:
    """The job XML of one job, UTF-8, without an XML declaration or comments."""
    try:
        return _render(definition, secrets)
    except ValueError as bad:  # text XML 1.0 cannot carry (escape.py)
        raise HpcspecError(
            f"job {definition.name!r} cannot be written as job XML: {bad}",
            code="unrenderable-job-xml",
            hint="XML 1.0 cannot hold control characters; remove them from the job's values",
        ) from None


def _render(definition: JobDefinition, secrets: SecretResolver | None) -> bytes:
    out = [_ROOT_START, _attributes(definition.properties, _JOB_ORDER, _JOB_WRITTEN)]
    if definition.parent_job_ids:
        parents = ",".join(str(i) for i in definition.parent_job_ids)
        out.append(f' ParentJobIds="{escape.attribute(parents)}"')
    out.append(">\n")
    if definition.custom_properties:
        out.append(_collection("  ", "ExtendedTerms", "Term", definition.custom_properties))
    if definition.env:
        out.append(_environment("  ", definition.env, secrets)[0])
    out.append("  <Dependencies/>\n")
    if definition.tasks:
        out.append("  <Tasks>\n")
        for task in definition.tasks:
            _task(out, task, secrets)
        out.append("  </Tasks>\n</Job>\n")
    else:
        out.append("  <Tasks/>\n</Job>\n")
    return "".join(out).encode()


def render_notes(definition: JobDefinition, *, secrets: SecretResolver | None = None) -> list[str]:
    """What `render(definition, secrets=...)` leaves out of the file, for a person to read."""
    notes = []
    skipped = [
        f"{name}={property_text(JOB_PROPERTIES[name], value)}" if name in JOB_PROPERTIES else name
        for name, value in definition.properties
        if name not in IMPORTED_JOB_PROPERTIES
    ]
    if definition.run_as is not None:
        skipped.append(f"runAs {definition.run_as.user_name}")
    if skipped:
        notes.append(f"not in the file (the importer ignores them): {', '.join(skipped)}")
    for task in definition.tasks:
        extra = [f"{n}={v}" for n, v in task.properties if n not in IMPORTED_TASK_PROPERTIES]
        if extra:
            notes.append(f"task {task.name!r}: not in the file: {', '.join(extra)}")
    if secrets is None:
        envs = [(None, definition.env), *((t.name, t.env) for t in definition.tasks)]
        for owner, env in envs:
            for name, value in env:
                if isinstance(value, SecretRef):
                    where = f"task {owner!r}: " if owner is not None else ""
                    notes.append(
                        f"{where}environment variable {name} left out: its value is the "
                        f"secret {value.reference()} (render with secrets to include it)"
                    )
    return notes


def property_text(spec: PropertySpec, value: Value) -> str:
    """A canonical value as job XML writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if spec.kind is Kind.PRIORITY and isinstance(value, int):
        return format_priority(value)
    if spec.kind is Kind.DATETIME and isinstance(value, str):
        # The importer reads times with DateTime.Parse and takes them as UTC
        # (derived/job-xml-import-export.json, value_parsing). A trailing Z would make .NET
        # convert the instant to the head node's local time first; the sortable form without
        # a zone reads the same in every culture and is taken as the UTC instant it names.
        return value.removesuffix("Z")
    return str(value)


# Each imported property's place in catalogue order (the order attributes are written in),
# its attribute name and its spec.
_Order = dict[str, tuple[int, str, PropertySpec]]


def _order(catalogue: dict[str, PropertySpec], imported: frozenset[str]) -> _Order:
    return {
        name: (place, spec.xml_name, spec)
        for place, (name, spec) in enumerate(catalogue.items())
        if name in imported
    }


_JOB_ORDER = _order(JOB_PROPERTIES, IMPORTED_JOB_PROPERTIES)
_TASK_ORDER = _order(TASK_PROPERTIES, IMPORTED_TASK_PROPERTIES)
_ROOT_START = f'<Job xmlns="{NAMESPACE}" Version="{VERSION}"'
# Basic tasks carry 0/0/1 exactly as `job export` writes them.
_BASIC_TAIL = ' StartValue="0" EndValue="0" IncrementValue="1" Type="Basic"'


def _attributes(properties: Properties, order: _Order, written: _Written) -> str:
    """The importer-visible properties as attributes, in catalogue order (a later duplicate
    wins; `render_notes` names the rest), kept in `written`."""
    key = (properties, tuple(map(type, map(_VALUE, properties))))  # True == 1, writes "true"
    text = written.get(key)
    if text is None:
        given = dict(properties)
        text = "".join(
            f' {xml_name}="{escape.attribute(property_text(spec, given[spec.name]))}"'
            for _, xml_name, spec in sorted([order[name] for name in given if name in order])
        )
        if len(written) >= _WRITTEN_KEPT:
            written.clear()
        written[key] = text
    return text


Properties = tuple[tuple[str, Value], ...]
_VALUE = itemgetter(1)
# Attributes by the properties they write (and their values' classes): the tasks of a job,
# and the jobs of a stack, repeat the same few.
_Written = dict[tuple[Properties, tuple[type, ...]], str]
_JOB_WRITTEN: _Written = {}
_TASK_WRITTEN: _Written = {}
_WRITTEN_KEPT = 1024


def _task(out: list[str], task: TaskDefinition, secrets: SecretResolver | None) -> None:
    # escape.attribute's own test inlined for the two values every task has: calls cost more
    # than the test, and nearly no name or command line needs escaping
    attribute, special = escape.attribute, escape.find_attribute_special
    name = task.name
    if name and special(name) is not None:
        name = attribute(name)
    command = task.command_line
    if special(command) is not None:
        command = attribute(command)
    if name:
        line = f'    <Task Name="{name}" CommandLine="{command}"'
    else:
        line = f'    <Task CommandLine="{command}"'
    if task.work_directory is not None:
        line += f' WorkDirectory="{attribute(task.work_directory)}"'
    if task.properties:
        line += _attributes(task.properties, _TASK_ORDER, _TASK_WRITTEN)
    if task.depends_on:
        line += f' DependsOn="{attribute(",".join(task.depends_on))}"'
    sweep = task.sweep
    if sweep is None:
        line += _BASIC_TAIL
    else:
        line += (
            f' StartValue="{sweep.start!s}" EndValue="{sweep.end!s}"'
            f' IncrementValue="{sweep.increment!s}" Type="{task.type_name}" IsParametric="true"'
        )
    env = _task_env(task.env, secrets) if task.env else ""
    terms = _task_terms(task.custom_properties) if task.custom_properties else ""
    if env or terms:  # env may write nothing: secrets without a resolver are left out
        out.append(f"{line}>\n{env}{terms}    </Task>\n")
    else:
        out.append(line + "/>\n")


# A task's EnvironmentVariables and ExtendedTerms by their entries: the tasks of a job repeat
# the same few. Never one that holds a secret's value.
_TASK_ENV: dict[tuple[tuple[str, EnvValue], ...], str] = {}
_TASK_TERMS: dict[tuple[tuple[str, str], ...], str] = {}


def _task_env(env: tuple[tuple[str, EnvValue], ...], secrets: SecretResolver | None) -> str:
    child = _TASK_ENV.get(env)
    if child is None:
        child, plain = _environment("      ", env, secrets)
        if plain:
            if len(_TASK_ENV) >= _WRITTEN_KEPT:
                _TASK_ENV.clear()
            _TASK_ENV[env] = child
    return child


def _task_terms(terms: tuple[tuple[str, str], ...]) -> str:
    child = _TASK_TERMS.get(terms)
    if child is None:
        child = _collection("      ", "ExtendedTerms", "Term", terms)
        if len(_TASK_TERMS) >= _WRITTEN_KEPT:
            _TASK_TERMS.clear()
        _TASK_TERMS[terms] = child
    return child


def _environment(
    indent: str, env: Iterable[tuple[str, EnvValue]], secrets: SecretResolver | None
) -> tuple[str, bool]:
    """EnvironmentVariables (or nothing), and whether it may be kept: no secret in `env`."""
    written: list[tuple[str, str]] = []
    plain = True
    for name, value in env:
        if not isinstance(value, SecretRef):
            written.append((name, value))
        else:
            plain = False
            if secrets is not None:
                written.append((name, secrets(value)))
    if not written:
        return "", plain
    return _collection(indent, "EnvironmentVariables", "Variable", written), plain


def _collection(indent: str, container: str, item: str, entries: Iterable[tuple[str, str]]) -> str:
    text = escape.text
    parts = [f"{indent}<{container}>\n"]
    for name, value in entries:
        parts.append(
            f"{indent}  <{item}>\n{indent}    <Name>{text(name)}</Name>\n"
            f"{indent}    <Value>{text(value)}</Value>\n{indent}  </{item}>\n"
        )
    parts.append(f"{indent}</{container}>\n")
    return "".join(parts)
