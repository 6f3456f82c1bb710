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
from hpcspec.emulator.views import (
    COUNTER_NAMES,
    PLAIN_TASK_PROPERTIES,
    READABLE_JOB,
    job_columns,
    job_view,
    job_view_of,
    plain_task_view,
    task_counters,
    task_view,
)
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
    """GET /jobs: filtered, sorted and paged; in id order SQLite pages it (a seek per page)."""
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
            where.append("owner LIKE ? ESCAPE '!'")  # LIKE ignores case (ASCII)
            literal = "".join("!" + ch if ch in "!%_" else ch for ch in query.owner)
            params.append("%\\" + literal)
    condition = " AND ".join(where)
    counts = names is None or any(n in COUNTER_NAMES for n in names)
    sort = canonical(JOB_TYPES, query.sort) if query.sort else None
    if sort in (None, "Id"):
        after = query.after[0] if query.after else None
        shown = names if names is not None else list(READABLE_JOB)
        found = store.job_values(
            condition, params, query.rows + 1, query.offset, not query.ascending, after,
            job_columns(shown),
        )  # fmt: skip
        more, found = len(found) > query.rows, found[: query.rows]
        counted = store.task_state_counts_of([job_id for job_id, _ in found]) if counts else {}
        wanted = COUNTER_NAMES.intersection(shown)
        rows = [
            job_view_of(values, task_counters(counted[job_id], wanted) if counts else {}, shown)
            for job_id, values in found
        ]
        if query.start_row is not None:
            c.headers["x-ms-row-count"] = str(store.count_jobs(condition, params))
        elif more:
            end = query.offset + query.rows
            c.headers["x-ms-continuation-queryId"] = query.token(end, (found[-1][0],))
        return as_served(c, rows, JOB_TYPES)
    views = [_job_view(c, j, counts) for j in store.query_jobs(condition, params, None, 0)]
    views = listing.sort_rows(views, sort, JOB_TYPES, lambda r: int(r["Id"]), query.ascending)
    return as_served(c, page(c, [listing.select(v, names) for v in views], query), JOB_TYPES)


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


def _job_view(
    c: Context, job: JobRow, counts: bool, names: list[str] | None = None
) -> dict[str, str]:
    counters = task_counters(c.scheduler.store.task_state_counts(job.id)) if counts else {}
    return job_view(job, counters, names)


def as_served(
    c: Context, rows: list[dict[str, str]], kinds: Mapping[str, str]
) -> list[dict[str, str]]:
    """Job or task rows as the profile's server answers them: times in its format (they are
    stored in the default one), and without empty values where it leaves them out
    (`listing.omits_empty`)."""
    times = c.scheduler.times
    if times is not None:
        for row in rows:
            for name, value in row.items():
                if value and kinds.get(name) == "DateTime":
                    row[name] = times.format(parse_time(value))
    if c.scheduler.profile.listing_omits_empty:
        rows = [{name: value for name, value in row.items() if value} for row in rows]
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
    return as_served(c, [listing.select(_job_view(c, job, counts), names)], JOB_TYPES)[0]


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
    """GET /jobs/{id}/tasks: filtered in SQL; in id order paged in SQL too (linear in pages)."""
    store = c.scheduler.store
    c.scheduler.job(job_id)
    query = listing.make_query(c.args, listing.TASK_FILTERS, "sorttasksby", c.scheduler.profile)
    names = listing.pick_properties(
        c.args.get("properties"), TASK_TYPES, listing.DEFAULT_TASK_PROPERTIES
    )
    # the Store API's LocalRowEnumerator: expanded = every row but sweep masters, else the
    # rows of instance 0 (basic tasks and masters)
    where = ["master = 0" if query.expand else "instance_id = 0"]
    params: list[object] = []
    for name, value in query.filters:
        if name in ("TaskState", "TaskStates"):
            states = sorted(listing.state_names(value, TaskState.parse))
            where.append(f"state IN ({','.join('?' * len(states))})")
            params += states
        elif name in ("TaskIds", "TaskInstanceIds"):
            ids = sorted(listing.split_ids(value))
            column = "task_id" if name == "TaskIds" else "instance_id"
            where.append(f"{column} IN ({','.join('?' * len(ids))})")
            params += ids
        else:
            where.append("CAST(json_extract(props, '$._changed') AS REAL) >= ?")
            params.append(_time(c, value))
    condition = " AND ".join(where)
    sort = query.sort if query.sort.lower() not in ("taskid", "jobtaskid") else ""
    if not canonical(TASK_TYPES, sort):
        paging = (query.rows + 1, query.offset, not query.ascending, query.after)
        if names is not None and PLAIN_TASK_PROPERTIES.issuperset(names):  # read as stored
            found = store.query_task_values(job_id, condition, params, names, *paging)
            more, found = len(found) > query.rows, found[: query.rows]
            rows = [plain_task_view(names, values) for _, _, values in found]
            last = found[-1][:2] if found else None
        else:
            custom = names is None or "HasCustomProperties" in names
            tasks = store.query_tasks(job_id, condition, params, *paging, custom)
            more, tasks = len(tasks) > query.rows, tasks[: query.rows]
            rows = [task_view(t, names) for t in tasks]
            last = (tasks[-1].task_id, tasks[-1].instance_id) if tasks else None
        if query.start_row is not None:
            c.headers["x-ms-row-count"] = str(store.count_tasks(job_id, condition, params))
        elif more and last is not None:
            c.headers["x-ms-continuation-queryId"] = query.token(query.offset + query.rows, last)
        return as_served(c, rows, TASK_TYPES)
    views = [task_view(t) for t in store.query_tasks(job_id, condition, params, None)]
    views = listing.sort_rows(
        views,
        sort,
        TASK_TYPES,
        lambda r: (int(r["JobTaskId"]), int(r["InstanceId"])),
        query.ascending,
    )
    return as_served(c, page(c, [listing.select(v, names) for v in views], query), TASK_TYPES)


def add_task(c: Context, job_id: int) -> Body:
    return task_operations.add_task(c.scheduler, c.caller, job_id, c.pairs)


def get_task(c: Context, job_id: int, task_id: int, subtask_id: int | None = None) -> Body:
    task = c.scheduler.task(job_id, task_id, subtask_id)
    names = listing.pick_properties(c.args.get("properties"), TASK_TYPES, None)
    return as_served(c, [listing.select(task_view(task), names)], TASK_TYPES)[0]


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
