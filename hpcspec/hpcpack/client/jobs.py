"""The job part of the REST client (`/jobs…`): one method per endpoint, typed in and out.

Reads hand out hpcpack's own types (`list_jobs` → `LiveJob`s, `job_state` → `JobState`,
`read_details` → a `LiveJob` with its `JobDefinition` and tasks); writes take a
`JobDefinition` (`create_job_xml`, `create_job`) or canonical values keyed by catalogue names
(`set_job`), so no caller builds a wire body. The endpoint-level forms (`iter_jobs`,
`job_properties` → `PropertyMap`) stay for tests and tools that want the server's own view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime

from hpcspec.hpcpack import codec, errors, jobxml, readback
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES
from hpcspec.hpcpack.client.client_source import ClientSourceLearning, MarkerWrite
from hpcspec.hpcpack.client.tasks import TaskOperations
from hpcspec.hpcpack.codec import PropertyMap, TimeParser, WireValue
from hpcspec.hpcpack.definition import EnvValue, JobDefinition, RunAs, TaskDefinition
from hpcspec.hpcpack.jobxml import SecretResolver
from hpcspec.hpcpack.listing import filter_expression, iter_rows, with_key
from hpcspec.hpcpack.live import JobColumns, LiveJob
from hpcspec.hpcpack.readback import TASK_DETAIL_COLUMNS
from hpcspec.hpcpack.states import JobState

DEFAULT_JOB_PROPERTIES = ("Id", "Owner", "Name", "State", "Priority")  # the API's own default
TASK_READERS = 8  # a whole job's tasks whose env and custom properties are read at once


# The columns that tell whose a listed job is and whether it is alive: a row without one
# cannot be judged, and skipping it would hide a job (`_identified`).
IDENTITY_COLUMNS = ("Name", "State", "ClientSource")
_IDENTITY_LOWERED = frozenset(name.lower() for name in IDENTITY_COLUMNS)
# Of those, the ones a job may hold empty: a server that leaves empty values out of its rows
# (`ClusterProfile.listing_omits_empty`, measured by `hpcspec cluster check`) omits them.
MAY_BE_EMPTY = ("Name", "ClientSource")
OMITS_EMPTY = "listing_omits_empty"  # the profile's fact


def _identified(row: PropertyMap, omits_empty: bool) -> PropertyMap:
    """A listing row that lacks an identity column, as the server meant it: on a cluster
    measured to leave empty values out, a left-out Name or ClientSource is empty; anything
    else is refused (naming the row's Id), since a job whose identity is unknown may be one
    of the stack's."""
    lacking = [name for name in IDENTITY_COLUMNS if name not in row]
    if omits_empty and all(name in MAY_BE_EMPTY for name in lacking):
        return PropertyMap({**row, **dict.fromkeys(lacking, "")})
    raise _refusal(row, lacking)


def _refusal(row: PropertyMap, lacking: list[str]) -> errors.BadResponse:
    return errors.BadResponse(
        f"GET /jobs: the row of job {row.text('Id')} has no {', '.join(lacking)}, which the "
        "listing asked for; a job whose identity is unknown is not concluded from",
        method="GET",
        path="/jobs",
        hint="run `hpcspec cluster check`: it measures whether the cluster leaves empty "
        "properties out of its answers (then saved in the profile, and read as empty); if it "
        "does not, report its trace (docs/cluster-check.md, Listings)",
    )


def _in_other_case(text: str, prefix: str) -> bool:
    """Whether `text` starts with `prefix` (not empty) only when case is ignored."""
    return bool(prefix) and text[: len(prefix)].lower() == prefix.lower()


def _case_changed(row: PropertyMap) -> errors.BadResponse:
    """The error for a row that shows what hpcspec wrote in another case than its job has."""
    return errors.BadResponse(
        f"GET /jobs: job {row.text('Id')} is listed with Name {row.text('Name')!r} and "
        f"ClientSource {row.text('ClientSource')!r}, hpcspec's identity in another case than "
        "the job holds, so the listing cannot be matched to the jobs hpcspec made",
        method="GET",
        path="/jobs",
        hint="run `hpcspec cluster check` and report its trace (docs/cluster-check.md, Listings)",
    )


class ListedJobs:
    """The jobs of one listing as it is read; `rows` counts every row read so far. A row
    whose Name or ClientSource starts with a prefix only when case is ignored is read by id
    (`read`): another user's job may hold such a value and is skipped, but a job that holds
    the prefix as written shows the listing changed it — an error, not an invisible job."""

    def __init__(
        self,
        rows: Iterator[PropertyMap],
        parse_time: TimeParser,
        client_source_prefix: str,
        properties: Sequence[str] = (),
        name_prefix: str = "",
        read: Callable[[int], PropertyMap] | None = None,
        *,
        omits_empty: bool = False,
    ) -> None:
        self._rows, self._parse_time = rows, parse_time
        self._prefix, self._name_prefix = client_source_prefix, name_prefix
        self._properties, self._read = properties, read
        self._omits_empty = omits_empty
        self.rows = 0

    def __iter__(self) -> Iterator[LiveJob]:
        for row in self._rows:
            self.rows += 1
            if not row.has_all(_IDENTITY_LOWERED):
                row = _identified(row, self._omits_empty)
            if self._ours(row.text("ClientSource"), row.text("Name")):
                yield readback.live_job(row, self._parse_time, self._properties)
            elif self._read is not None and self._folded(row):
                held = self._read(int(row.text("Id")))
                if self._ours(held.text("ClientSource"), held.text("Name")):
                    raise _case_changed(row)

    def _ours(self, source: str, name: str) -> bool:
        return source.startswith(self._prefix) or bool(
            self._name_prefix and name.startswith(self._name_prefix)
        )

    def _folded(self, row: PropertyMap) -> bool:
        """Whether the row starts with a prefix only when case is ignored."""
        return _in_other_case(row.text("ClientSource"), self._prefix) or _in_other_case(
            row.text("Name"), self._name_prefix
        )


class JobOperations(TaskOperations, ClientSourceLearning):
    """Jobs: listings, properties, custom properties, env, create, submit, cancel, requeue
    (on top of their tasks: `read_details` reads both)."""

    def iter_jobs(
        self,
        *,
        properties: Sequence[str] | None = None,
        owner: str | None = None,
        state: str | None = None,
        node_group: str | None = None,
        changed_since: datetime | None = None,
        sort_by: str | None = None,
        rows_per_read: int = 1000,
    ) -> Iterator[PropertyMap]:
        """GET /jobs, paged lazily, filtered by JobState/NodeGroup/ChangeTimeFrom and owner."""
        terms = []
        if state:
            terms.append(("JobState", state))
        if node_group:
            terms.append(("NodeGroup", node_group))
        if changed_since is not None:
            terms.append(("ChangeTimeFrom", self.time_format.format(changed_since)))
        params = {
            "properties": with_key(properties or DEFAULT_JOB_PROPERTIES, "Id"),
            "$filter": filter_expression(terms),
            "owner": owner,
            "sortJobsBy": sort_by,
            "rowsPerRead": str(rows_per_read),
        }
        # Unsorted, the server lists by ascending Id (the REST API 2016's sortJobsBy): a
        # pass whose ids go back is an anomaly (`listing.PassCheck`).
        return iter_rows(
            self.transport, "/jobs", params, key="Id", ordered=sort_by is None, numeric=True
        )

    def list_jobs(
        self,
        *,
        columns: JobColumns = JobColumns.STATUS,
        owner: str | None = None,
        client_source_prefix: str = "",
        properties: Sequence[str] = (),
        name_prefix: str = "",
    ) -> ListedJobs:
        """GET /jobs as `LiveJob`s (listing depth: no definition, no custom properties), only
        those whose ClientSource starts with `client_source_prefix` or whose Name starts with
        `name_prefix` (the server cannot filter on either, so the rows of other jobs are
        skipped unparsed). `properties` (catalogue names) are read in the same listing into
        `LiveJob.listed` (the plan's drift check)."""
        extra = readback.listing_columns(properties)
        columns_asked = tuple(dict.fromkeys((*columns.value, *extra)))
        rows = self._watching(self.iter_jobs(properties=columns_asked, owner=owner))
        return ListedJobs(
            rows,
            self.parse_time,
            client_source_prefix,
            tuple(properties),
            name_prefix,
            lambda job_id: self.job_properties(job_id, ("Name", "ClientSource")),
            omits_empty=self.profile.knows(OMITS_EMPTY) and self.profile.listing_omits_empty,
        )

    def listed_job(self, job_id: int, columns: JobColumns = JobColumns.STATUS) -> LiveJob:
        """GET /jobs/{jobId} with a listing's columns: one job as a listing shows it (an
        adopted job, which no hpcspec marker finds)."""
        return readback.live_job(self.job_properties(job_id, columns.value), self.parse_time)

    def job_state(self, job_id: int) -> JobState:
        """GET /jobs/{jobId}?properties=State: the job's state now."""
        return JobState.parse(self.job_properties(job_id, ("State",)).text("State"))

    def read_details(self, job: LiveJob) -> LiveJob:
        """`job` with its definition (properties, env, custom properties, tasks without sweep
        expansion) and its tasks read back: three or four requests."""
        values = self.job_properties(job.id)
        env = self.job_env(job.id)
        rows = list(
            self.iter_tasks(job.id, properties=TASK_DETAIL_COLUMNS, expand_parametric=False)
        )
        custom = dict(job.custom_properties or self.job_custom_properties(job.id).items())
        definition = readback.job_definition(
            values,
            custom=custom,
            env=env,
            tasks=[readback.task_definition(r) for r in rows],
            parse_time=self.parse_time,
        )
        # Its parents too (already read): a changed `dependsOn` must be seen by the plan.
        parents = readback.job_ids(values.text("ParentJobIds"))
        return replace(
            job,
            custom_properties=tuple(sorted(custom.items())),
            definition=replace(definition, parent_job_ids=parents),
            tasks=tuple(readback.live_task(r) for r in rows),
        )

    def read_whole_job(self, job_id: int) -> LiveJob:
        """Everything a manifest can say about a job, for `import --job` and `drift`: its
        properties, custom properties, env, run-as user and parent jobs, and each task's (sweep
        masters, not instances) properties, env and custom properties. 4 requests, plus 2 per
        task (TASK_READERS at a time)."""
        values = self.job_properties(job_id)
        env = self.job_env(job_id)
        custom = self.job_custom_properties(job_id)
        rows = list(
            self.iter_tasks(job_id, properties=TASK_DETAIL_COLUMNS, expand_parametric=False)
        )

        def task(row: PropertyMap) -> TaskDefinition:
            number = int(row.text("JobTaskId"))
            return readback.task_definition(
                row,
                env=self.task_env(job_id, number),
                custom=self.task_custom_properties(job_id, number),
            )

        with ThreadPoolExecutor(max_workers=TASK_READERS) as pool:
            tasks = list(pool.map(task, rows))
        definition = readback.job_definition(
            values, custom=custom, env=env, tasks=tasks, parse_time=self.parse_time
        )
        definition = replace(
            definition,
            run_as=readback.run_as(values),
            parent_job_ids=readback.job_ids(values.text("ParentJobIds")),
        )
        job = readback.live_job(values, self.parse_time)
        return replace(job, custom_properties=tuple(sorted(custom.items())), definition=definition)

    def create_job(
        self, job: JobDefinition | Mapping[str, WireValue], *, client_source: str | None = None
    ) -> int:
        """POST /jobs: a new Configuring job; its id. A `JobDefinition` sends the properties a
        create takes (and its parents); tasks, env and custom properties go separately.
        A timeout raises OutcomeUnknown."""
        values = dict(codec.job_create_values(job) if isinstance(job, JobDefinition) else job)
        if client_source is not None:
            values["ClientSource"] = client_source
        body = codec.encode(values, JOB_PROPERTIES, self._time_format_if_needed(values))
        job_id = self._call("POST", "/jobs", codec.decode_int, body=body)
        if client_source is not None:
            self._wrote_client_source(MarkerWrite(job_id, client_source, created=True))
        return job_id

    def create_job_xml(
        self, job: JobDefinition | str, *, secret: SecretResolver | None = None
    ) -> int:
        """POST /jobs/jobFile: a new job from job XML (a `JobDefinition` is rendered, its
        secret env values resolved with `secret`); its id."""
        if isinstance(job, str):
            return self._call("POST", "/jobs/jobFile", codec.decode_int, body=job)
        resolve, seen = self._recording(secret) if secret is not None else (None, [])
        xml = jobxml.render(job, secrets=resolve).decode()
        return self._call("POST", "/jobs/jobFile", codec.decode_int, body=xml, secrets=tuple(seen))

    def job_properties(self, job_id: int, properties: Sequence[str] | None = None) -> PropertyMap:
        """GET /jobs/{jobId}: all (or the named) properties of a job."""
        return self._properties(f"/jobs/{int(job_id)}", properties=tuple(properties or ()))

    def set_job(self, job_id: int, properties: Mapping[str, WireValue]) -> None:
        """PUT /jobs/{jobId}: set job properties (what may change depends on the state)."""
        self._send_properties("PUT", f"/jobs/{int(job_id)}", properties, JOB_PROPERTIES)
        sent, name = properties.get("ClientSource"), properties.get("Name")
        if isinstance(sent, str):
            named = name if isinstance(name, str) else None
            self._wrote_client_source(MarkerWrite(job_id, sent, name=named))

    def job_custom_properties(self, job_id: int, names: Sequence[str] | None = None) -> PropertyMap:
        """GET /jobs/{jobId}/customProperties."""
        return self._named(f"/jobs/{int(job_id)}/customProperties", tuple(names or ()))

    def set_job_custom_properties(self, job_id: int, values: Mapping[str, str]) -> None:
        """POST /jobs/{jobId}/customProperties."""
        self._send_properties("POST", f"/jobs/{int(job_id)}/customProperties", values, None)

    def job_env(self, job_id: int, names: Sequence[str] | None = None) -> PropertyMap:
        """GET /jobs/{jobId}/envVariables."""
        return self._named(f"/jobs/{int(job_id)}/envVariables", tuple(names or ()))

    def set_job_env(
        self,
        job_id: int,
        values: Mapping[str, EnvValue],
        *,
        secret: SecretResolver | None = None,
    ) -> None:
        """POST /jobs/{jobId}/envVariables; `{secret: …}` values are resolved with `secret`."""
        plain = self._env_values(values, secret)
        self._send_properties("POST", f"/jobs/{int(job_id)}/envVariables", plain, None)

    def submit_job(
        self,
        job_id: int,
        properties: Mapping[str, str] | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        run_as: RunAs | None = None,
        secret: SecretResolver | None = None,
    ) -> None:
        """POST /jobs/{jobId}/submit, with the run-as UserName/Password when given (`run_as`
        with its password resolved by `secret`, or `username`/`password`). The password is
        write-only on the server and redacted from every error here."""
        values = dict(properties or {})
        if run_as is not None:
            username = run_as.user_name
            if run_as.password is not None:
                if secret is None:
                    raise ValueError("a run-as password needs a secret resolver")
                password = secret(run_as.password)
        if username is not None:
            values["UserName"] = username
        if password is not None:
            values["Password"] = password
        self._send_properties("POST", f"/jobs/{int(job_id)}/submit", values, None)
        self._submitted(job_id)

    def cancel_job(self, job_id: int, message: str = "", *, forced: bool = False) -> None:
        """POST /jobs/{jobId}/cancel?forced=…, with an optional message."""
        self._action(f"/jobs/{int(job_id)}/cancel", message=message, forced=forced)

    def finish_job(self, job_id: int, message: str = "") -> None:
        """POST /jobs/{jobId}/finish: like cancel, but the job ends Finished."""
        self._action(f"/jobs/{int(job_id)}/finish", message=message)

    def requeue_job(self, job_id: int) -> None:
        """POST /jobs/{jobId}/requeue: queue a Failed or Canceled job again."""
        self._action(f"/jobs/{int(job_id)}/requeue")
