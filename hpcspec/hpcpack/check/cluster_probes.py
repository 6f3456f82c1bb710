"""The probes of `hpcspec cluster check` that read the cluster or write nothing lasting.

Part of the check (`hpcpack.check`): version and auth, the date-time format, the node endpoints,
the error contract (one throwaway job, cancelled before it is ever submitted), paging and
the listing lag (how soon a new job is listed; throwaway jobs never submitted). Each
probe returns its findings and the profile facts it measured (`model.ProbeResult`).
"""

from __future__ import annotations

import math
import time
from datetime import timedelta
from itertools import islice

from hpcspec.hpcpack import codec, errors
from hpcspec.hpcpack.check.model import CheckRun, ProbeResult
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.client.jobs import IDENTITY_COLUMNS, MAY_BE_EMPTY
from hpcspec.hpcpack.listing import CONTINUATION_HEADER, iter_rows
from hpcspec.hpcpack.profile import ErrorStyle, NodeEndpoints
from hpcspec.hpcpack.timeformat import TimeFormat

NO_SUCH_JOB = 2_147_483_000  # far above any job id a cluster hands out
WALKED_PAGES = 3  # pages of one row followed by `paging.each-row-once`
READ_BACK_ROWS = 3  # rows without an identity column whose jobs `paging.identity-columns` reads
_STYLES = {
    "scheduler": ErrorStyle.SCHEDULER,
    "aspnet": ErrorStyle.ASPNET,
    "html": ErrorStyle.IIS_HTML,
    "text": ErrorStyle.PLAIN_TEXT,
}


def version_and_auth(run: CheckRun) -> ProbeResult:
    """GET /cluster/version with Basic auth (HPC Pack 2016 Update 3, 5.3.6435, and later)."""
    result = ProbeResult()
    version = run.client.version()
    parts = version.split(".")
    major_minor = tuple(int(p) for p in parts[:2] if p.isdigit())
    recent = major_minor >= (5, 3) if len(major_minor) == 2 else None
    result.add(
        "version-and-auth",
        "The REST API answers with Basic authentication and the version is 2016 U3 (5.3) or later",
        recent,
        f"GET /cluster/version answered {version!r} to Basic credentials",
    )
    result.facts["version"] = version
    return result


def date_time_format(run: CheckRun) -> ProbeResult:
    """GET /cluster/info/dateTimeFormat, and a job's CreateTime read with it."""
    result = ProbeResult()
    text = run.client.date_time_format()
    try:
        form = TimeFormat(text)
    except ValueError as bad:
        result.add("date-time-format", _DATE_ASSUMPTION, False, f"{text!r}: {bad}")
        return result
    problem = form.problem()
    if problem is not None:  # not saved: a profile holding it would not load
        result.add("date-time-format", _DATE_ASSUMPTION, False, f"{text!r}: {problem}")
        return result
    result.facts["datetime_format"] = text
    job_id = run.made(run.client.create_job({"Name": run.name("date")}))
    created = run.client.job_properties(job_id, ["CreateTime"]).text("CreateTime")
    try:
        when = form.parse(created)
    except ValueError:
        when = None
    near = when is not None and abs(when - run.started) < timedelta(hours=12)
    result.add(
        "date-time-format",
        _DATE_ASSUMPTION,
        near,
        f"format {text!r}; job {job_id} CreateTime {created!r} read as {when} (UTC)",
    )
    return result


_DATE_ASSUMPTION = "Times are written in the cluster's dateTimeFormat and are UTC"


_GROUPS = {NodeEndpoints.NODES: "/nodes/groups", NodeEndpoints.CLUSTER: "/cluster/nodeGroups"}


