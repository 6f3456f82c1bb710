"""The HPC Pack REST API 2016 client: one method per endpoint (all 37 of the reference).

Build one with `HpcPackClient(Transport(TransportOptions(url, Credentials(user, password))))`
(the CLI does it in `hpcspec.cli.context.open_client`). Everything goes through the
transport (`transport.py`: TLS, auth, timeouts, retries, OutcomeUnknown for ambiguous POSTs);
failures are the typed errors of `errors.py`.

Values: property objects come back as `PropertyMap` (a read-only, case-insensitive
`Mapping[str, str]` of the server's strings; `codec.canonical(row, catalogue, time_format)`
gives canonical values, `client.parse_time(text)` an aware UTC datetime). Writes take a
mapping of canonical values (int, bool, str, datetime), encoded through the property
catalogue (`Priority` travels as `ExpandedPriority`); plain strings pass as they are.
Listings are lazy iterators that page with `x-ms-continuation-queryId` (`listing.py`).

Public API (`cluster`: `client_cluster.py`, tasks: `client_tasks.py`, jobs: here)::

    version() -> str                         GET  /cluster/version
    active_head_node() -> str                GET  /cluster/activeHeadNode
    date_time_format() -> str                GET  /cluster/info/dateTimeFormat
    iter_nodes(properties, state, sort_by, rows_per_read)      GET /nodes
    node(name) -> PropertyMap                GET  /nodes/{name}
    node_groups() -> list[NodeGroup]         GET  /nodes/groups
    node_group_members(name) -> list[str]    GET  /nodes/groups/{name}
    job_templates() -> list[str]             GET  /jobs/templates
    iter_jobs(properties, owner, state, node_group, changed_since, sort_by, rows_per_read)
    create_job(properties) -> int            POST /jobs
    create_job_xml(xml) -> int               POST /jobs/jobFile
    job_properties(job_id, properties=) / set_job(job_id, properties)      GET|PUT /jobs/{id}
    job_custom_properties(job_id, names=) / set_job_custom_properties(job_id, values)
    job_env(job_id, names=) / set_job_env(job_id, values)
    submit_job(job_id, properties=None, username=, password=)
    cancel_job(job_id, message, forced=) / finish_job(job_id, message) / requeue_job(job_id)
    iter_tasks(job_id, properties, expand_parametric, state, states, task_ids, instance_ids,
               changed_since, sort_by, rows_per_read)
    add_task(job_id, properties) -> int      (the JobTaskId)
    task_properties / set_task / task_custom_properties / set_task_custom_properties /
    task_env / set_task_env / cancel_task(forced=) / finish_task / requeue_task
    subtask_properties / set_subtask / cancel_subtask(forced=) / finish_subtask /
    requeue_subtask                          (…/tasks/{taskId}/subtasks/{instanceId})
    parse_time(text) -> datetime | None      (the cluster's dateTimeFormat, read once)

The method names and signatures satisfy the engine's `JobReader` and `ClusterWriter`
protocols (`hpcspec.engine.discovery`, `hpcspec.engine.cluster`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from hpcspec.hpcpack import codec
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES
from hpcspec.hpcpack.client_cluster import ClusterOperations
from hpcspec.hpcpack.client_tasks import TaskOperations
from hpcspec.hpcpack.codec import PropertyMap, WireValue
from hpcspec.hpcpack.listing import filter_expression, iter_rows, with_key

DEFAULT_JOB_PROPERTIES = ("Id", "Owner", "Name", "State", "Priority")  # the API's own default


class HpcPackClient(ClusterOperations, TaskOperations):
    """Every endpoint of HPC Pack REST API 2016 (see the module docstring)."""

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
        return iter_rows(self.transport, "/jobs", params, key="Id")

    def create_job(self, properties: Mapping[str, WireValue]) -> int:
        """POST /jobs: a new Configuring job; its id. A timeout raises OutcomeUnknown."""
        body = codec.encode(properties, JOB_PROPERTIES, self._time_format_if_needed(properties))
        return self._call("POST", "/jobs", codec.decode_int, body=body)

    def create_job_xml(self, xml: str) -> int:
        """POST /jobs/jobFile: a new job from job XML (sent as a JSON string); its id."""
        return self._call("POST", "/jobs/jobFile", codec.decode_int, body=xml)

    def job_properties(self, job_id: int, properties: Sequence[str] | None = None) -> PropertyMap:
        """GET /jobs/{jobId}: all (or the named) properties of a job."""
        return self._properties(f"/jobs/{int(job_id)}", properties=tuple(properties or ()))

    def set_job(self, job_id: int, properties: Mapping[str, WireValue]) -> None:
        """PUT /jobs/{jobId}: set job properties (what may change depends on the state)."""
        self._send_properties("PUT", f"/jobs/{int(job_id)}", properties, JOB_PROPERTIES)

    def job_custom_properties(self, job_id: int, names: Sequence[str] | None = None) -> PropertyMap:
        """GET /jobs/{jobId}/customProperties."""
        return self._named(f"/jobs/{int(job_id)}/customProperties", tuple(names or ()))

    def set_job_custom_properties(self, job_id: int, values: Mapping[str, str]) -> None:
        """POST /jobs/{jobId}/customProperties."""
        self._send_properties("POST", f"/jobs/{int(job_id)}/customProperties", values, None)

    def job_env(self, job_id: int, names: Sequence[str] | None = None) -> PropertyMap:
        """GET /jobs/{jobId}/envVariables."""
        return self._named(f"/jobs/{int(job_id)}/envVariables", tuple(names or ()))

    def set_job_env(self, job_id: int, values: Mapping[str, str]) -> None:
        """POST /jobs/{jobId}/envVariables."""
        self._send_properties("POST", f"/jobs/{int(job_id)}/envVariables", values, None)

    def submit_job(
        self,
        job_id: int,
        properties: Mapping[str, str] | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        """POST /jobs/{jobId}/submit, with the run-as UserName/Password when given (the
        password is write-only on the server and redacted from every error here)."""
        values = dict(properties or {})
        if username is not None:
            values["UserName"] = username
        if password is not None:
            values["Password"] = password
        self._send_properties("POST", f"/jobs/{int(job_id)}/submit", values, None)

    def cancel_job(self, job_id: int, message: str = "", *, forced: bool = False) -> None:
        """POST /jobs/{jobId}/cancel?forced=…, with an optional message."""
        self._action(f"/jobs/{int(job_id)}/cancel", message=message, forced=forced)

    def finish_job(self, job_id: int, message: str = "") -> None:
        """POST /jobs/{jobId}/finish: like cancel, but the job ends Finished."""
        self._action(f"/jobs/{int(job_id)}/finish", message=message)

    def requeue_job(self, job_id: int) -> None:
        """POST /jobs/{jobId}/requeue: queue a Failed or Canceled job again."""
        self._action(f"/jobs/{int(job_id)}/requeue")
