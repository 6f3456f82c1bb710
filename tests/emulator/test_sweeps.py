"""Parametric sweeps over HTTP: every vector of derived/parametric-sweep-vectors.json."""

from __future__ import annotations

import pytest

from tests.emulator.conftest_data import sweep_vectors
from tests.emulator.helpers import Api, rows

EXPANSION, INSTANCES = sweep_vectors()


def _sweep_job(api: Api, template: str, start: int, end: int, inc: int) -> int:
    job = api.create_job(Name="sweep")
    api.add_task(
        job,
        Name="sweep",
        Type="ParametricSweep",
        CommandLine=template,
        StartValue=str(start),
        EndValue=str(end),
        IncrementValue=str(inc),
    )
    api.ok("POST", f"/jobs/{job}/submit")
    return job


def _refused_for_starting_below_one(api: Api, job: int) -> None:
    # msdocs/ischedulertask-startvalue.md: "The value must be greater than zero" (the vectors'
    # substitution of 0 is checked offline by tests/hpcpack)
    assert api.wait(job, "Failed") == "Failed"
    assert "must be greater than zero" in api.job(job, "ErrorMessage")["ErrorMessage"]


@pytest.mark.parametrize("vector", EXPANSION, ids=[v["template"] for v in EXPANSION])
def test_star_substitution_vector(vector, emulator):
    api = Api(emulator)
    value = vector["value"]
    job = _sweep_job(api, vector["template"], value, value, 1)
    if value < 1:
        _refused_for_starting_below_one(api, job)
        return
    api.wait(job, "Queued", "Running", "Finishing", "Finished")
    sub = api.ok("GET", f"/jobs/{job}/tasks/1/subtasks/1")
    props = {p["Name"]: p["Value"] for p in sub}
    assert props["CommandLine"] == vector["expected"]
    assert props["InstanceValue"] == str(value)
    assert props["TaskId"] == f"{job}.1.1"


@pytest.mark.parametrize("vector", INSTANCES, ids=lambda v: f"{v['start']}-{v['end']}-{v['inc']}")
def test_instance_vector(vector, emulator):
    api = Api(emulator)
    job = api.create_job(Name="sweep")
    api.add_task(
        job,
        Name="s",
        Type="ParametricSweep",
        CommandLine="echo *",
        StartValue=str(vector["start"]),
        EndValue=str(vector["end"]),
        IncrementValue=str(vector["inc"]),
    )
    api.ok("POST", f"/jobs/{job}/submit")
    if vector["start"] < 1:
        _refused_for_starting_below_one(api, job)
        return
    if not vector["instances"]:  # start > end: validation fails the job
        assert api.wait(job, "Failed") == "Failed"
        message = api.job(job, "ErrorMessage")["ErrorMessage"]
        assert "is greater than end value" in message
        return
    api.wait(job, "Finished")
    listed = rows(
        api.ok("GET", f"/jobs/{job}/tasks", params={"properties": "InstanceId,InstanceValue"})
    )
    got = [{"InstanceId": int(r["InstanceId"]), "value": int(r["InstanceValue"])} for r in listed]
    assert got == vector["instances"]


def test_expand_parametric_lists_subtasks_or_the_master(emulator):
    # per ground truth §1.3: 1..3 sweep + 1 basic task → 4 rows expanded, 2 rows unexpanded
    api = Api(emulator)
    job = api.create_job()
    api.add_task(
        job, Name="sw", Type="ParametricSweep", CommandLine="echo *", EndValue="3", StartValue="1"
    )
    api.add_task(job, Name="basic", CommandLine="echo b")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Finished")
    expanded = rows(api.ok("GET", f"/jobs/{job}/tasks"))
    assert [r["TaskId"] for r in expanded] == [f"{job}.1.1", f"{job}.1.2", f"{job}.1.3", f"{job}.2"]
    assert [r["CommandLine"] for r in expanded][:3] == ["echo 1", "echo 2", "echo 3"]
    master = rows(api.ok("GET", f"/jobs/{job}/tasks", params={"expandParametric": "false"}))
    assert [r["TaskId"] for r in master] == [f"{job}.1", f"{job}.2"]
    assert master[0]["CommandLine"] == "echo *"


def test_subtask_before_expansion_is_not_found(emulator):
    api = Api(emulator)
    job = api.create_job()
    api.add_task(
        job, Name="sw", Type="ParametricSweep", CommandLine="x", StartValue="1", EndValue="2"
    )
    reply = api.call("GET", f"/jobs/{job}/tasks/1/subtasks/1")
    assert reply.status_code == 404
    assert "has not been expanded yet" in reply.json()["Message"]


def test_subtask_cancel_finish_and_requeue(emulator):
    api = Api(emulator)
    job = api.create_job()
    api.add_task(
        job, Name="sw", Type="ParametricSweep", CommandLine="sleep:60", StartValue="1", EndValue="3"
    )
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Running")
    api.ok("POST", f"/jobs/{job}/tasks/1/subtasks/1/finish", json="done")
    api.ok("POST", f"/jobs/{job}/tasks/1/subtasks/2/cancel", json="stop")
    sub1 = api.ok("GET", f"/jobs/{job}/tasks/1/subtasks/1", params={"properties": "State"})
    sub2 = api.ok("GET", f"/jobs/{job}/tasks/1/subtasks/2", params={"properties": "State"})
    assert sub1 == [{"Name": "State", "Value": "Finished"}]
    assert sub2[0]["Value"] in ("Failed", "Canceled")
    api.ok("POST", f"/jobs/{job}/tasks/1/subtasks/2/requeue")
    sub2 = api.ok("GET", f"/jobs/{job}/tasks/1/subtasks/2", params={"properties": "RequeueCount"})
    assert sub2 == [{"Name": "RequeueCount", "Value": "1"}]
    api.ok("POST", f"/jobs/{job}/cancel", json="")
