"""A live job read back over REST → the same `JobDefinition` shape the manifest resolves to.

Inputs are the REST API's string maps (property name → value, names case-insensitive).
Only catalogue properties are kept, parsed to canonical values; a value the catalogue cannot
parse is kept as its raw string, so it shows up as a difference instead of crashing a plan.
Task env and custom properties cost one request per task, so they are filled only when given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES, Kind, PropertySpec, Value
from hpcspec.hpcpack.definition import JobDefinition, Sweep, TaskDefinition, pairs

TimeParser = Callable[[str], datetime | None]


def _canonical(spec: PropertySpec, text: str, parse_time: TimeParser | None = None) -> Value:
    if spec.kind is Kind.DATETIME and parse_time is not None:
        moment = parse_time(text)  # the cluster writes times in its own culture format
        if moment is not None:
            return _canonical(spec, moment.isoformat())
    try:
        return spec.from_wire(text)
    except ValueError:
        return text


def _folded(values: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in values.items()}


def job_properties(
    values: Mapping[str, str], parse_time: TimeParser | None = None
) -> tuple[tuple[str, Value], ...]:
    """The catalogue properties among a job's REST properties, canonical, empty ones left out."""
    folded = _folded(values)
    out: dict[str, Value] = {}
    for name, spec in JOB_PROPERTIES.items():
        # The expanded priority carries the offset (Normal+5); Priority only the bucket.
        text = folded.get(spec.wire_name.lower()) or folded.get(name.lower())
        if text is not None and text != "":
            out[name] = _canonical(spec, text, parse_time)
    return pairs(out)


def task_definition(
    values: Mapping[str, str],
    *,
    env: Mapping[str, str] | None = None,
    custom: Mapping[str, str] | None = None,
) -> TaskDefinition:
    """One task (or sweep master) from its REST properties."""
    folded = _folded(values)
    props: dict[str, Value] = {}
    for name, spec in TASK_PROPERTIES.items():
        text = folded.get(name.lower())
        if text is not None and text != "":
            props[name] = _canonical(spec, text)
    sweep = None
    if folded.get("type", "").lower() in ("parametricsweep", "1"):
        sweep = Sweep(
            int(folded.get("startvalue") or 1),
            int(folded.get("endvalue") or 1),
            int(folded.get("incrementvalue") or 1),
        )
    depends = tuple(d.strip() for d in folded.get("dependson", "").split(",") if d.strip())
    return TaskDefinition(
        name=folded.get("name", ""),
        command_line=folded.get("commandline", ""),
        work_directory=folded.get("workdirectory") or None,
        depends_on=depends,
        properties=pairs(props),
        custom_properties=pairs(dict(custom or {})),
        env=pairs(dict(env or {})),
        sweep=sweep,
    )


def job_definition(
    values: Mapping[str, str],
    *,
    custom: Mapping[str, str],
    env: Mapping[str, str],
    tasks: Iterable[TaskDefinition],
    parse_time: TimeParser | None = None,
) -> JobDefinition:
    """A whole job from its REST properties, custom properties, env and tasks."""
    return JobDefinition(
        properties=job_properties(values, parse_time),
        custom_properties=pairs(dict(custom)),
        env=pairs(dict(env)),
        tasks=tuple(tasks),
    )
