"""One function per REST operation of `reference/hpcpack-rest-api-2016.md` (37 in all).

Each takes the request context and path values and returns the body to render (or None for
204). Shapes follow `reference/hpcpack/openapi/hpcpack-rest-2016u3.json`: flat RestProperty
arrays for single objects, RestObject arrays for lists, bare integers for new ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hpcspec.emulator import errors, listing, messages, task_operations
from hpcspec.emulator.bodies import Body, Pairs
from hpcspec.emulator.jobxml_import import import_job
from hpcspec.emulator.properties import (
    JOB_TYPES,
    TASK_TYPES,
    canonical,
    parse_bool,
    parse_time,
)
from hpcspec.emulator.rows import JobRow
from hpcspec.emulator.scheduler import Caller, Scheduler
from hpcspec.emulator.views import COUNTER_NAMES, job_view, task_view
from hpcspec.hpcpack.states import JobState, TaskState


@dataclass
class Context:
    """What a handler may use: the scheduler, who is asking, the query and the body."""

    scheduler: Scheduler
    caller: Caller
    args: Mapping[str, str]  # query parameters, names lower-cased
    pairs: Pairs = field(default_factory=list)
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers


# -- cluster ---------------------------------------------------------------------------------
def cluster_version(c: Context) -> Body:
    return c.scheduler.profile.version


def active_head_node(c: Context) -> Body:
    return c.scheduler.cluster.head_node


def datetime_format(c: Context) -> Body:
    return c.scheduler.profile.datetime_format


def job_templates(c: Context) -> Body:
    return list(c.scheduler.cluster.templates)


# -- jobs ------------------------------------------------------------------------------------
def list_jobs(c: Context) -> Body:
    store = c.scheduler.store
    query = listing.make_query(c.args, listing.JOB_FILTERS, "sortjobsby", c.scheduler.profile)
    names = listing.pick_properties(
        c.args.get("properties"), JOB_TYPES, listing.DEFAULT_JOB_PROPERTIES
    )
    where: list[str] = ["1=1"]
    params: list[object] = []
    for name, value in query.filters:
        if name == "JobState":
            states = sorted(listing.state_names(value, JobState.parse))
            where.append(f"state IN ({','.join('?' * len(states))})")
            params += states
        elif name == "NodeGroup":
            where.append(
                "(',' || lower(coalesce(json_extract(props, '$.NodeGroups'), '')) || ',') LIKE ?"
            )
            params.append(f"%,{value.lower()},%")
        else:
            where.append("change_time >= ?")
            params.append(_time(c, value))
    if query.owner:
        if "\\" in query.owner:
            where.append("owner = ?")
            params.append(query.owner)
        else:
            where.append("lower(owner) LIKE ?")
            params.append("%\\" + query.owner.lower())
    condition = " AND ".join(where)
    counts = names is None or any(n in COUNTER_NAMES for n in names)
    sort = canonical(JOB_TYPES, query.sort) if query.sort else None
    if sort in (None, "Id"):
        total = store.count_jobs(condition, params)
        jobs = store.query_jobs(
            condition, params, query.rows, query.offset, descending=not query.ascending
        )
        rows = [listing.select(_job_view(c, j, counts), names) for j in jobs]
        end = query.offset + query.rows
        if query.start_row is not None:
            c.headers["x-ms-row-count"] = str(total)
        elif end < total:
            c.headers["x-ms-continuation-queryId"] = query.token(end)
        return local_times(c, rows, JOB_TYPES)
    views = [_job_view(c, j, counts) for j in store.query_jobs(condition, params, None, 0)]
    views = listing.sort_rows(views, sort, JOB_TYPES, lambda r: int(r["Id"]), query.ascending)
    return local_times(c, page(c, [listing.select(v, names) for v in views], query), JOB_TYPES)


def _time(c: Context, value: str) -> float:
    times = c.scheduler.times
    try:
        return times.parse(value) if times is not None else parse_time(value)
    except ValueError:
        pass
    try:
        return parse_time(value)
    except ValueError:
        raise errors.bad_request(messages.INVALID_OPERATION, f" '{value}' is not a time.") from None


def _job_view(c: Context, job: JobRow, counts: bool) -> dict[str, str]:
    return c.scheduler.job_view(job) if counts else job_view(job, {})


def local_times(
    c: Context, rows: list[dict[str, str]], kinds: Mapping[str, str]
) -> list[dict[str, str]]:
    """Times in the profile's format (they are stored in the default one)."""
    times = c.scheduler.times
    if times is None:
        return rows
    for row in rows:
        for name, value in row.items():
            if value and kinds.get(name) == "DateTime":
                row[name] = times.format(parse_time(value))
    return rows


def page(c: Context, rows: list[dict[str, str]], query: listing.Query) -> list[dict[str, str]]:
    chunk, token = listing.page(rows, query)
    if query.start_row is not None:
        c.headers["x-ms-row-count"] = str(len(rows))
    if token:
        c.headers["x-ms-continuation-queryId"] = token
    return chunk


def create_job(c: Context) -> Body:
    return c.scheduler.create_job(c.caller, c.pairs)


def create_job_from_xml(c: Context) -> Body:
    return import_job(c.scheduler, c.caller, c.text)


def get_job(c: Context, job_id: int) -> Body:
    job = c.scheduler.job(job_id)
    names = listing.pick_properties(c.args.get("properties"), JOB_TYPES, None)
    counts = names is None or any(n in COUNTER_NAMES for n in names)
    return local_times(c, [listing.select(_job_view(c, job, counts), names)], JOB_TYPES)[0]


