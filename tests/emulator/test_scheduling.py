"""The scheduler: cores, node groups and queueing; dependencies; failure rules; counters."""

from __future__ import annotations

import time

from tests.emulator.helpers import Api


def test_a_job_waits_in_queued_until_cores_are_free(start_emulator):
    api = Api(start_emulator(nodes=2, cores_per_node=4))
    big = api.create_job(Name="big", MinCores="8", MaxCores="8")
    api.add_task(big, CommandLine="sleep:1.5", MinCores="8", MaxCores="8")
    small = api.create_job(Name="small", MinCores="1", MaxCores="1")
    api.add_task(small, CommandLine="sleep:0.1")
    api.ok("POST", f"/jobs/{big}/submit")
    api.wait(big, "Running")
    api.ok("POST", f"/jobs/{small}/submit")
    time.sleep(0.3)
    assert api.state(small) == "Queued"  # all 8 cores are taken
    assert api.wait(big, "Finished") == "Finished"
    assert api.wait(small, "Running", "Finishing", "Finished") in (
        "Running",
        "Finishing",
        "Finished",
    )
    assert api.job(big, "AllocatedNodes") == {"AllocatedNodes": "CN001,CN002"}


def test_node_groups_limit_where_a_job_runs(start_emulator):
    api = Api(start_emulator(groups=(("Gpu", ("CN002",)),)))
    job = api.create_job(NodeGroups="Gpu")
    api.add_task(job, CommandLine="sleep:0.3")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Running")
    assert api.job(job, "AllocatedNodes") == {"AllocatedNodes": "CN002"}
    assert api.ok("GET", "/nodes/groups/gpu") == ["CN002"]
    unknown = api.call("PUT", f"/jobs/{job}", json=[{"Name": "NodeGroups", "Value": "Nope"}])
    assert unknown.status_code in (400, 409)


def test_depends_on_orders_tasks_by_name(emulator):
    api = Api(emulator)
    job = api.create_job()
    api.add_task(job, Name="second", CommandLine="sleep:0.1", DependsOn="first")
    api.add_task(job, Name="first", CommandLine="sleep:0.3")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Finished")
    first, second = api.task(job, 2), api.task(job, 1)
    assert first["EndTime"] and second["StartTime"]
    # the dependent task started after its prerequisite ended (times have 1 s resolution)
    assert api.task(job, 1, "PreviousState")["PreviousState"] == "Running"


def test_unknown_dependency_and_cycles_fail_validation(emulator):
    api = Api(emulator)
    job = api.create_job()
    api.add_task(job, Name="a", CommandLine="x", DependsOn="missing")
    api.ok("POST", f"/jobs/{job}/submit")
    assert api.wait(job, "Failed") == "Failed"
    assert "no basic or parametric task named 'missing'" in api.job(job)["ErrorMessage"]
    job = api.create_job()
    api.add_task(job, Name="a", CommandLine="x", DependsOn="b")
    api.add_task(job, Name="b", CommandLine="x", DependsOn="a")
    api.ok("POST", f"/jobs/{job}/submit")
    assert api.wait(job, "Failed") == "Failed"
    assert api.job(job)["ErrorMessage"].startswith("A task dependency loop was detected.")


def test_fail_on_task_failure_fails_the_job_at_once(emulator):
    api = Api(emulator)
    job = api.create_job(FailOnTaskFailure="true")
    api.add_task(job, CommandLine="exit:2")
    api.add_task(job, CommandLine="sleep:30")
    api.ok("POST", f"/jobs/{job}/submit")
    assert api.wait(job, "Failed", timeout=5) == "Failed"
    assert api.job(job)["ErrorMessage"].startswith(f"Task {job}.1 failed.")
    assert api.task(job, 2, "State")["State"] in ("Canceled", "Failed")


