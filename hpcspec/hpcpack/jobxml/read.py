"""Job XML → the importer's view of it (`JobDocument`); `importing.py` makes a definition.

Follows the real importer (`reference/hpcpack/derived/job-xml-import-export.json`, ground
truth §2.2): elements matched by local name (namespace ignored), attributes matched
case-insensitively in document order (a later one overwrites an earlier one, so
`Priority="Normal" ExpandedPriority="200"` means 200), aliases and the legacy `Runtime`,
`MinimumNumberOfProcessors` and `IsParametric` forms, unknown attributes ignored but
recorded. Values are parsed to the catalogue's canonical forms; hpcspec is lenient where
.NET is strict (enum names in any case) and never invents a value the file does not give.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, cast

from lxml import etree

from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, Value
from hpcspec.hpcpack.definition import pairs
from hpcspec.hpcpack.jobxml.attributes import (
    NOWHERE,
    general_values,
    job_ids,
    job_value,
    legacy_runtime,
    make_plan,
    typed_values,
)
from hpcspec.hpcpack.jobxml.safe import JobXmlError, local_name, parse_streaming
from hpcspec.hpcpack.jobxml.schema import (
    JOB_ATTRIBUTES,
)

__all__ = ["JobDocument", "JobXmlError", "TaskDocument", "read_document"]


class TaskDocument(NamedTuple):  # a tuple: built once per task of files with 100,000
    """One `<Task>` as the importer reads it."""

    position: int  # 1-based, in file order
    values: Mapping[str, Value]  # canonical values by property name (Name, Type, ... included)
    custom: tuple[tuple[str, str], ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    read: tuple[str, ...] = ()  # attributes the importer read, as written
    ignored: tuple[str, ...] = ()  # attributes the importer ignores (Id, State, NiceId, ...)


@dataclass(frozen=True)
class JobDocument:
    """A whole job file as the importer reads it."""

    source: str
    values: Mapping[str, Value]  # canonical values by property name (ParentJobIds a string)
    custom: tuple[tuple[str, str], ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    group_dependencies: tuple[tuple[int, int], ...] = ()  # (parent GroupId, child GroupId)
    tasks: tuple[TaskDocument, ...] = ()
    read: tuple[str, ...] = ()
    ignored: tuple[str, ...] = field(default=())
    # each Priority / ExpandedPriority attribute in file order: (name as written, value)
    priorities: tuple[tuple[str, int], ...] = ()


def read_document(data: bytes, *, source: str) -> JobDocument:
    """What the importer reads from a job file (and what it ignores)."""
    tasks: list[TaskDocument] = []
    failed: list[JobXmlError] = []  # the first task that cannot be read, raised after the parse
    tasks_element: list[etree._Element] = []  # the top-level <Tasks>, once found

    def take(element: etree._Element) -> bool:
        # Each <Task> of a top-level <Tasks> is read as soon as the parser completes it, then
        # freed (safe.parse_streaming). A malformed file and a wrong root still come first.
        parent = element.getparent()
        if not tasks_element or parent is not tasks_element[0]:  # lxml: one proxy per node
            if parent is None or local_name(parent) != "Tasks":
                return False
            top = parent.getparent()
            if top is None or top.getparent() is not None:
                return False
            tasks_element[:] = [parent]
        if not failed:
            try:
                tasks.append(_task(element, len(tasks) + 1, source))
            except JobXmlError as error:
                failed.append(error)
        return True

    root = parse_streaming(data, source=source, tag="{*}Task", take=take)
    if local_name(root) != "Job":
        raise JobXmlError(f"the root element is <{local_name(root)}>, not <Job>", source=source)
    if failed:
        raise failed[0]
    values, read, ignored, priorities = _job_attributes(root, source)
    custom: dict[str, str] = {}
    env: dict[str, str] = {}
    groups: list[tuple[int, int]] = []
    for child in root:
        if not _read_pairs(child, custom, env) and local_name(child) == "Dependencies":
            groups += _group_dependencies(child, source)
    job = (source, values, pairs(custom), pairs(env), tuple(groups), tuple(tasks))
    return JobDocument(*job, read, ignored, priorities)


def _attributes(element: etree._Element) -> list[tuple[str, str]]:
    # lxml names a namespaced attribute `{namespace}Name`; the importer matches local names
    items = cast("Iterable[tuple[str, str]]", element.attrib.items())  # text, as parsed
    return [(k if k[0] != "{" else k.rpartition("}")[2], v) for k, v in items]


def _job_attributes(
    root: etree._Element, source: str
) -> tuple[dict[str, Value], tuple[str, ...], tuple[str, ...], tuple[tuple[str, int], ...]]:
    values: dict[str, Value] = {}
    read: list[str] = []
    ignored: list[str] = []
    priorities: list[tuple[str, int]] = []
    for attr, raw in _attributes(root):
        lower = attr.lower()
        where = f"<Job> attribute {attr}"
        if lower in ("minimumnumberofprocessors", "maximumnumberofprocessors"):
            bound = "Min" if lower.startswith("min") else "Max"
            values["UnitType"] = "Core"
            values[f"{bound}Cores"] = job_value(f"{bound}Cores", raw, where, source, JOB_PROPERTIES)
            values[f"AutoCalculate{bound}"] = False
        elif lower == "runtime":
            values["RuntimeSeconds"] = legacy_runtime(raw, where, source)
        elif lower == "parentjobids":
            values["ParentJobIds"] = job_ids(raw, where, source)
        elif lower in JOB_ATTRIBUTES:
            name = JOB_ATTRIBUTES[lower]
            values[name] = job_value(name, raw, where, source, JOB_PROPERTIES)
            if name == "Priority":
                priorities.append((attr, int(values[name])))
        else:
            ignored.append(attr)
            continue
        read.append(attr)
    return values, tuple(read), tuple(ignored), tuple(priorities)


def _task(element: etree._Element, position: int, source: str) -> TaskDocument:
    # Runs once per task of files with tens of thousands of them, which mostly share one
    # attribute list: each list is planned once (`make_plan`), each typed value parsed once.
    keys: list[str] = element.keys()  # type: ignore[assignment]  # text, as parsed
    plan = make_plan(tuple(keys))
    texts: list[str] = element.values()  # type: ignore[assignment]
    if plan.general:
        values = general_values(plan, texts, position, source)
    else:
        values = dict(zip(plan.names, texts, strict=True))
        if plan.ignored:
            values.pop(NOWHERE, None)
        if plan.typed:
            values.update(typed_values(plan, texts, position, source))
        if values.get("Type") in ("NodePrep", "NodeRelease"):
            values.pop("GroupId", None)
    if not len(element):  # most tasks have no child elements at all
        return TaskDocument(position, values, (), (), plan.read, plan.ignored)
    custom: dict[str, str] = {}
    env: dict[str, str] = {}
    for child in element:
        _read_pairs(child, custom, env)
    return TaskDocument(
        position,
        values,
        pairs(custom) if custom else (),
        pairs(env) if env else (),
        plan.read,
        plan.ignored,
    )


def _read_pairs(child: etree._Element, custom: dict[str, str], env: dict[str, str]) -> bool:
    """Read a job's or task's `<EnvironmentVariables>` into `env`, its `<CustomProperties>`
    or `<ExtendedTerms>` into `custom`; False for any other child."""
    kind = local_name(child)
    if kind == "EnvironmentVariables":
        env.update(_pairs(child, "Variable"))
    elif kind in ("CustomProperties", "ExtendedTerms"):
        custom.update(_pairs(child, "Term"))
    else:
        return False
    return True


def _pairs(element: etree._Element, item: str) -> dict[str, str]:
    """`<Variable>`/`<Term>` Name and Value texts, trimmed; a pair missing either is dropped."""
    out: dict[str, str] = {}
    for child in element:
        if local_name(child) != item:
            continue
        name = value = None
        for part in child:  # the last Name and the last Value count
            tag = part.tag  # local_name(part), inline: this runs for every variable of a job
            kind = tag.rpartition("}")[2] if isinstance(tag, str) else ""
            if kind == "Name":
                name = (part.text or "").strip()
            elif kind == "Value":
                value = (part.text or "").strip()
        if name is not None and value is not None:
            out[name] = value
    return out


def _group_dependencies(element: etree._Element, source: str) -> list[tuple[int, int]]:
    out = []
    for parent in element:
        if local_name(parent) != "Parent":
            continue
        parent_id = _group_id(parent, source)
        for child in parent:
            if local_name(child) == "Child":
                out.append((parent_id, _group_id(child, source)))
    return out


def _group_id(element: etree._Element, source: str) -> int:
    attrs = {k.lower(): v for k, v in _attributes(element)}
    text = attrs.get("groupid", "").strip()
    if not text.lstrip("-").isdigit():
        raise JobXmlError("a <Parent>/<Child> dependency needs an integer GroupId", source=source)
    return int(text)