def node_endpoints(run: CheckRun) -> ProbeResult:
    """Which endpoint family lists nodes: /nodes* (2016 U3) or /cluster/nodes* (2019)."""
    result = ProbeResult()
    answers = {}
    for family, path in _GROUPS.items():
        try:
            run.client.transport.request("GET", path)
            answers[family] = "answers"
        except errors.NotFound as missing:
            answers[family] = f"HTTP {missing.status}"
    served = [f for f, said in answers.items() if said == "answers"]
    evidence = "; ".join(f"GET {_GROUPS[f]}: {said}" for f, said in answers.items())
    if served:
        result.facts["node_endpoints"] = served[0]
    result.add(
        "node-endpoints",
        "Nodes and node groups are listed at /nodes* (HPC Pack 2016 Update 3)",
        None if not served else served[0] is NodeEndpoints.NODES,
        evidence,
    )
    return result


def error_contract(run: CheckRun) -> ProbeResult:
    """Status, body and the client's reading of not-found, refused-by-state and a bad value.

    Its one job is created and cancelled in Configuring: never submitted, it cannot run.
    """
    result = ProbeResult()
    client = run.client
    job_id = run.made(client.create_job({"Name": run.name("errors")}))
    bad_value = [{"Name": "Priority", "Value": "NoSuchPriority"}]
    attempts: list[tuple[str, errors.Kind, str, str, object]] = [
        ("not-found", errors.Kind.NOT_FOUND, "GET", f"/jobs/{NO_SUCH_JOB}", None),
        ("bad-value", errors.Kind.BAD_VALUE, "PUT", f"/jobs/{job_id}", bad_value),
    ]
    seen: dict[str, errors.ApiError] = {}
    for probe, _kind, method, path, body in attempts:
        seen[probe] = _refusal(client, method, path, body)
    client.cancel_job(job_id, "hpcspec cluster check")
    rename = [{"Name": "Name", "Value": run.name("errors-renamed")}]
    seen["refused-by-state"] = _refusal(client, "PUT", f"/jobs/{job_id}", rename)
    kinds = {
        "not-found": errors.NotFound,
        "bad-value": errors.BadRequest,
        "refused-by-state": errors.RefusedByState,
    }
    statuses = {"not-found": "not_found_status", "bad-value": "bad_value_status"}
    statuses["refused-by-state"] = "refused_by_state_status"
    styles = set()
    for probe, error in seen.items():
        answered = error.status is not None
        if answered:
            result.facts[statuses[probe]] = error.status
            styles.add(error.body_shape)
        result.add(
            f"errors.{probe}",
            f"A {probe.replace('-', ' ')} refusal is read as such, with the server's message",
            isinstance(error, kinds[probe]) and bool(error.scheduler_message) if answered else None,
            f"{error.method} {error.path}: HTTP {error.status}, {error.body_shape or 'no'} body, "
            f"read as {type(error).__name__}: {error.scheduler_message!r}",
        )
    if len(styles) == 1 and (style := _STYLES.get(styles.pop())) is not None:
        result.facts["error_style"] = style
    return result


def _refusal(client: HpcPackClient, method: str, path: str, body: object) -> errors.ApiError:
    """The error a request is refused with (an ApiError saying so when it was accepted)."""
    try:
        client.transport.request(method, path, body=body, retry=False)
    except errors.ApiError as error:
        return error
    return errors.ApiError(f"{method} {path} was accepted", method=method, path=path)


def paging(run: CheckRun) -> ProbeResult:
    """GET /jobs with rowsPerRead=1 (a continuation follows) and a large page (how many come)."""
    result = ProbeResult()
    transport = run.client.transport
    small = transport.request("GET", "/jobs", params={"properties": "Id", "rowsPerRead": "1"})
    rows = codec.decode_objects(small.body)
    token = small.header(CONTINUATION_HEADER)
    result.add(
        "paging.small-pages",
        "rowsPerRead=1 gives one row and an x-ms-continuation-queryId while more remain",
        len(rows) == 1 and token is not None,
        f"GET /jobs?rowsPerRead=1: {len(rows)} row(s), "
        f"continuation {'present' if token else 'absent'}",
    )
    big = 1000
    asked = ("Id", *IDENTITY_COLUMNS)
    params = {"properties": ",".join(asked), "rowsPerRead": str(big)}
    large = transport.request("GET", "/jobs", params=params)
    listed = codec.decode_objects(large.body)
    count = len(listed)
    more = large.header(CONTINUATION_HEADER) is not None
    capped = more and count < big
    result.facts["max_rows_per_read"] = count if capped else 0
    result.add(
        "paging.large-pages",
        f"A page of rowsPerRead={big} is honoured",
        not capped,
        f"GET /jobs?rowsPerRead={big}: {count} row(s), {'more remain' if more else 'no more rows'}",
    )
    _identity_columns(run, result, listed, asked)
    _each_row_once(run, result, [row.text("Id") for row in listed[:WALKED_PAGES]])
    return result


