"""What `import --job` leaves out: HPC Pack's defaults, calculated Min/Max, secret values
(hpcpack/defaults.py, engine/importing.py)."""

from __future__ import annotations

import pytest

from hpcspec.engine.importing import looks_secret
from hpcspec.hpcpack.defaults import job_settings, task_settings

EMULATOR_DEFAULT_JOB = {  # a job created with no properties, as the emulator reads it back
    "AutoCalculateMax": True,
    "AutoCalculateMin": True,
    "FailDependentTasks": False,
    "FailOnTaskFailure": False,
    "IsExclusive": False,
    "JobTemplate": "Default",
    "MaxCores": 1,
    "MaxNodes": 1,
    "MaxSockets": 1,
    "MinCores": 1,
    "MinNodes": 1,
    "MinSockets": 1,
    "NodeGroupOp": "Intersect",
    "NotifyOnCompletion": False,
    "NotifyOnStart": False,
    "Pool": "Default",
    "Preemptable": True,
    "Priority": 2000,
    "RunUntilCanceled": False,
    "RuntimeSeconds": 0,
    "SingleNode": False,
    "UnitType": "Core",
}


def test_a_job_nobody_configured_has_no_settings() -> None:
    assert job_settings(EMULATOR_DEFAULT_JOB.items()) == {}


def test_calculated_bounds_are_dropped_and_given_bounds_kept_in_the_jobs_unit() -> None:
    calculated = {**EMULATOR_DEFAULT_JOB, "MaxCores": 16, "MinCores": 4}
    assert job_settings(calculated.items()) == {}
    given = {**calculated, "AutoCalculateMin": False, "AutoCalculateMax": False, "MinCores": 1}
    assert job_settings(given.items()) == {"MinCores": 1, "MaxCores": 16}
    nodes = {**EMULATOR_DEFAULT_JOB, "UnitType": "Node", "AutoCalculateMax": False}
    assert job_settings(nodes.items()) == {"UnitType": "Node", "MaxNodes": 1}


def test_changed_values_are_kept() -> None:
    changed = {**EMULATOR_DEFAULT_JOB, "Priority": 2005, "IsExclusive": True, "Project": "cfd"}
    assert job_settings(changed.items()) == {
        "Priority": 2005,
        "IsExclusive": True,
        "Project": "cfd",
    }
    task = {"IsRerunnable": False, "FailJobOnFailureCount": 1, "RuntimeSeconds": 60}
    assert task_settings(task.items()) == {"IsRerunnable": False, "RuntimeSeconds": 60}


@pytest.mark.parametrize(
    "name",
    ["DB_PASSWORD", "passwd", "HPC_RUNAS_PWD", "GITHUB_TOKEN", "client_secret", "LICENSE_KEY",
     "KEY", "AZURE_STORAGE_SAS", "ApiKey", "AWS_ACCESS_KEY_ID", "SQL_CONNECTION_STRING",
     "MY_CREDENTIALS", "BASIC_AUTH", "PASS"],
)  # fmt: skip
def test_names_of_credentials_look_secret(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name", ["OMP_NUM_THREADS", "PATH", "MONKEY", "KEYBOARD_LAYOUT", "PASSES", "GREETING"]
)
def test_ordinary_names_do_not(name: str) -> None:
    assert not looks_secret(name)
