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

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from operator import itemgetter
from typing import NamedTuple, cast

from lxml import etree

from hpcspec.hpcpack import values as value_forms
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES, Kind, PropertySpec, Value
from hpcspec.hpcpack.definition import pairs
from hpcspec.hpcpack.jobxml.safe import JobXmlError, local_name, parse_streaming
from hpcspec.hpcpack.jobxml.schema import (
    JOB_ATTRIBUTES,
    TASK_ATTRIBUTES,
)
from hpcspec.hpcpack.states import TaskType

__all__ = ["JobDocument", "JobXmlError", "TaskDocument", "read_document"]

_TASK_TYPES = {m.name.lower(): m.name for m in TaskType}
_TIME_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%Y/%m/%d %H:%M:%S", "%m/%d/%Y %H:%M:%S")


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
        kind = local_name(child)
        if kind == "EnvironmentVariables":
            env.update(_pairs(child, "Variable"))
        elif kind in ("CustomProperties", "ExtendedTerms"):
            custom.update(_pairs(child, "Term"))
        elif kind == "Dependencies":
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
            values[f"{bound}Cores"] = _value(f"{bound}Cores", raw, where, source, JOB_PROPERTIES)
            values[f"AutoCalculate{bound}"] = False
        elif lower == "runtime":
            values["RuntimeSeconds"] = _legacy_runtime(raw, where, source)
        elif lower == "parentjobids":
            values["ParentJobIds"] = _job_ids(raw, where, source)
        elif lower in JOB_ATTRIBUTES:
            name = JOB_ATTRIBUTES[lower]
            values[name] = _value(name, raw, where, source, JOB_PROPERTIES)
            if name == "Priority":
                priorities.append((attr, int(values[name])))
        else:
            ignored.append(attr)
            continue
        read.append(attr)
    return values, tuple(read), tuple(ignored), tuple(priorities)


def _task(element: etree._Element, position: int, source: str) -> TaskDocument:
    # Runs once per task of files with tens of thousands of them, which mostly share one
    # attribute list: each list is planned once (`_plan`), each typed value parsed once.
    keys: list[str] = element.keys()  # type: ignore[assignment]  # text, as parsed
    plan = _PLANS.get(tuple(keys))
    if plan is None:
        plan = _plan(keys)
    texts: list[str] = element.values()  # type: ignore[assignment]
    if plan.general:
        values = _general_values(plan, texts, position, source)
    else:
        values = dict(zip(plan.names, texts, strict=True))
        if plan.ignored:
            values.pop(_NOWHERE, None)
        if plan.typed:
            given = plan.typed_texts(texts)
            row = plan.rows.get(given)
            if row is None:
                row = _typed_row(plan, texts, position, source)
                if len(plan.rows) >= _TYPED_ROWS_KEPT:
                    plan.rows.clear()
                plan.rows[given] = row
            values.update(row)
        if values.get("Type") in ("NodePrep", "NodeRelease"):
            values.pop("GroupId", None)
    if not len(element):  # most tasks have no child elements at all
        return TaskDocument(position, values, (), (), plan.read, plan.ignored)
    custom: dict[str, str] = {}
    env: dict[str, str] = {}
    for child in element:
        kind = local_name(child)
        if kind == "EnvironmentVariables":
            env.update(_pairs(child, "Variable"))
        elif kind in ("CustomProperties", "ExtendedTerms"):
            custom.update(_pairs(child, "Term"))
    return TaskDocument(
        position,
        values,
        pairs(custom) if custom else (),
        pairs(env) if env else (),
        plan.read,
        plan.ignored,
    )


def _typed_row(plan: _Plan, texts: list[str], position: int, source: str) -> dict[str, Value]:
    """The parsed values of a task's typed attributes (a later attribute wins)."""
    return {
        name: _typed(name, texts[i], plan.locals[i], position, source) for i, name in plan.typed
    }


