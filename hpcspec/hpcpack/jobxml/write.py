"""A `JobDefinition` → job XML the real importer reads (`job submit /jobfile:`, `/jobs/jobFile`).

Shaped like `job export` output (`reference/hpcpack/job-xml-examples/`, ground truth §2.1):
root `Job` in the HPCS2008R2 namespace with `Version="3.000"`, properties as attributes with
their store names (booleans lower-case, Priority as export writes it, RuntimeSeconds in
seconds), then `ExtendedTerms` (custom properties, identity tags included),
`EnvironmentVariables`, an empty `Dependencies` and `Tasks`. Built with lxml's element API
only, and deterministic: the same definition gives the same bytes. Like the inputs known to
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

from lxml import etree

from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES, Kind, PropertySpec, Value
from hpcspec.hpcpack.definition import EnvValue, JobDefinition, SecretRef, TaskDefinition
from hpcspec.hpcpack.jobxml.schema import (
    IMPORTED_JOB_PROPERTIES,
    IMPORTED_TASK_PROPERTIES,
    NAMESPACE,
    VERSION,
)
from hpcspec.hpcpack.values import format_priority

SecretResolver = Callable[[SecretRef], str]

_JOB = f"{{{NAMESPACE}}}"


def render(definition: JobDefinition, *, secrets: SecretResolver | None = None) -> bytes:
    """The job XML of one job, UTF-8, without an XML declaration or comments."""
    try:
        return _render(definition, secrets)
    except ValueError as bad:  # lxml refuses text XML 1.0 cannot carry (control characters)
        raise HpcspecError(
            f"job {definition.name!r} cannot be written as job XML: {bad}",
            code="unrenderable-job-xml",
            hint="XML 1.0 cannot hold control characters; remove them from the job's values",
        ) from None


def _render(definition: JobDefinition, secrets: SecretResolver | None) -> bytes:
    root = etree.Element(_JOB + "Job", nsmap={None: NAMESPACE})  # type: ignore[dict-item]
    root.set("Version", VERSION)
    _set_properties(root, definition.properties, JOB_PROPERTIES, IMPORTED_JOB_PROPERTIES)
    if definition.parent_job_ids:
        root.set("ParentJobIds", ",".join(str(i) for i in definition.parent_job_ids))
    if definition.custom_properties:
        root.append(_collection("ExtendedTerms", "Term", definition.custom_properties))
    if definition.env:
        _append_env(root, definition.env, secrets)
    etree.SubElement(root, _JOB + "Dependencies")
    tasks = etree.SubElement(root, _JOB + "Tasks")
    for task in definition.tasks:
        tasks.append(_task(task, secrets))
    return etree.tostring(root, xml_declaration=False, encoding="utf-8", pretty_print=True)


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


def _set_properties(
    element: etree._Element,
    properties: Iterable[tuple[str, Value]],
    catalogue: dict[str, PropertySpec],
    imported: frozenset[str],
) -> None:
    """Set the importer-visible properties in catalogue order (`render_notes` names the rest)."""
    given = dict(properties)
    for name, spec in catalogue.items():
        if name in given and name in imported:
            element.set(spec.xml_name, property_text(spec, given[name]))


def _task(task: TaskDefinition, secrets: SecretResolver | None) -> etree._Element:
    element = etree.Element(_JOB + "Task")
    if task.name:
        element.set("Name", task.name)
    element.set("CommandLine", task.command_line)
    if task.work_directory is not None:
        element.set("WorkDirectory", task.work_directory)
    _set_properties(element, task.properties, TASK_PROPERTIES, IMPORTED_TASK_PROPERTIES)
    if task.depends_on:
        element.set("DependsOn", ",".join(task.depends_on))
    sweep = task.sweep
    # Basic tasks carry 0/0/1 exactly as `job export` writes them.
    element.set("StartValue", str(sweep.start if sweep else 0))
    element.set("EndValue", str(sweep.end if sweep else 0))
    element.set("IncrementValue", str(sweep.increment if sweep else 1))
    element.set("Type", task.type_name)
    if sweep is not None:
        element.set("IsParametric", "true")
    if task.env:
        _append_env(element, task.env, secrets)
    if task.custom_properties:
        element.append(_collection("ExtendedTerms", "Term", task.custom_properties))
    return element


def _append_env(
    parent: etree._Element,
    env: Iterable[tuple[str, EnvValue]],
    secrets: SecretResolver | None,
) -> None:
    written: list[tuple[str, str]] = []
    for name, value in env:
        if not isinstance(value, SecretRef):
            written.append((name, value))
        elif secrets is not None:
            written.append((name, secrets(value)))
    if written:
        parent.append(_collection("EnvironmentVariables", "Variable", written))


def _collection(container: str, item: str, entries: Iterable[tuple[str, str]]) -> etree._Element:
    element = etree.Element(_JOB + container)
    for name, value in entries:
        entry = etree.SubElement(element, _JOB + item)
        etree.SubElement(entry, _JOB + "Name").text = name
        etree.SubElement(entry, _JOB + "Value").text = value
    return element
