"""A run's events as JSON-lines records (`apply/destroy/reconcile --output json`), pure.

The CLI's JSON view (`hpcspec.cli.event_stream`) calls `event_record` for each engine event
(`hpcspec.engine.events`) and writes the record with `json_line`. Terraform's machine-readable
UI is the model: every record has `type`, `@level`, `@message` and `@timestamp` plus its typed
payload; the stream opens with a `version` record carrying `format_version` (MAJOR.MINOR, the
plan JSON's rules). `type` is the engine event's name in snake case, and an event this module
has no special rule for is written field by field, so new engine events reach consumers
without a change here (consumers skip types they do not know). docs/plan-format.md describes
every record. Events carry no secret (see `engine/events.py`); payloads are exact data,
`@message` is neutralised text for people.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from datetime import datetime
from enum import Enum, StrEnum

from hpcspec.engine.events import (
    Applied,
    Event,
    JobApplied,
    JobRequeued,
    JobStateChanged,
    LockWaiting,
    Planned,
    Resumed,
    RoundEnded,
    StackFailed,
    StepFinished,
    StepStarted,
    StillWaiting,
    WaitEnded,
    WaitPolled,
)
from hpcspec.engine.outcomes import ApplyVerdict, Outcome, WaitVerdict
from hpcspec.engine.plan import Plan
from hpcspec.engine.planfile import dumps, plan_document
from hpcspec.errors import HpcspecError
from hpcspec.render.apply import (
    heartbeat_line,
    job_line,
    requeue_line,
    state_change_lines,
    wait_verdict_line,
)
from hpcspec.render.neutralise import neutralise
from hpcspec.render.status import status_row

EVENTS_FORMAT_VERSION = "1.0"

Record = dict[str, object]


class Level(StrEnum):
    """`@level`, Terraform's words."""

    INFO = "info"
    WARN = "warn"
    ERROR = "error"


def json_line(record: Mapping[str, object], at: datetime) -> str:
    """One record as one line of JSON, stamped `@timestamp` (UTC, RFC 3339), inert in CI logs."""
    stamp = at.isoformat(timespec="microseconds").replace("+00:00", "Z")
    return dumps({**record, "@timestamp": stamp}, one_line=True)


def version_record(version: str, command: str) -> Record:
    """The stream's first record: which hpcspec wrote it, and the stream's format version."""
    payload = {"hpcspec": version, "command": command, "format_version": EVENTS_FORMAT_VERSION}
    return _record("version", Level.INFO, f"hpcspec {version}: {command}", payload)


def diagnostic_record(error: HpcspecError) -> Record:
    """An error that ended the command (the same one stderr shows)."""
    return _record("diagnostic", Level.ERROR, error.render(), {"diagnostic": error.as_dict()})


def log_record(message: str) -> Record:
    """A line a command says outside any engine event (reconcile's start and stop)."""
    return _record("log", Level.INFO, message, {})


def event_records(event: Event) -> list[Record]:
    """The records of one engine event: one per plan for `Planned`, none for a wait poll."""
    match event:
        case Planned(plans=plans):
            return [_planned(plan) for plan in plans]
        case WaitPolled():
            return []  # every poll: the state changes and heartbeats say what moved
        case _:
            return [_one(event)]


def _planned(plan: Plan) -> Record:
    message = f"Plan for stack {neutralise(plan.stack)} on {neutralise(plan.cluster)}: "
    return _record(
        "planned",
        Level.INFO,
        message + plan.summary(),
        {"stack": plan.stack, "plan": plan_document(plan)},
    )


