"""The HPC Pack REST API 2016 client: one method per endpoint (all 37 of the reference).

Build one with `HpcPackClient(Transport(TransportOptions(url, Credentials(user, password))))`
(the CLI does it in `hpcspec.cli.context.open_client`). Everything goes through the
transport (`transport.py`: TLS, auth, timeouts, retries, OutcomeUnknown for ambiguous POSTs);
failures are the typed errors of `errors.py`, and no error text ever carries a secret the
client was handed (`base.py`).

The client owns the wire: it takes and returns hpcpack's own types. Reads give `LiveJob`s,
`LiveTask`s, `JobState`s and `JobDefinition`s (`readback.py`); writes take `JobDefinition`s,
`TaskDefinition`s, env values with `{secret: …}` references (resolved here, with the resolver
the caller passes), and canonical values keyed by catalogue names, encoded by the one codec
(`codec.py`: `Priority` travels as `ExpandedPriority`). The endpoint-level readers return
`PropertyMap`s (a read-only, case-insensitive `Mapping[str, str]` of the server's strings) for
tests and tools. Listings are lazy iterators that page with `x-ms-continuation-queryId`.

Public API (`jobs.py`, `tasks.py`, `cluster.py`)::

    version() / active_head_node() / date_time_format()         GET /cluster/…
    iter_nodes(properties, state, sort_by, rows_per_read)         GET /nodes
    node(name) / node_groups() / node_group_members(name)        GET /nodes/…
    job_templates() -> list[str]                                  GET /jobs/templates
    list_jobs(columns, owner) -> Iterator[LiveJob]                GET /jobs
    iter_jobs(properties, owner, state, node_group, changed_since, sort_by, rows_per_read)
    job_state(job_id) -> JobState / read_details(job) -> LiveJob   GET /jobs/{id}…
    read_whole_job(job_id) -> LiveJob       (with task env and custom properties: import)
    create_job(JobDefinition | values, client_source=) -> int     POST /jobs
    create_job_xml(JobDefinition | xml, secret=) -> int           POST /jobs/jobFile
    job_properties(job_id, properties=) / set_job(job_id, values)      GET|PUT /jobs/{id}
    job_custom_properties(job_id, names=) / set_job_custom_properties(job_id, values)
    job_env(job_id, names=) / set_job_env(job_id, values, secret=)
    submit_job(job_id, properties=None, username=, password=, run_as=, secret=)
    cancel_job(job_id, message, forced=) / finish_job(job_id, message) / requeue_job(job_id)
    list_tasks(job_id, expand_sweeps) -> list[LiveTask] / task_ids(job_id) -> {name: id}
    task_logs(job_id, failed_only) -> list[LiveTask]   (with Output and stream file paths)
    iter_tasks(job_id, properties, expand_parametric, state, states, task_ids, instance_ids,
               changed_since, sort_by, rows_per_read)
    add_task(job_id, TaskDefinition | values) -> int      (the JobTaskId)
    task_properties / set_task / task_custom_properties / set_task_custom_properties /
    task_env / set_task_env(secret=) / cancel_task(forced=) / finish_task / requeue_task
    subtask_properties / set_subtask / cancel_subtask(forced=) / finish_subtask /
    requeue_subtask                          (…/tasks/{taskId}/subtasks/{instanceId})
    parse_time(text) -> datetime | None      (the cluster's dateTimeFormat, read once)

It satisfies the engine's `ClusterReader` and `ClusterWriter` protocols
(`hpcspec.engine.protocols`).
"""

from hpcspec.hpcpack.client.cluster import (
    ClusterInfo,
    ClusterOperations,
    NodeGroup,
    read_cluster_info,
)
from hpcspec.hpcpack.client.jobs import JobOperations
from hpcspec.hpcpack.live import JobColumns


class HpcPackClient(JobOperations, ClusterOperations):
    """Every endpoint of HPC Pack REST API 2016 (see the module docstring)."""


__all__ = ["ClusterInfo", "HpcPackClient", "JobColumns", "NodeGroup", "read_cluster_info"]
