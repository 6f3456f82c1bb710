"""The REST client sends only what the REST API documents (issue 15, job XML bullet).

Create Job / Set Job Properties list the job properties a REST client may send, Add Task /
Set Task Properties the task ones (`reference/hpcpack/msdocs/schedulerwebservice--*.md`).
TaskExecutionFailureRetryLimit and a task's RequestedNodeGroup are in none of them — only the
job XML importer reads them — so the REST path never sends them: `--create-via rest` refuses a
job that sets one (a located `xml-only` block), and a Configuring job whose value changed is
replaced (a new job made from job XML), not PUT.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from hpcspec.engine.events import Recorder
from hpcspec.engine.outcomes import Outcome
from hpcspec.engine.pipeline import ApplyReport, ApplyRequest, apply_stacks, plan_stack
from hpcspec.engine.plan import Action, BlockCode, ReasonCode
from hpcspec.engine.steps import ApplyOptions, CreateMethod
from hpcspec.hpcpack import codec
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.definition import JobDefinition, TaskDefinition
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.resolve import ResolvedStack
from tests.conftest import REFERENCE
from tests.engine.conftest import client_for

MSDOCS = REFERENCE / "msdocs"


def documented(page: str) -> set[str]:
    """The property names of the first table of an msdocs REST operation page."""
    path = MSDOCS / f"schedulerwebservice--{page}.md"
    if not path.exists():
        pytest.skip("../shared/reference/hpcpack is not here")
    text = path.read_text(encoding="utf-8")
    table = text[text.index("| Property ") :]
    return set(re.findall(r"^\|\s*([A-Za-z]+)\s*\|\s*(?:I?\[|\[)", table, re.M))


def test_every_job_property_sent_by_rest_create_is_in_the_create_job_list() -> None:
    allowed = documented("createjob")
    sent = {s.wire_name for s in JOB_PROPERTIES.values() if s.create and s.rest}
    assert sent <= allowed, sent - allowed


def test_every_job_property_sent_by_put_is_in_the_set_job_properties_list() -> None:
    allowed = documented("setjobproperties")
    sent = {s.wire_name for s in JOB_PROPERTIES.values() if s.put and s.rest}
    assert sent <= allowed, sent - allowed


@pytest.mark.parametrize("page", ["addtask", "settaskproperties"])
def test_every_task_property_sent_by_rest_is_in_the_task_lists(page: str) -> None:
    allowed = documented(page)
    sent = {s.wire_name for s in TASK_PROPERTIES.values() if s.rest}
    assert sent <= allowed, sent - allowed


def test_the_job_xml_only_properties_are_in_no_rest_list() -> None:
    assert "TaskExecutionFailureRetryLimit" not in documented("createjob")
    assert "TaskExecutionFailureRetryLimit" not in documented("setjobproperties")
    assert "RequestedNodeGroup" not in documented("addtask")
    assert not JOB_PROPERTIES["TaskExecutionFailureRetryLimit"].rest
    assert not TASK_PROPERTIES["RequestedNodeGroup"].rest


def test_rest_bodies_leave_the_job_xml_only_properties_out() -> None:
    task = TaskDefinition(
        "t", "echo", properties=(("MinCores", 1), ("RequestedNodeGroup", "ComputeNodes"))
    )
    job = JobDefinition(
        properties=(("Name", "j"), ("TaskExecutionFailureRetryLimit", 3)), tasks=(task,)
    )
    assert set(codec.job_create_values(job)) == {"Name"}
    assert "RequestedNodeGroup" not in codec.task_values(task)
    assert job.xml_only_properties() == (
        ("properties", "TaskExecutionFailureRetryLimit"),
        ("tasks", "t", "properties", "RequestedNodeGroup"),
    )


MANIFEST = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  retry:
    state: configuring
    properties: {{TaskExecutionFailureRetryLimit: {limit}}}
    tasks:
      t: {{commandLine: echo hi, properties: {{RequestedNodeGroup: ComputeNodes}}}}
"""


def _stack(stack: str, limit: int) -> ResolvedStack:
    return resolve(parse_manifest(MANIFEST.format(stack=stack, limit=limit), file="m.yaml"))


def _apply(
    client: HpcPackClient, stack: ResolvedStack, via: CreateMethod, tmp: Path
) -> ApplyReport:
    request = ApplyRequest("emulator", options=ApplyOptions(via=via), journal_root=tmp / "journal")
    return apply_stacks(client, [stack], request, observer=Recorder(), confirm=lambda plans: True)


def test_create_via_rest_refuses_a_job_xml_only_property_at_its_key_path(
    emulator: object, tmp_path: Path
) -> None:
    client = client_for(emulator)
    stack = _stack(f"xmlonly-{uuid.uuid4().hex[:6]}", 3)
    report = _apply(client, stack, CreateMethod.REST, tmp_path)
    (change,) = report.plans[0].changes
    assert [b.code for b in change.blocks] == [BlockCode.XML_ONLY, BlockCode.XML_ONLY]
    assert change.blocks[0].message.startswith(
        "jobs.retry.properties.TaskExecutionFailureRetryLimit: the REST API cannot set"
    )
    assert "jobs.retry.tasks.t.properties.RequestedNodeGroup" in change.blocks[1].message
    assert report.results[0].results[0].outcome is not Outcome.DONE
    assert plan_stack(client, stack, cluster_name="emulator").changes[0].action is Action.CREATE


def test_a_changed_job_xml_only_property_replaces_a_configuring_job(
    emulator: object, tmp_path: Path
) -> None:
    client = client_for(emulator)
    name = f"xmlonly-{uuid.uuid4().hex[:6]}"
    report = _apply(client, _stack(name, 3), CreateMethod.XML, tmp_path)
    assert report.results[0].results[0].outcome is Outcome.DONE
    assert not plan_stack(client, _stack(name, 3), cluster_name="emulator").has_changes
    (change,) = plan_stack(client, _stack(name, 5), cluster_name="emulator").changes
    assert change.action is Action.REPLACE
    assert ReasonCode.NOT_SETTABLE in [r.code for r in change.reasons]
    assert "TaskExecutionFailureRetryLimit (job XML only)" in change.reasons[-1].message