def _identity_columns(
    run: CheckRun, result: ProbeResult, listed: list[codec.PropertyMap], asked: tuple[str, ...]
) -> None:
    """Whether every listed row carries the identity columns; where rows leave some out,
    whether the cluster leaves out only EMPTY values (then adapted to: the profile's
    `listing_omits_empty`, and the client reads a left-out Name or ClientSource as empty)."""
    lacking = [row for row in listed if not all(name in row for name in asked)]
    evidence = f"GET /jobs?properties={','.join(asked)}: {len(listed)} row(s), "
    if not lacking:
        if any(not row.text(name) for row in listed for name in MAY_BE_EMPTY):
            result.facts["listing_omits_empty"] = False  # an empty value was sent as ""
        result.add("paging.identity-columns", _COLUMNS_ASSUMPTION, True, evidence + "all")
        return
    ids = ", ".join(row.text("Id") for row in lacking[:5])
    evidence += f"{len(lacking)} without one (jobs {ids})"
    left_out = sorted({name for row in lacking for name in asked if name not in row})
    why_not = _not_only_empty_values(run, lacking, left_out)
    if why_not is None:
        result.facts["listing_omits_empty"] = True
        evidence += (
            f"; {', '.join(left_out)} is left out only where the job's value is empty (read by "
            "id; a job holding one is listed with it): the profile records that the cluster "
            "leaves empty values out, and hpcspec reads a left-out one as empty"
        )
    else:
        result.facts["listing_omits_empty"] = False
        evidence += f"; {why_not}: every command that lists jobs refuses such a row"
    result.add("paging.identity-columns", _COLUMNS_ASSUMPTION, False, evidence)


_COLUMNS_ASSUMPTION = (
    f"Every row of a job listing carries each property asked for "
    f'({", ".join(("Id", *IDENTITY_COLUMNS))}), an empty one as ""'
)


def _not_only_empty_values(
    run: CheckRun, lacking: list[codec.PropertyMap], left_out: list[str]
) -> str | None:
    """None when the rows leave out only empty values: each column left out may be empty
    (never `State`), a few of the rows' jobs read by id hold it empty, and a throwaway job
    that holds a value for each is listed with them. Else why not."""
    if always := [name for name in left_out if name not in MAY_BE_EMPTY]:
        return f"{', '.join(always)} is left out, which a job always has"
    for row in lacking[:READ_BACK_ROWS]:
        missing = [name for name in left_out if name not in row]
        held = run.client.job_properties(int(row.text("Id")), missing)
        if shown := [f"{name} {held.text(name)!r}" for name in missing if held.text(name)]:
            return f"job {row.text('Id')} holds {', '.join(shown)}, which its row leaves out"
    name = run.name("identity-columns")
    job_id = run.made(run.client.create_job({"Name": name, "ClientSource": name}))
    held = run.client.job_properties(job_id, MAY_BE_EMPTY)
    shown_as = (r for r in _configuring(run.client, left_out) if r.text("Id") == str(job_id))
    listed = next(shown_as, None)
    if listed is None:
        return f"job {job_id}, made to compare, was not in the listing of Configuring jobs"
    for column in left_out:
        if not held.text(column):
            return f"job {job_id}, made to compare, holds no {column} (nothing to compare)"
        if column not in listed:
            return f"job {job_id} holds {column} {held.text(column)!r}, which its row leaves out"
    return None


def _configuring(client: HpcPackClient, columns: list[str]) -> list[codec.PropertyMap]:
    return list(client.iter_jobs(properties=["Id", *columns], state="Configuring"))


