"""Every endpoint of `reference/hpcpack-rest-api-2016.md` has a client method and a test.

Each `Endpoint` below is one request/answer pair checked exactly: the method, the path, the
query, the JSON body the client sends, and what the call returns. `test_every_reference_
endpoint_is_covered` reads the reference document and fails if an operation is missing here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses

from hpcspec.hpcpack.client import HpcPackClient, NodeGroup
from tests.hpcpack.client.conftest import BASE, props, rows, sent

ANY_ID = r"[^/?]+"


@dataclass(frozen=True)
class Endpoint:
    """One reference operation: how the client calls it and what must go over the wire."""

    method: str
    template: str  # as the reference writes it
    method_name: str  # the client method
    call: Callable[[HpcPackClient], object]
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    body: object = None
    reply: object = None
    status: int = 200
    result: object = None


JOB = {"Id": "14", "Owner": "HPC\\alice", "Name": "mesh", "State": "Running", "Priority": "Normal"}
TASK = {"TaskId": "22.1.3", "Name": "sweep", "State": "Finished", "JobTaskId": "1"}

ENDPOINTS = [
    Endpoint("GET", "/cluster/version", "version", lambda c: c.version(),
             "/cluster/version", reply="5.3.6450.0", result="5.3.6450.0"),
    Endpoint("GET", "/cluster/activeHeadNode", "active_head_node",
             lambda c: c.active_head_node(), "/cluster/activeHeadNode",
             reply="HEADNODE", result="HEADNODE"),
    Endpoint("GET", "/cluster/info/dateTimeFormat", "date_time_format",
             lambda c: c.date_time_format(), "/cluster/info/dateTimeFormat",
             reply="M/d/yyyy h:mm:ss tt", result="M/d/yyyy h:mm:ss tt"),
    Endpoint("GET", "/nodes", "iter_nodes",
             lambda c: list(c.iter_nodes(properties=["Name", "State"], state="Online",
                                         sort_by="Name", rows_per_read=50)),
             "/nodes",
             query={"properties": ["Name,State"], "$filter": ["NodeState eq Online"],
                    "sortNodesBy": ["Name"], "rowsPerRead": ["50"]},
             reply=rows({"Name": "CN01", "State": "Online"}),
             result=[{"Name": "CN01", "State": "Online"}]),
    Endpoint("GET", "/nodes/{name}", "node", lambda c: c.node("CN01"), "/nodes/CN01",
             reply=props(Name="CN01", State="Online", OnlineTime="7/5/2019 9:05:07 AM"),
             result={"name": "CN01", "state": "Online", "OnlineTime": "7/5/2019 9:05:07 AM"}),
    Endpoint("GET", "/nodes/groups", "node_groups", lambda c: c.node_groups(), "/nodes/groups",
             reply=rows({"Name": "ComputeNodes", "Description": "compute"}, {"Name": "Gpu"}),
             result=[NodeGroup("ComputeNodes", "compute"), NodeGroup("Gpu", "")]),
    Endpoint("GET", "/nodes/groups/{name}", "node_group_members",
             lambda c: c.node_group_members("ComputeNodes"), "/nodes/groups/ComputeNodes",
             reply=["CN01", "CN02"], result=["CN01", "CN02"]),
    Endpoint("GET", "/jobs", "iter_jobs",
             lambda c: list(c.iter_jobs(
                 properties=["Id", "State"], owner="HPC\\alice", state="Running",
                 node_group="ComputeNodes", changed_since=datetime(2026, 11, 28, 14, 5, tzinfo=UTC),
                 sort_by="ChangeTime", rows_per_read=500)),
             "/jobs",
             query={"properties": ["Id,State"], "owner": ["HPC\\alice"],
                    "$filter": ["JobState eq Running and NodeGroup eq ComputeNodes and "
                                "ChangeTimeFrom eq 11/28/2026 2:05:00 PM"],
                    "sortJobsBy": ["ChangeTime"], "rowsPerRead": ["500"]},
             reply=rows({"Id": "14", "State": "Running"}),
             result=[{"Id": "14", "State": "Running"}]),
    Endpoint("POST", "/jobs", "create_job",
             lambda c: c.create_job({"name": "mesh", "Priority": "AboveNormal+5",
                                     "IsExclusive": True, "MinCores": 4}),
             "/jobs",
             body=props(Name="mesh", ExpandedPriority="3005", IsExclusive="true", MinCores="4"),
             reply=19, result=19),
    Endpoint("POST", "/jobs/jobFile", "create_job_xml",
             lambda c: c.create_job_xml('<Job Name="x"/>'), "/jobs/jobFile",
             body='<Job Name="x"/>', reply=20, result=20),
    Endpoint("GET", "/jobs/{jobId}", "job_properties",
             lambda c: c.job_properties(14, ["Id", "Name"]), "/jobs/14",
             query={"properties": ["Id,Name"]}, reply=props(Id="14", Name="mesh"),
             result={"Id": "14", "Name": "mesh"}),
    Endpoint("PUT", "/jobs/{jobId}", "set_job",
             lambda c: c.set_job(14, {"ClientSource": "hpcspec:ab:cd", "RuntimeSeconds": 7200}),
             "/jobs/14", body=props(ClientSource="hpcspec:ab:cd", RuntimeSeconds="7200"),
             status=204),
    Endpoint("GET", "/jobs/{jobId}/customProperties", "job_custom_properties",
             lambda c: c.job_custom_properties(14, ["hpcspec.key"]), "/jobs/14/customProperties",
             query={"names": ["hpcspec.key"]}, reply=props(**{"hpcspec.key": "mesh"}),
             result={"hpcspec.key": "mesh"}),
    Endpoint("POST", "/jobs/{jobId}/customProperties", "set_job_custom_properties",
             lambda c: c.set_job_custom_properties(14, {"team": "aero"}),
             "/jobs/14/customProperties", body=props(team="aero"), status=204),
    Endpoint("GET", "/jobs/{jobId}/envVariables", "job_env", lambda c: c.job_env(14),
             "/jobs/14/envVariables", reply=props(OMP_NUM_THREADS="4"),
             result={"omp_num_threads": "4"}),
    Endpoint("POST", "/jobs/{jobId}/envVariables", "set_job_env",
             lambda c: c.set_job_env(14, {"OMP_NUM_THREADS": "4"}), "/jobs/14/envVariables",
             body=props(OMP_NUM_THREADS="4"), status=204),
    Endpoint("POST", "/jobs/{jobId}/submit", "submit_job",
             lambda c: c.submit_job(14, username="HPC\\svc", password="run-as-secret"),
             "/jobs/14/submit", body=props(UserName="HPC\\svc", Password="run-as-secret"),
             status=204),
    Endpoint("POST", "/jobs/{jobId}/cancel", "cancel_job",
             lambda c: c.cancel_job(14, "superseded", forced=True), "/jobs/14/cancel",
             query={"forced": ["true"]}, body="superseded", status=204),
    Endpoint("POST", "/jobs/{jobId}/finish", "finish_job",
             lambda c: c.finish_job(14, "done early"), "/jobs/14/finish", body="done early",
             status=204),
    Endpoint("POST", "/jobs/{jobId}/requeue", "requeue_job", lambda c: c.requeue_job(14),
             "/jobs/14/requeue", status=204),
    Endpoint("GET", "/jobs/{jobId}/tasks", "iter_tasks",
             lambda c: list(c.iter_tasks(
                 22, properties=["TaskId", "State"], expand_parametric=False, state="Failed",
                 states=["Failed", "Canceled"], task_ids=[1, 2], instance_ids=[3],
                 changed_since=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), sort_by="State",
                 rows_per_read=7)),
             "/jobs/22/tasks",
             query={"properties": ["TaskId,State"], "expandParametric": ["false"],
                    "$filter": ["TaskState eq Failed and TaskStates eq Failed,Canceled and "
                                "TaskIds eq 1,2 and TaskInstanceIds eq 3 and "
                                "ChangeTimeFrom eq 1/2/2026 3:04:05 AM"],
                    "sortTasksBy": ["State"], "rowsPerRead": ["7"]},
             reply=rows(TASK), result=[TASK]),
    Endpoint("POST", "/jobs/{jobId}/tasks", "add_task",
             lambda c: c.add_task(22, {"Name": "prep", "CommandLine": "prep.exe",
                                       "IsRerunnable": False, "RuntimeSeconds": 90}),
             "/jobs/22/tasks",
             body=props(Name="prep", CommandLine="prep.exe", IsRerunnable="false",
                        RuntimeSeconds="90"),
             reply=3, result=3),
    Endpoint("GET", "/jobs/{jobId}/tasks/{taskId}", "task_properties",
             lambda c: c.task_properties(37, 3), "/jobs/37/tasks/3",
             reply=props(TaskId="37.3", JobTaskId="3", State="Finished"),
             result={"TaskId": "37.3", "JobTaskId": "3", "State": "Finished"}),
    Endpoint("PUT", "/jobs/{jobId}/tasks/{taskId}", "set_task",
             lambda c: c.set_task(37, 3, {"stdoutfilepath": "out.log"}), "/jobs/37/tasks/3",
             body=props(StdOutFilePath="out.log"), status=204),
    Endpoint("GET", "/jobs/{jobId}/tasks/{taskId}/customProperties", "task_custom_properties",
             lambda c: c.task_custom_properties(37, 3, names=["c1", "c2"]),
             "/jobs/37/tasks/3/customProperties", query={"names": ["c1,c2"]},
             reply=props(c1="v1", c2="v2"), result={"c1": "v1", "c2": "v2"}),
    Endpoint("POST", "/jobs/{jobId}/tasks/{taskId}/customProperties",
             "set_task_custom_properties",
             lambda c: c.set_task_custom_properties(37, 3, {"c1": "v1"}),
             "/jobs/37/tasks/3/customProperties", body=props(c1="v1"), status=204),
    Endpoint("GET", "/jobs/{jobId}/tasks/{taskId}/envVariables", "task_env",
             lambda c: c.task_env(37, 3, names=["MISSING"]), "/jobs/37/tasks/3/envVariables",
             query={"names": ["MISSING"]}, reply=props(MISSING=""), result={"MISSING": ""}),
    Endpoint("POST", "/jobs/{jobId}/tasks/{taskId}/envVariables", "set_task_env",
             lambda c: c.set_task_env(37, 3, {"A": "1", "B": ""}),
             "/jobs/37/tasks/3/envVariables", body=props(A="1", B=""), status=204),
    Endpoint("POST", "/jobs/{jobId}/tasks/{taskId}/cancel", "cancel_task",
             lambda c: c.cancel_task(37, 3, "stop"), "/jobs/37/tasks/3/cancel",
             query={"forced": ["false"]}, body="stop", status=204),
    Endpoint("POST", "/jobs/{jobId}/tasks/{taskId}/finish", "finish_task",
             lambda c: c.finish_task(37, 3, "enough"), "/jobs/37/tasks/3/finish",
             body="enough", status=204),
    Endpoint("POST", "/jobs/{jobId}/tasks/{taskId}/requeue", "requeue_task",
             lambda c: c.requeue_task(37, 3, "again"), "/jobs/37/tasks/3/requeue",
             body="again", status=204),
    Endpoint("GET", "/jobs/{jobId}/tasks/{taskId}/subtasks/{subtaskId}", "subtask_properties",
             lambda c: c.subtask_properties(22, 1, 3, properties=["TaskId", "CommandLine"]),
             "/jobs/22/tasks/1/subtasks/3", query={"properties": ["TaskId,CommandLine"]},
             reply=props(TaskId="22.1.3", CommandLine="echo 3"),
             result={"TaskId": "22.1.3", "CommandLine": "echo 3"}),
    Endpoint("PUT", "/jobs/{jobId}/tasks/{taskId}/subtasks/{subtaskId}", "set_subtask",
             lambda c: c.set_subtask(22, 1, 3, {"UserBlob": "x"}), "/jobs/22/tasks/1/subtasks/3",
             body=props(UserBlob="x"), status=204),
    Endpoint("POST", "/jobs/{jobId}/tasks/{taskId}/subtasks/{subtaskId}/cancel",
             "cancel_subtask", lambda c: c.cancel_subtask(22, 1, 3, "no", forced=True),
             "/jobs/22/tasks/1/subtasks/3/cancel", query={"forced": ["true"]}, body="no",
             status=204),
    Endpoint("POST", "/jobs/{jobId}/tasks/{taskId}/subtasks/{subtaskId}/finish",
             "finish_subtask", lambda c: c.finish_subtask(22, 1, 3, "ok"),
             "/jobs/22/tasks/1/subtasks/3/finish", body="ok", status=204),
    Endpoint("POST", "/jobs/{jobId}/tasks/{taskId}/subtasks/{subtaskId}/requeue",
             "requeue_subtask", lambda c: c.requeue_subtask(22, 1, 3),
             "/jobs/22/tasks/1/subtasks/3/requeue", status=204),
    Endpoint("GET", "/jobs/templates", "job_templates", lambda c: c.job_templates(),
             "/jobs/templates", reply=["Default", "Gpu"], result=["Default", "Gpu"]),
]  # fmt: skip


def reference_operations(reference: Path) -> set[tuple[str, str]]:
    """(method, path) of every operation in `reference/hpcpack-rest-api-2016.md`."""
    text = (reference.parent / "hpcpack-rest-api-2016.md").read_text(encoding="utf-8")
    return set(re.findall(r"^```\n(GET|POST|PUT|DELETE|PATCH) (/\S*)\n```", text, re.M))


def test_every_reference_endpoint_is_covered(reference: Path) -> None:
    operations = reference_operations(reference)
    assert len(operations) == 37  # the reference's own table of contents
    covered = {(e.method, e.template) for e in ENDPOINTS}
    assert operations - covered == set(), "operations without a client test"
    assert covered - operations == set(), "tests for operations the reference lacks"
    assert len(ENDPOINTS) == len(covered)
    for endpoint in ENDPOINTS:
        assert callable(getattr(HpcPackClient, endpoint.method_name, None)), endpoint


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.template}")
def test_endpoint_request_and_result(
    endpoint: Endpoint, client: HpcPackClient, mocked: responses.RequestsMock
) -> None:
    mocked.add(
        endpoint.method,
        re.compile(re.escape(BASE + endpoint.path) + r"(\?.*)?$"),
        json=endpoint.reply,
        status=endpoint.status,
    )
    result = endpoint.call(client)
    assert len(mocked.calls) == 1
    method, path, query, body = sent(mocked.calls[0])
    assert (method, path) == (endpoint.method, endpoint.path)
    assert query == endpoint.query
    assert body == endpoint.body
    assert result == endpoint.result  # PropertyMap compares names case-insensitively
    # The documented headers go with every request; the name of the method is in the test id.
    headers = mocked.calls[0].request.headers
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("hpcspec/")
    assert headers["Authorization"].startswith("Basic ")