class _Read(Enum):
    """How the importer reads a task attribute."""

    TEXT = "text"  # the property, as written
    TYPED = "typed"  # the property, parsed to its catalogue form
    PARAMETRIC = "parametric"  # IsParametric: sets Type
    RUNTIME = "runtime"  # the legacy Runtime form of RuntimeSeconds
    IGNORED = "ignored"


_NOWHERE = ""  # where `_plan` sends the text of an attribute the importer ignores


@dataclass(frozen=True)
class _Plan:
    """How to read a task with one list of attributes (in document order)."""

    locals: tuple[str, ...]  # each attribute's local name, as written
    names: tuple[str, ...]  # the property each one sets (`_NOWHERE` when ignored)
    kinds: tuple[_Read, ...]
    typed: tuple[tuple[int, str], ...]  # (index, property) of the values to parse
    general: bool  # IsParametric or Runtime: read attribute by attribute
    read: tuple[str, ...]
    ignored: tuple[str, ...]
    # the texts of the typed attributes, as a tuple (`rows` key); and their parsed values by
    # those texts: thousands of tasks repeat a few rows (MinCores 1, IsRerunnable true, ...)
    typed_texts: Callable[[list[str]], tuple[str, ...]]
    rows: dict[tuple[str, ...], dict[str, Value]]


_PLANS: dict[tuple[str, ...], _Plan] = {}
_PLANS_KEPT = 256
_TYPED_VALUES: dict[tuple[str, str], Value] = {}  # (property, text) -> value: a file's
_TYPED_VALUES_KEPT = 4096  # thousands of tasks repeat the same few values
_TYPED_ROWS_KEPT = 1024


def _plan(keys: list[str]) -> _Plan:
    classified = [_task_attribute(k) for k in keys]
    kinds = tuple(how for _, _, how in classified)
    typed = tuple((i, c[1]) for i, c in enumerate(classified) if c[2] is _Read.TYPED)
    at = [i for i, _ in typed]
    plan = _Plan(
        locals=tuple(local for local, _, _ in classified),
        names=tuple(name for _, name, _ in classified),
        kinds=kinds,
        typed=typed,
        general=_Read.PARAMETRIC in kinds or _Read.RUNTIME in kinds,
        read=tuple(local for local, _, how in classified if how is not _Read.IGNORED),
        ignored=tuple(local for local, _, how in classified if how is _Read.IGNORED),
        typed_texts=itemgetter(*at) if len(at) > 1 else lambda texts: tuple(texts[i] for i in at),
        rows={},
    )
    if len(_PLANS) >= _PLANS_KEPT:
        _PLANS.clear()
    _PLANS[tuple(keys)] = plan
    return plan


def _task_attribute(attr: str) -> tuple[str, str, _Read]:
    # lxml names a namespaced attribute `{namespace}Name`; the importer matches local names,
    # case-insensitively
    local = attr.rpartition("}")[2] if attr[0] == "{" else attr
    lower = local.lower()
    name = TASK_ATTRIBUTES.get(lower)
    if name is not None:
        return local, name, _Read.TEXT if name in _TEXT_ATTRIBUTES else _Read.TYPED
    if lower == "isparametric":
        return local, "Type", _Read.PARAMETRIC
    if lower == "runtime":
        return local, "RuntimeSeconds", _Read.RUNTIME
    return local, _NOWHERE, _Read.IGNORED


def _general_values(plan: _Plan, texts: list[str], position: int, source: str) -> dict[str, Value]:
    """Attribute by attribute, in document order (a later one overwrites an earlier one)."""
    values: dict[str, Value] = {}
    parametric: bool | None = None
    for local, name, how, raw in zip(plan.locals, plan.names, plan.kinds, texts, strict=True):
        where = f"task {position} attribute {local}"
        if how is _Read.TEXT:
            values[name] = raw
        elif how is _Read.TYPED:
            values[name] = _typed(name, raw, local, position, source)
        elif how is _Read.PARAMETRIC:
            parametric = bool(_parsed(value_forms.parse_bool, raw, where, source))
        elif how is _Read.RUNTIME:
            values[name] = _legacy_runtime(raw, where, source)
    if parametric is not None:
        kind = values.get("Type")
        if kind is None and parametric:
            values["Type"] = "ParametricSweep"
        elif kind is not None and (kind == "ParametricSweep") != parametric:
            raise JobXmlError(
                f"task {position} has Type={kind} but IsParametric={str(parametric).lower()}",
                source=source,
                hint="the importer refuses this (Operation_TaskTypeAndIsParametricIncompatible)",
            )
    if values.get("Type") in ("NodePrep", "NodeRelease"):
        values.pop("GroupId", None)
    return values


