"""The job XML renderer as it was built with lxml's element API (until 2026-11-30): the
reference `test_render_equivalence.py` holds `jobxml.render` byte-equal to. Test code only.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES, PropertySpec, Value
from hpcspec.hpcpack.definition import EnvValue, JobDefinition, SecretRef, TaskDefinition
from hpcspec.hpcpack.jobxml.schema import (
    IMPORTED_JOB_PROPERTIES,
    IMPORTED_TASK_PROPERTIES,
    NAMESPACE,
    VERSION,
)
from hpcspec.hpcpack.jobxml.write import SecretResolver, property_text

_JOB = f"{{{NAMESPACE}}}"


def render(definition: JobDefinition, *, secrets: SecretResolver | None = None) -> bytes:
    """The job XML of one job, as the lxml-built renderer wrote it."""
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
