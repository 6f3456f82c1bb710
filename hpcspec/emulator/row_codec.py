"""Job and task rows as the store's SQLite tables hold them: properties, custom properties and
environment variables as JSON text (`store.py` reads and writes them through these)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import cast

from hpcspec.emulator.properties import JOB_TYPES, TASK_TYPES
from hpcspec.emulator.rows import BOOKKEEPING, JobRow, TaskRow


def job_values(job: JobRow) -> tuple[object, ...]:
    """A job as the `jobs` table's columns."""
    return (
        job.id,
        job.owner,
        job.props["State"],
        job.number("_changed"),
        dump(job.props),
        dump(job.custom),
        dump(job.env),
    )


def task_values(task: TaskRow) -> tuple[object, ...]:
    """A task as the `tasks` table's columns."""
    return (
        task.job_id,
        task.task_id,
        task.instance_id,
        task.props["State"],
        dump(task.props),
        dump(task.custom),
        dump(task.env),
        int(task.is_master),
    )


ENCODE = json.JSONEncoder(check_circular=False).encode  # flat dicts of strings
DECODE = json.JSONDecoder().decode
_QUOTE = json.encoder.encode_basestring_ascii  # what ENCODE writes for each key and value
# Property names as ENCODE writes them (a fixed set: a lookup costs less than quoting)
_QUOTED_NAMES = {name: _QUOTE(name) for name in (*JOB_TYPES, *TASK_TYPES, *BOOKKEEPING)}


def dump(values: dict[str, str]) -> str:
    """Properties (or custom properties, or env) as a column's JSON text: `ENCODE`'s text,
    built by C-level map and join, a job file's thousands of task rows quicker than the
    encoder builds them (its per-call set-up, and quoting the same names on every row)."""
    if not values:
        return "{}"  # most rows have no custom properties or env
    known = list(map(_QUOTED_NAMES.get, values))
    try:
        # custom properties and environment variables have names of their own
        names = list(map(_QUOTE, values)) if None in known else cast("list[str]", known)
        pairs = map(": ".join, zip(names, map(_QUOTE, values.values()), strict=True))
        return "{" + ", ".join(pairs) + "}"
    except TypeError:  # a name or value that is not a string: the encoder's own rules
        return ENCODE(values)


def load(text: object) -> dict[str, str]:
    """A column's JSON text as properties (or custom properties, or env)."""
    return {} if text == "{}" else dict(DECODE(str(text)))


def job_row(row: Sequence[object]) -> JobRow:
    """A `jobs` row (id, props, custom, env) as a JobRow."""
    return JobRow(int(str(row[0])), load(row[1]), load(row[2]), load(row[3]))


def task_row(row: Sequence[object]) -> TaskRow:
    """A `tasks` row (job id, task id, instance id, props, custom, env) as a TaskRow."""
    return TaskRow(
        int(str(row[0])),
        int(str(row[1])),
        int(str(row[2])),
        load(row[3]),
        load(row[4]),
        load(row[5]),
    )