def _each_row_once(run: CheckRun, result: ProbeResult, first: list[str]) -> None:
    """The first jobs followed one row a page, held to what the client holds every listing
    to (`listing.PassCheck`), against the same jobs in one page (`first`; a cluster whose
    pages are smaller is compared on the rows both show)."""
    params = {"properties": "Id", "rowsPerRead": "1"}
    rows = iter_rows(run.client.transport, "/jobs", params, key="Id", ordered=True, max_restarts=0)
    walked: list[str] | None = None
    try:
        walked = [row.text("Id") for row in islice(rows, WALKED_PAGES)]
        seen = f"ids {', '.join(walked)}; in one page {', '.join(first)}"
    except errors.BadResponse as anomaly:
        seen = anomaly.message
    except errors.ApiError as refused:  # a continuation refused or failed: a finding too
        seen = f"a continuation page failed: {refused.message}"
    result.add(
        "paging.each-row-once",
        f"Followed one row a page, x-ms-continuation-queryId shows the first {WALKED_PAGES} "
        "jobs each once, in Id order, as one page does",
        walked is not None and walked[: len(first)] == first[: len(walked)],
        f"GET /jobs?rowsPerRead=1, {WALKED_PAGES} pages: {seen}",
    )


LAG_SAMPLES = 3  # throwaway jobs whose listing is timed; the profile keeps the longest lag
LAG_GIVE_UP = 60.0  # seconds: a job still unlisted then leaves the lag unmeasured
_LAG_ASSUMPTION = "A new job is in the job listing as soon as its create has answered"


def listing_lag(run: CheckRun) -> ProbeResult:
    """How long after its create answered `GET /jobs` lists a new job (the references do not
    say): a few throwaway jobs (never submitted), each listed until the listing shows it.

    A listing served by a read replica a moment behind shows new jobs late; apply's race
    check, its lookup of a create whose answer was lost and the stack lock then wait for a
    listing that shows their own job, up to a bound made of this lag (docs/apply.md). The
    listing asks for Configuring jobs only (the probe's job is one), so a cluster with a long
    history still costs one page per listing. The lag recorded is the time from the create's
    answer to the start of the first listing that showed the job (0: the first one did).
    """
    result = ProbeResult()
    waits: list[int] = []  # listings that missed each job before one showed it
    lags: list[float] = []
    for sample in range(1, LAG_SAMPLES + 1):
        job_id = run.made(run.client.create_job({"Name": run.name(f"listing-lag-{sample}")}))
        answered = time.monotonic()
        missed, pause = 0, 0.01
        while True:
            asked = time.monotonic()
            if _listed(run.client, job_id):
                break
            missed += 1
            if asked - answered > LAG_GIVE_UP:
                result.add(
                    "listing-lag",
                    _LAG_ASSUMPTION,
                    None,
                    f"job {job_id} was still missing from the listing after {missed} listings "
                    f"over {LAG_GIVE_UP:g} s",
                )
                return result
            time.sleep(pause)
            pause = min(1.0, pause * 1.5)
        waits.append(missed)
        lags.append(0.0 if missed == 0 else asked - answered)
    result.facts["listing_lag_ms"] = math.ceil(max(lags) * 1000)
    if any(waits):
        missed_by = ", ".join(str(n) for n in waits)
        evidence = (
            f"{LAG_SAMPLES} new jobs were missing from {missed_by} listing(s) after their "
            "creates answered, before a listing showed them; the profile records the "
            "longest lag (listing.lag_ms), and apply waits for it"
        )
    else:
        evidence = f"each of {LAG_SAMPLES} new jobs was in the first listing after its create"
    evidence += " (GET /jobs, Configuring jobs)"
    result.add("listing-lag", _LAG_ASSUMPTION, not any(waits), evidence)
    return result


def _listed(client: HpcPackClient, job_id: int) -> bool:
    rows = client.iter_jobs(properties=["Id"], state="Configuring")
    return any(row.text("Id") == str(job_id) for row in rows)