def test_a_failed_task_fails_the_job_at_the_end_and_counters_follow(emulator):
    api = Api(emulator)
    job = api.create_job()
    api.add_task(job, CommandLine="exit:1")
    api.add_task(job, CommandLine="echo ok")
    api.ok("POST", f"/jobs/{job}/submit")
    assert api.wait(job, "Failed") == "Failed"
    counts = api.job(job, "TaskCount", "FinishedTaskCount", "FailedTaskCount")
    assert counts == {"TaskCount": "2", "FinishedTaskCount": "1", "FailedTaskCount": "1"}
    assert "exit code 1" in api.task(job, 1)["ErrorMessage"]


def test_child_job_waits_for_its_parent(emulator):
    api = Api(emulator)
    parent = api.create_job()
    api.add_task(parent, CommandLine="sleep:1")
    child = api.create_job(ParentJobIds=str(parent))
    api.add_task(child, CommandLine="echo child")
    api.ok("POST", f"/jobs/{child}/submit")
    api.ok("POST", f"/jobs/{parent}/submit")
    api.wait(parent, "Running")
    assert api.state(child) == "Queued"
    assert api.wait(child, "Finished") == "Finished"


def test_run_until_canceled_and_job_runtime(emulator):
    api = Api(emulator)
    job = api.create_job(RunUntilCanceled="true", RuntimeSeconds="1")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Running")
    assert api.wait(job, "Canceled", timeout=5) == "Canceled"
    assert api.job(job)["ErrorMessage"] == (
        "Canceled by the scheduler because the job's run time expired."
    )
    api.ok("POST", f"/jobs/{job}/requeue")  # the run time starts again
    api.wait(job, "Running")
    time.sleep(0.3)
    assert api.state(job) == "Running"
    api.ok("POST", f"/jobs/{job}/cancel", json="")


def test_an_empty_job_finishes(emulator):
    api = Api(emulator)
    job = api.create_job()
    api.ok("POST", f"/jobs/{job}/submit")
    assert api.wait(job, "Finished") == "Finished"


def test_task_cancel_finish_and_requeue(emulator):
    api = Api(emulator)
    job = api.create_job()
    api.add_task(job, CommandLine="sleep:30")
    api.add_task(job, CommandLine="sleep:30", IsRerunnable="false")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait_task(job, 1, "Running")
    api.ok("POST", f"/jobs/{job}/tasks/1/cancel", json="bye")
    assert api.task(job, 1, "State")["State"] == "Failed"
    again = api.call("POST", f"/jobs/{job}/tasks/1/cancel", json="")
    assert again.status_code == 409
    assert again.json()["Message"] == "Tasks in the Failed state cannot be canceled."
    api.ok("POST", f"/jobs/{job}/tasks/1/requeue", json="")
    assert api.task(job, 1, "RequeueCount")["RequeueCount"] == "1"
    api.ok("POST", f"/jobs/{job}/tasks/2/finish", json="enough")
    second = api.task(job, 2, "State", "ErrorMessage")
    assert second["State"] == "Finished"
    assert second["ErrorMessage"].endswith("Message: enough")
    refused = api.call("POST", f"/jobs/{job}/tasks/2/requeue", json="")
    assert refused.status_code == 409
    api.ok("POST", f"/jobs/{job}/cancel", params={"forced": "true"}, json="")


def test_basic_tasks_keep_their_sweep_values(emulator):
    api = Api(emulator)
    job = api.create_job()
    reply = api.call("POST", f"/jobs/{job}/tasks", json=[{"Name": "EndValue", "Value": "5"}])
    assert reply.status_code == 400
    assert (
        reply.json()["Message"]
        == "The property 'EndValue' may not be set for tasks of type 'Basic'"
    )


def test_tasks_run_on_their_required_nodes_and_requested_group(start_emulator):
    api = Api(start_emulator(nodes=3, groups=(("Fast", ("CN003",)),)))
    job = api.create_job()
    api.add_task(job, CommandLine="sleep:0.1", RequiredNodes="CN002")
    api.add_task(job, CommandLine="sleep:0.1", RequestedNodeGroup="Fast")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Finished")
    assert api.task(job, 1, "AllocatedNodes") == {"AllocatedNodes": "CN002"}
    assert api.task(job, 2, "AllocatedNodes") == {"AllocatedNodes": "CN003"}