def set_job(c: Context, job_id: int) -> Body:
    c.scheduler.set_job(c.caller, job_id, c.pairs)
    return None


def _named(table: Mapping[str, str], args: Mapping[str, str]) -> dict[str, str]:
    wanted = [n.strip() for n in args.get("names", "").split(",") if n.strip()]
    if not wanted:
        return dict(table)
    lowered = {k.lower(): v for k, v in table.items()}
    out = {}
    for name in wanted:
        existing = next((k for k in table if k.lower() == name.lower()), name)
        out[existing] = lowered.get(name.lower(), "")
    return out


def get_job_custom(c: Context, job_id: int) -> Body:
    return _named(c.scheduler.job(job_id).custom, c.args)


def set_job_custom(c: Context, job_id: int) -> Body:
    c.scheduler.set_custom(c.caller, job_id, None, c.pairs)
    return None


def get_job_env(c: Context, job_id: int) -> Body:
    return _named(c.scheduler.job(job_id).env, c.args)


def set_job_env(c: Context, job_id: int) -> Body:
    c.scheduler.set_env(c.caller, job_id, None, c.pairs)
    return None


def submit_job(c: Context, job_id: int) -> Body:
    c.scheduler.submit(c.caller, job_id, c.pairs)
    return None


def _forced(c: Context) -> bool:
    text = c.args.get("forced", "false")
    try:
        return parse_bool(text)
    except ValueError:
        raise errors.bad_request(
            messages.INVALID_OPERATION, f" forced '{text}' is not a boolean."
        ) from None


def cancel_job(c: Context, job_id: int) -> Body:
    c.scheduler.cancel_job(c.caller, job_id, c.text, _forced(c))
    return None


def finish_job(c: Context, job_id: int) -> Body:
    c.scheduler.finish_job(c.caller, job_id, c.text)
    return None


def requeue_job(c: Context, job_id: int) -> Body:
    c.scheduler.requeue_job(c.caller, job_id)
    return None


# -- tasks -----------------------------------------------------------------------------------
def list_tasks(c: Context, job_id: int) -> Body:
    c.scheduler.job(job_id)
    query = listing.make_query(c.args, listing.TASK_FILTERS, "sorttasksby", c.scheduler.profile)
    names = listing.pick_properties(
        c.args.get("properties"), TASK_TYPES, listing.DEFAULT_TASK_PROPERTIES
    )
    rows = c.scheduler.store.tasks(job_id)
    if query.expand:
        rows = [t for t in rows if not t.is_master]
    else:
        rows = [t for t in rows if t.instance_id == 0]
    for name, value in query.filters:
        if name in ("TaskState", "TaskStates"):
            states = listing.state_names(value, TaskState.parse)
            rows = [t for t in rows if t.props["State"] in states]
        elif name == "TaskIds":
            ids = listing.split_ids(value)
            rows = [t for t in rows if t.task_id in ids]
        elif name == "TaskInstanceIds":
            ids = listing.split_ids(value)
            rows = [t for t in rows if t.instance_id in ids]
        else:
            since = _time(c, value)
            rows = [t for t in rows if float(t.props.get("_changed", "0")) >= since]
    views = [task_view(t) for t in rows]
    sort = query.sort if query.sort.lower() != "taskid" else ""
    views = listing.sort_rows(
        views,
        sort,
        TASK_TYPES,
        lambda r: (int(r["JobTaskId"]), int(r["InstanceId"])),
        query.ascending,
    )
    return local_times(c, page(c, [listing.select(v, names) for v in views], query), TASK_TYPES)


def add_task(c: Context, job_id: int) -> Body:
    return task_operations.add_task(c.scheduler, c.caller, job_id, c.pairs)


def get_task(c: Context, job_id: int, task_id: int, subtask_id: int | None = None) -> Body:
    task = c.scheduler.task(job_id, task_id, subtask_id)
    names = listing.pick_properties(c.args.get("properties"), TASK_TYPES, None)
    return local_times(c, [listing.select(task_view(task), names)], TASK_TYPES)[0]


def set_task(c: Context, job_id: int, task_id: int, subtask_id: int | None = None) -> Body:
    task_operations.set_task(c.scheduler, c.caller, (job_id, task_id, subtask_id), c.pairs)
    return None


def get_task_custom(c: Context, job_id: int, task_id: int) -> Body:
    return _named(c.scheduler.task(job_id, task_id).custom, c.args)


def set_task_custom(c: Context, job_id: int, task_id: int) -> Body:
    c.scheduler.set_custom(c.caller, job_id, task_id, c.pairs)
    return None


def get_task_env(c: Context, job_id: int, task_id: int) -> Body:
    return _named(c.scheduler.task(job_id, task_id).env, c.args)


def set_task_env(c: Context, job_id: int, task_id: int) -> Body:
    c.scheduler.set_env(c.caller, job_id, task_id, c.pairs)
    return None


def cancel_task(c: Context, job_id: int, task_id: int, subtask_id: int | None = None) -> Body:
    task_operations.cancel_task(
        c.scheduler, c.caller, (job_id, task_id, subtask_id), c.text, _forced(c)
    )
    return None


def finish_task(c: Context, job_id: int, task_id: int, subtask_id: int | None = None) -> Body:
    task_operations.finish_task(c.scheduler, c.caller, (job_id, task_id, subtask_id), c.text)
    return None


def requeue_task(c: Context, job_id: int, task_id: int, subtask_id: int | None = None) -> Body:
    task_operations.requeue_task(c.scheduler, c.caller, (job_id, task_id, subtask_id))
    return None