def _typed(name: str, raw: str, attr: str, position: int, source: str) -> Value:
    value = _TYPED_VALUES.get((name, raw))
    if value is None:
        value = _task_value(name, raw, attr, position, source)
        if len(_TYPED_VALUES) >= _TYPED_VALUES_KEPT:
            _TYPED_VALUES.clear()
        _TYPED_VALUES[(name, raw)] = value
    return value


_TEXT_ATTRIBUTES = frozenset(("Name", "CommandLine", "WorkDirectory", "DependsOn"))


def _task_value(name: str, raw: str, attr: str, position: int, source: str) -> Value:
    try:
        return _typed_task_value(name, raw)
    except ValueError as bad:
        raise JobXmlError(
            f"task {position} attribute {attr}: invalid value {raw!r}: {bad}", source=source
        ) from None


def _typed_task_value(name: str, raw: str) -> Value:
    if name == "Type":
        kind = _TASK_TYPES.get(raw.strip().lower())
        if kind is None and raw.strip().isdigit() and int(raw) < len(_TASK_TYPES):
            kind = list(_TASK_TYPES.values())[int(raw)]
        if kind is None:
            raise ValueError("not a task type")
        return kind
    if name in ("StartValue", "EndValue", "IncrementValue", "GroupId"):
        return value_forms.parse_int(raw)
    spec = TASK_PROPERTIES[name]
    if spec.kind is Kind.DATETIME:
        moment = _culture_time(raw)
        if moment is not None:
            raw = moment.isoformat()
    return spec.parse(raw)


def _value(
    name: str, raw: str, where: str, source: str, catalogue: Mapping[str, PropertySpec]
) -> Value:
    spec = catalogue[name]
    if spec.kind is Kind.DATETIME:
        moment = _culture_time(raw)
        if moment is not None:
            raw = moment.isoformat()
    return _parsed(spec.parse, raw, where, source)


def _parsed(parse: Callable[[str], Value], raw: str, where: str, source: str) -> Value:
    try:
        return parse(raw)
    except ValueError as bad:
        raise JobXmlError(f"{where}: invalid value {raw!r}: {bad}", source=source) from None


def _culture_time(raw: str) -> datetime | None:
    """Times as `job export` writes them in the server's culture (`2/17/2010 6:02:32 AM`)."""
    for form in _TIME_FORMATS:
        try:
            return datetime.strptime(raw.strip(), form)
        except ValueError:
            continue
    return None


def _legacy_runtime(raw: str, where: str, source: str) -> int:
    """`Infinite` or `[[DD:]HH:]MM` → seconds (0 = no limit)."""
    text = raw.strip()
    if text.lower() == "infinite":
        return 0
    parts = text.split(":")
    if not 1 <= len(parts) <= 3 or not all(p.strip().isdigit() for p in parts):
        raise JobXmlError(
            f"{where}: {raw!r} is not a run time ([[DD:]HH:]MM or Infinite)", source=source
        )
    scale = (86400, 3600, 60)[-len(parts) :]
    return sum(int(p) * s for p, s in zip(parts, scale, strict=True))


def _job_ids(raw: str, where: str, source: str) -> str:
    ids = [p.strip() for p in raw.split(",") if p.strip()]
    if not all(p.isdigit() for p in ids):
        raise JobXmlError(f"{where}: {raw!r} is not a list of job ids", source=source)
    return ",".join(ids)


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
