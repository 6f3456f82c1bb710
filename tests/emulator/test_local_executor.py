"""The local executor: real subprocesses with the job/task environment and CCP_* variables."""

from __future__ import annotations

import sys

import pytest

from tests.emulator.helpers import Api

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell commands")


def test_echo_and_hostname_run_and_their_output_is_kept(start_emulator):
    api = Api(start_emulator(executor="local"))
    job = api.create_job(Name="local")
    api.add_task(job, CommandLine="echo hello")
    api.add_task(job, CommandLine="hostname")
    api.ok("POST", f"/jobs/{job}/submit")
    assert api.wait(job, "Finished", "Failed") == "Finished"
    assert api.task(job, 1, "Output", "ExitCode") == {"Output": "hello\n", "ExitCode": "0"}
    assert api.task(job, 2)["Output"].strip()


def test_environment_precedence_and_ccp_variables(start_emulator, tmp_path):
    api = Api(start_emulator(executor="local"))
    job = api.create_job(Name="envjob")
    api.ok(
        "POST",
        f"/jobs/{job}/envVariables",
        json=[{"Name": "A", "Value": "job"}, {"Name": "B", "Value": "job"}],
    )
    api.add_task(
        job,
        CommandLine='echo "$A $B $CCP_JOBID $CCP_TASKID $CCP_TASKINSTANCEID $CCP_NUMCPUS" && pwd',
        WorkDirectory=str(tmp_path),
        MinCores="2",
        MaxCores="2",
    )
    api.ok("POST", f"/jobs/{job}/tasks/1/envVariables", json=[{"Name": "B", "Value": "task"}])
    api.ok("POST", f"/jobs/{job}/submit")
    assert api.wait(job, "Finished", "Failed") == "Finished"
    lines = api.task(job, 1, "Output")["Output"].splitlines()
    assert lines == [f"job task {job} 1 0 2", str(tmp_path)]


def test_exit_codes_valid_codes_and_output_cap(start_emulator):
    api = Api(start_emulator(executor="local"))
    job = api.create_job(Name="codes")
    api.add_task(job, CommandLine="exit 3", TaskValidExitCodes="0,3")
    api.add_task(job, CommandLine="echo oops >&2; exit 4")
    api.add_task(job, CommandLine="head -c 10000 /dev/zero | tr '\\0' x")
    api.ok("POST", f"/jobs/{job}/submit")
    assert api.wait(job, "Failed", "Finished") == "Failed"
    assert api.task(job, 1, "State", "ExitCode") == {"State": "Finished", "ExitCode": "3"}
    second = api.task(job, 2, "State", "ExitCode", "Output", "ErrorMessage")
    assert (second["State"], second["ExitCode"], second["Output"]) == ("Failed", "4", "oops\n")
    assert "exit code 4" in second["ErrorMessage"]
    assert len(api.task(job, 3, "Output")["Output"]) == 4096


def test_task_runtime_limit_is_enforced(start_emulator):
    api = Api(start_emulator(executor="local"))
    job = api.create_job(Name="slow")
    api.add_task(job, CommandLine="sleep 30", RuntimeSeconds="1")
    api.ok("POST", f"/jobs/{job}/submit")
    assert api.wait(job, "Failed", timeout=10) == "Failed"
    task = api.task(job, 1, "State", "ErrorMessage")
    assert (
        task["ErrorMessage"] == "Canceled by the scheduler because the task's runtime has expired."
    )


def test_cancelling_a_running_local_task_fails_it(start_emulator):
    api = Api(start_emulator(executor="local"))
    job = api.create_job(Name="cancel")
    api.add_task(job, CommandLine="sleep 30")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait_task(job, 1, "Running")
    api.ok("POST", f"/jobs/{job}/tasks/1/cancel", json="stop it")
    task = api.task(job, 1, "State", "ErrorMessage")
    assert task == {
        "State": "Failed",
        "ErrorMessage": "The task has been canceled by the user during execution. Message: stop it",
    }


# -- standard streams (msdocs/ischedulertask-output.md, ground truth §3.2, §5) ---------------
def _run(api: Api, **task: str) -> int:
    job = api.create_job(Name="streams")
    api.add_task(job, **task)
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Finished", "Failed")
    return job


def test_stdout_to_a_file_leaves_only_stderr_in_output(start_emulator, tmp_path):
    api = Api(start_emulator(executor="local"))
    command = "echo to-out; echo to-err >&2"
    job = _run(api, CommandLine=command, WorkDirectory=str(tmp_path), StdOutFilePath="out.log")
    assert (tmp_path / "out.log").read_text() == "to-out\n"
    assert api.task(job, 1, "Output", "State") == {"Output": "to-err\n", "State": "Finished"}


def test_both_streams_redirected_leave_output_empty(start_emulator, tmp_path):
    api = Api(start_emulator(executor="local"))
    command = "echo to-out; echo to-err >&2"
    job = _run(
        api,
        CommandLine=command,
        WorkDirectory=str(tmp_path),
        StdOutFilePath="out.log",
        StdErrFilePath=str(tmp_path / "err.log"),
    )
    assert (tmp_path / "out.log").read_text() == "to-out\n"
    assert (tmp_path / "err.log").read_text() == "to-err\n"
    assert api.task(job, 1, "Output")["Output"] == ""


def test_stdin_is_read_from_its_file_and_one_file_takes_both_streams(start_emulator, tmp_path):
    api = Api(start_emulator(executor="local"))
    (tmp_path / "in.txt").write_text("from a file\n")
    job = _run(
        api,
        CommandLine="cat; echo after >&2",
        WorkDirectory=str(tmp_path),
        StdInFilePath="in.txt",
        StdOutFilePath="all.log",
        StdErrFilePath="all.log",
    )
    assert (tmp_path / "all.log").read_text() == "from a file\nafter\n"
    assert api.task(job, 1, "Output")["Output"] == ""


def test_a_missing_stdin_file_fails_the_task_with_the_schedulers_message(start_emulator, tmp_path):
    api = Api(start_emulator(executor="local"))
    job = _run(api, CommandLine="cat", WorkDirectory=str(tmp_path), StdInFilePath="absent.txt")
    task = api.task(job, 1, "State", "ErrorMessage")
    assert task["State"] == "Failed"
    assert task["ErrorMessage"].startswith("Unable to open standard input file on node CN")


def test_sweep_instances_write_their_own_files(start_emulator, tmp_path):
    api = Api(start_emulator(executor="local"))
    job = api.create_job(Name="sweep-files")
    api.add_task(
        job,
        Name="run",
        Type="ParametricSweep",
        StartValue="1",
        EndValue="3",
        CommandLine="echo running case ***",
        WorkDirectory=str(tmp_path),
        StdOutFilePath="case-***.log",
    )
    api.ok("POST", f"/jobs/{job}/submit")
    assert api.wait(job, "Finished", "Failed") == "Finished"
    for case in (1, 2, 3):
        assert (tmp_path / f"case-{case:03d}.log").read_text() == f"running case {case:03d}\n"


def test_a_simulated_echo_to_a_redirected_stdout_leaves_output_empty(emulator):
    api = Api(emulator)
    job = _run(api, CommandLine="echo hidden", StdOutFilePath="out.log")
    assert api.task(job, 1, "Output", "State") == {"Output": "", "State": "Finished"}