def _one(event: Event) -> Record:
    name = event_type(type(event))
    match event:
        case Resumed(stack=stack, job_ids=job_ids, cancelled=cancelled):
            parts = [f"job(s) {', '.join(map(str, job_ids))} adopted"] if job_ids else []
            if cancelled:
                parts.append(f"incomplete job(s) {', '.join(map(str, cancelled))} cancelled")
            text = f"{neutralise(stack)}: resumed an interrupted apply: {'; '.join(parts)}"
            return _record(name, Level.INFO, text, _fields(event))
        case LockWaiting(stack=stack, lock_id=lock_id, timeout=timeout):
            text = (
                f"{neutralise(stack)}: locked by lock job {lock_id}; "
                f"waiting up to {timeout:g} s (--lock-timeout)"
            )
            return _record(name, Level.WARN, text, _fields(event))
        case StepStarted(stack=stack, key=key, kind=kind, job_id=job_id):
            text = f"{_where(stack, key, job_id)}: {kind.value} started"
            return _record(name, Level.INFO, text, _fields(event))
        case StepFinished(stack=stack, key=key, kind=kind, job_id=job_id, failed=failed):
            said, level = ("failed", Level.ERROR) if failed else ("finished", Level.INFO)
            text = f"{_where(stack, key, job_id)}: {kind.value} {said}"
            return _record(name, level, text, _fields(event))
        case JobApplied(stack=stack, result=result):
            line = job_line(result, prefix=f"{stack}/")
            text = line or f"{neutralise(stack)}/{neutralise(result.key)}: unchanged"
            return _record(name, _OUTCOME_LEVELS[result.outcome], text, _fields(event))
        case Applied(plans=plans, results=results, verdict=verdict):
            flat = [r for result in results for r in result.results]
            outcomes = {o.value: sum(1 for r in flat if r.outcome is o) for o in Outcome}
            counts = ", ".join(f"{n} {o}" for o, n in outcomes.items())
            return _record(
                name,
                _VERDICT_LEVELS[verdict],
                f"{verdict.value}: {counts}",
                {
                    "verdict": verdict.value,
                    "stacks": [p.stack for p in plans],
                    "outcomes": outcomes,
                },
            )
        case StackFailed(stack=stack, message=message):
            text = f"{neutralise(stack)}: {neutralise(message)}"
            return _record(name, Level.ERROR, text, _fields(event))
        case RoundEnded(verdict=verdict):
            text = f"reconcile round: {verdict.value}"
            return _record(name, _VERDICT_LEVELS[verdict], text, _fields(event))
        case JobStateChanged(row=row, before=before):
            text = state_change_lines(row, before)[0]
            return _record(name, Level.INFO, text, {"job": status_row(row), "before": before})
        case JobRequeued(row=row, attempt=attempt, allowed=allowed):
            text = requeue_line(row, attempt, allowed)
            payload = {"job": status_row(row), "attempt": attempt, "allowed": allowed}
            return _record(name, Level.WARN, text, payload)
        case StillWaiting(rows=rows):
            jobs = [status_row(r) for r in rows]
            return _record(name, Level.INFO, heartbeat_line(rows), {"jobs": jobs})
        case WaitEnded(verdict=verdict, rows=rows):
            text = wait_verdict_line(verdict, rows)[0]
            level = Level.INFO if verdict is WaitVerdict.FINISHED else Level.ERROR
            jobs = [status_row(r) for r in rows]
            return _record(name, level, text, {"verdict": verdict.value, "jobs": jobs})
        case _:  # an event without a rule of its own: its fields as they are
            return _record(name, Level.INFO, name.replace("_", " "), _fields(event))


def event_type(kind: type) -> str:
    """`type` of an engine event's records: its class name in snake case (`StepStarted` ->
    `step_started`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__).lower()


_OUTCOME_LEVELS = {
    Outcome.DONE: Level.INFO,
    Outcome.UNCHANGED: Level.INFO,
    Outcome.REFUSED: Level.WARN,
    Outcome.NOT_STARTED: Level.ERROR,
    Outcome.FAILED: Level.ERROR,
}
_VERDICT_LEVELS = {
    ApplyVerdict.APPLIED: Level.INFO,
    ApplyVerdict.PARTIAL: Level.WARN,
    ApplyVerdict.FAILED: Level.ERROR,
    ApplyVerdict.STALE_PLAN: Level.ERROR,
    ApplyVerdict.DECLINED: Level.WARN,
}


def _where(stack: str, key: str, job_id: int | None) -> str:
    job = f" (job {job_id})" if job_id is not None else ""
    return f"{neutralise(stack)}/{neutralise(key)}{job}"


def _record(type_: str, level: Level, message: str, payload: Mapping[str, object]) -> Record:
    """The envelope and the payload (no engine event has a field named `type`; a test checks)."""
    return {**payload, "type": type_, "@level": level.value, "@message": message}


def _fields(event: object) -> dict[str, object]:
    """A dataclass's fields as JSON data: enums by value, tuples as lists, nested dataclasses
    as objects; a field of any other type is left out rather than guessed at."""
    out: dict[str, object] = {}
    for field in dataclasses.fields(event):  # type: ignore[arg-type]
        value = _data(getattr(event, field.name))
        if value is not _SKIP:
            out[field.name] = value
    return out


_SKIP = object()


def _data(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # JSON has no Infinity
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, tuple | list):
        items = [_data(v) for v in value]
        return [v for v in items if v is not _SKIP]
    if isinstance(value, Mapping):
        pairs = {str(k): _data(v) for k, v in value.items()}
        return {k: v for k, v in pairs.items() if v is not _SKIP}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    return _SKIP
