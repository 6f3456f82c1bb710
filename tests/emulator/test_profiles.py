"""The emulator behaves like a profiled cluster where clusters differ (issue 15, DESIGN.md §7)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import requests
from lxml import etree

from hpcspec.hpcpack.profile import ClusterProfile, ErrorStyle, NodeEndpoints, SweepExpansion
from hpcspec.hpcpack.states import JobState
from tests.emulator.helpers import Api, future, pairs, rows


def test_a_server_that_stamps_client_source_replaces_what_clients_send(start_emulator):
    profile = ClusterProfile(client_source_kept=False, client_source_stamp="HpcScheduler")
    api = Api(start_emulator(profile=profile))
    job = api.create_job(Name="a", ClientSource="hpcspec")
    assert api.job(job, "ClientSource") == {"ClientSource": "HpcScheduler"}
    api.ok("PUT", f"/jobs/{job}", json=pairs({"ClientSource": "hpcspec"}))
    from_xml = int(api.ok("POST", "/jobs/jobFile", json='<Job Name="x" ClientSource="hpcspec"/>'))
    listed = rows(api.ok("GET", "/jobs", params={"properties": "Id,ClientSource"}))
    assert {r["Id"]: r["ClientSource"] for r in listed} == {
        str(job): "HpcScheduler",
        str(from_xml): "HpcScheduler",
    }


def test_aspnet_error_bodies_carry_the_scheduler_message(start_emulator):
    profile = ClusterProfile(error_style=ErrorStyle.ASPNET, not_found_status=400)
    api = Api(start_emulator(profile=profile))
    missing = api.call("GET", "/jobs/999")
    assert missing.status_code == 400
    assert missing.json() == {
        "Message": "An error has occurred.",
        "ExceptionMessage": "The specified Job ID is not valid. Check your Job ID and try again.",
        "ExceptionType": "Microsoft.Hpc.Scheduler.Properties.SchedulerException",
        "StackTrace": None,
    }
    job = api.create_job()
    api.ok("POST", f"/jobs/{job}/cancel", json="")
    refused = api.call("PUT", f"/jobs/{job}", json=pairs({"Name": "late"}))
    assert refused.status_code == 409
    assert "cannot be set when the job is in state Canceled" in refused.json()["ExceptionMessage"]
    as_xml = api.call("GET", "/jobs/999", headers={"Accept": "application/xml"})
    assert etree.fromstring(as_xml.content).findtext("ExceptionMessage").startswith("The spec")


@pytest.mark.parametrize(
    ("style", "content_type", "fragment"),
    [
        (ErrorStyle.IIS_HTML, "text/html", "<h3>HTTP Error 404.0 - Not Found</h3>"),
        (ErrorStyle.PLAIN_TEXT, "text/plain", "The specified Job ID is not valid."),
    ],
)
def test_html_and_plain_text_error_bodies(start_emulator, style, content_type, fragment):
    api = Api(start_emulator(profile=ClusterProfile(error_style=style)))
    reply = api.call("GET", "/jobs/999")
    assert reply.status_code == 404
    assert reply.headers["Content-Type"].startswith(content_type)
    assert fragment in reply.text
    assert "The specified Job ID is not valid." in reply.text


def test_2019_node_endpoints_replace_the_2016_ones(start_emulator):
    profile = ClusterProfile(node_endpoints=NodeEndpoints.CLUSTER, version="6.0.7128.0")
    api = Api(start_emulator(profile=profile, nodes=2, cores_per_node=8))
    assert api.call("GET", "/nodes").status_code == 404
    nodes = api.ok("GET", "/cluster/nodes")
    assert [n["Name"] for n in nodes] == ["HEADNODE", "CN001", "CN002"]
    assert nodes[1]["Cores"] == 8 and nodes[1]["Groups"] == ["ComputeNodes"]
    assert nodes[1]["HpcPackVersion"] == "6.0.7128.0"
    grouped = api.ok("GET", "/cluster/nodes", params={"group": "ComputeNodes"})
    assert [n["Name"] for n in grouped] == ["CN001", "CN002"]
    assert api.ok("GET", "/cluster/nodes/cn002")["Name"] == "CN002"
    groups = api.ok("GET", "/cluster/nodeGroups")
    assert groups[0] == {
        "Name": "HeadNodes",
        "Description": "The head nodes in the cluster",
        "Managed": True,
    }
    assert api.ok("GET", "/cluster/nodeGroups/computenodes")["Name"] == "ComputeNodes"
    assert api.call("GET", "/cluster/nodeGroups/Nope").status_code == 404
    assert api.ok("GET", "/cluster/version") == "6.0.7128.0"


def test_times_are_written_and_read_in_the_profiles_format(start_emulator):
    profile = ClusterProfile(datetime_format="dd.MM.yyyy HH:mm:ss")
    api = Api(start_emulator(profile=profile))
    assert api.ok("GET", "/cluster/info/dateTimeFormat") == "dd.MM.yyyy HH:mm:ss"
    job = api.create_job()
    created = api.job(job, "CreateTime")["CreateTime"]
    day, month, rest = created.split(".")
    assert len(day) == 2 and len(month) == 2 and ":" in rest and "M" not in rest
    hold = time.strftime("%d.%m.%Y %H:%M:%S", time.gmtime(time.time() + 7200))
    api.ok("PUT", f"/jobs/{job}", json=pairs({"HoldUntil": hold}))
    assert api.job(job, "HoldUntil") == {"HoldUntil": hold}
    since = time.strftime("%d.%m.%Y %H:%M:%S", time.gmtime(time.time() - 3600))
    listed = api.ok("GET", "/jobs", params={"$filter": f"ChangeTimeFrom eq {since}"})
    assert str(job) in [r["Id"] for r in rows(listed)]


def test_lazy_sweeps_create_subtasks_as_they_run(start_emulator):
    profile = ClusterProfile(sweep_expansion=SweepExpansion.LAZY)
    api = Api(start_emulator(profile=profile, nodes=1, cores_per_node=2))
    job = api.create_job()
    api.add_task(
        job, Name="s", Type="ParametricSweep", CommandLine="sleep:0.3", StartValue="1", EndValue="6"
    )
    api.add_task(job, Name="after", CommandLine="echo done", DependsOn="s")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Running")
    early = api.call("GET", f"/jobs/{job}/tasks/1/subtasks/6")
    assert early.status_code == 404
    assert "has not been expanded yet" in early.json()["Message"]
    assert api.task(job, 2, "State")["State"] == "Queued"  # the sweep has not ended
    assert api.wait(job, "Finished", timeout=30) == "Finished"
    listed = rows(api.ok("GET", f"/jobs/{job}/tasks", params={"properties": "TaskId,State"}))
    assert [r["TaskId"] for r in listed] == [f"{job}.1.{i}" for i in range(1, 7)] + [f"{job}.2"]
    assert {r["State"] for r in listed} == {"Finished"}


def test_a_profile_may_allow_environment_writes_on_a_queued_job(start_emulator):
    states = frozenset({JobState.Configuring, JobState.Queued})
    api = Api(start_emulator(profile=ClusterProfile(environment_states=states)))
    job = api.create_job(HoldUntil=future(3600))
    api.add_task(job, CommandLine="x")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Queued")
    api.ok("POST", f"/jobs/{job}/envVariables", json=pairs({"K": "v"}))
    api.ok("POST", f"/jobs/{job}/cancel", json="")


def test_paging_follows_the_profiles_limits(start_emulator):
    profile = ClusterProfile(default_rows_per_read=2, max_rows_per_read=3, start_row=False)
    api = Api(start_emulator(profile=profile))
    for i in range(5):
        api.create_job(Name=f"p{i}")
    default = api.call("GET", "/jobs")
    assert len(default.json()) == 2 and "x-ms-continuation-queryId" in default.headers
    capped = api.call("GET", "/jobs", params={"rowsPerRead": 100, "startRow": 0})
    assert len(capped.json()) == 3
    assert "x-ms-row-count" not in capped.headers  # startRow is not understood
    assert "x-ms-continuation-queryId" in capped.headers


def test_serve_takes_a_profile_file(tmp_path):
    profile = tmp_path / "cluster.json"
    profile.write_text('{"version": "6.0.7128.0", "errors": {"style": "plain-text"}}')
    command = [sys.executable, "-m", "hpcspec", "emulator", "serve", "--port", "0"]
    command += ["--db", str(tmp_path / "e.db"), "--user", "u:pw", "--profile", str(profile)]
    server = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip().rpartition(" ")[2]
        reply = requests.get(url + "/cluster/version", auth=("u", "pw"), timeout=10)
        assert reply.json() == "6.0.7128.0"
        missing = requests.get(url + "/jobs/5", auth=("u", "pw"), timeout=10)
        assert missing.headers["Content-Type"].startswith("text/plain")
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_with_a_bad_profile_file_names_the_key(run_cli, tmp_path):
    profile = tmp_path / "cluster.json"
    profile.write_text('{"sweep_expansion": "sometimes"}')
    code, _, err = run_cli(
        "emulator", "serve", "--db", str(tmp_path / "e.db"), "--user", "u:pw",
        "--profile", str(profile),
    )  # fmt: skip
    assert code != 0
    assert "sweep_expansion: 'sometimes' is not one of eager, lazy" in err
    assert "Traceback" not in err


def test_a_lazy_sweep_blocked_by_a_failed_prerequisite_ends_its_job(start_emulator):
    profile = ClusterProfile(sweep_expansion=SweepExpansion.LAZY)
    api = Api(start_emulator(profile=profile))
    job = api.create_job(FailDependentTasks="true")
    api.add_task(job, Name="first", CommandLine="exit:1")
    sweep = dict(Type="ParametricSweep", StartValue="1", EndValue="50", CommandLine="echo *")
    api.add_task(job, Name="s", DependsOn="first", **sweep)
    api.ok("POST", f"/jobs/{job}/submit")
    assert api.wait(job, "Failed", timeout=30) == "Failed"
    master = api.ok("GET", f"/jobs/{job}/tasks", params={"expandParametric": "false"})
    assert [r["State"] for r in rows(master)] == ["Failed", "Failed"]
    assert api.call("GET", f"/jobs/{job}/tasks/2/subtasks/1").status_code == 404
