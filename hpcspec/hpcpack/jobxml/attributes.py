"""How the importer reads attribute values: each distinct task attribute list is planned once
(`make_plan`), each typed value parsed once, to the catalogue's canonical forms (`read.py`
reads the elements; ground truth §2.2, `reference/hpcpack/derived/job-xml-import-export.json`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from operator import itemgetter
from typing import Any

from hpcspec.hpcpack import values as value_forms
from hpcspec.hpcpack.catalogue import TASK_PROPERTIES, Kind, PropertySpec, Value
from hpcspec.hpcpack.jobxml.safe import JobXmlError
from hpcspec.hpcpack.jobxml.schema import TASK_ATTRIBUTES
from hpcspec.hpcpack.states import TaskType

_TASK_TYPES = {m.name.lower(): m.name for m in TaskType}
_TIME_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%Y/%m/%d %H:%M:%S", "%m/%d/%Y %H:%M:%S")


def values_at(keys: Sequence[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """A getter of the items at `keys` as a tuple (`itemgetter` gives a bare item for one key)."""
    if len(keys) > 1:
        return itemgetter(*keys)
    return lambda items: tuple(items[k] for k in keys)


def typed_values(plan: Plan, texts: list[str], position: int, source: str) -> dict[str, Value]:
    """The parsed values of a task's typed attributes (a later attribute wins), parsed once
    per distinct row of texts of its plan."""
    given = plan.typed_texts(texts)
    row = plan.rows.get(given)
    if row is None:
        row = {
            name: _typed(name, texts[i], plan.locals[i], position, source) for i, name in plan.typed
        }
        if len(plan.rows) >= _TYPED_ROWS_KEPT:
            plan.rows.clear()
        plan.rows[given] = row
    return row


class _Read(Enum):
    """How the importer reads a task attribute."""

    TEXT = "text"  # the property, as written
    TYPED = "typed"  # the property, parsed to its catalogue form
    PARAMETRIC = "parametric"  # IsParametric: sets Type
    RUNTIME = "runtime"  # the legacy Runtime form of RuntimeSeconds
    IGNORED = "ignored"


NOWHERE = ""  # where `make_plan` sends the text of an attribute the importer ignores


@dataclass(frozen=True)
class Plan:
    """How to read a task with one list of attributes (in document order)."""

    locals: tuple[str, ...]  # each attribute's local name, as written
    names: tuple[str, ...]  # the property each one sets (`NOWHERE` when ignored)
    kinds: tuple[_Read, ...]
    typed: tuple[tuple[int, str], ...]  # (index, property) of the values to parse
    general: bool  # IsParametric or Runtime: read attribute by attribute
    read: tuple[str, ...]
    ignored: tuple[str, ...]
    # the texts of the typed attributes, as a tuple (`rows` key); and their parsed values by
    # those texts: thousands of tasks repeat a few rows (MinCores 1, IsRerunnable true, ...)
    typed_texts: Callable[[list[str]], tuple[str, ...]]
    rows: dict[tuple[str, ...], dict[str, Value]]


_TYPED_VALUES: dict[tuple[str, str], Value] = {}  # (property, text) -> value: a file's
_TYPED_VALUES_KEPT = 4096  # thousands of tasks repeat the same few values
_TYPED_ROWS_KEPT = 1024


@functools.lru_cache(maxsize=256)
def make_plan(keys: tuple[str, ...]) -> Plan:
    """How to read a task with these attributes (names as parsed, in document order)."""
    classified = [_task_attribute(k) for k in keys]
    kinds = tuple(how for _, _, how in classified)
    typed = tuple((i, c[1]) for i, c in enumerate(classified) if c[2] is _Read.TYPED)
    return Plan(
        locals=tuple(local for local, _, _ in classified),
        names=tuple(name for _, name, _ in classified),
        kinds=kinds,
        typed=typed,
        general=_Read.PARAMETRIC in kinds or _Read.RUNTIME in kinds,
        read=tuple(local for local, _, how in classified if how is not _Read.IGNORED),
        ignored=tuple(local for local, _, how in classified if how is _Read.IGNORED),
        typed_texts=values_at([i for i, _ in typed]),
        rows={},
    )


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
    return local, NOWHERE, _Read.IGNORED


def general_values(plan: Plan, texts: list[str], position: int, source: str) -> dict[str, Value]:
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
            values[name] = legacy_runtime(raw, where, source)
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
    return spec.parse(_iso_time(spec, raw))


def job_value(
    name: str, raw: str, where: str, source: str, catalogue: Mapping[str, PropertySpec]
) -> Value:
    spec = catalogue[name]
    return _parsed(spec.parse, _iso_time(spec, raw), where, source)


def _parsed(parse: Callable[[str], Value], raw: str, where: str, source: str) -> Value:
    try:
        return parse(raw)
    except ValueError as bad:
        raise JobXmlError(f"{where}: invalid value {raw!r}: {bad}", source=source) from None


def _iso_time(spec: PropertySpec, raw: str) -> str:
    """`raw`, or for a time property written in the server's culture, that time in ISO form."""
    if spec.kind is Kind.DATETIME:
        moment = _culture_time(raw)
        if moment is not None:
            return moment.isoformat()
    return raw


def _culture_time(raw: str) -> datetime | None:
    """Times as `job export` writes them in the server's culture (`2/17/2010 6:02:32 AM`)."""
    for form in _TIME_FORMATS:
        try:
            return datetime.strptime(raw.strip(), form)
        except ValueError:
            continue
    return None


def legacy_runtime(raw: str, where: str, source: str) -> int:
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


def job_ids(raw: str, where: str, source: str) -> str:
    ids = [p.strip() for p in raw.split(",") if p.strip()]
    if not all(p.isdigit() for p in ids):
        raise JobXmlError(f"{where}: {raw!r} is not a list of job ids", source=source)
    return ",".join(ids)
