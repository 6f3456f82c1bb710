"""The Azure Pipelines template and the GitLab component: failing clearly, verdicts, outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ci.composite import clean_env
from tests.ci.template_runners import (
    AzureRun,
    GitLabRun,
    fake_hpcspec,
    gitlab_component,
    run_azure_template,
    run_gitlab_job,
    standin_venv,
)

PACKAGE = "hpcspec @ git+https://example.invalid/hpcspec@v0.1.0"


def azure(tmp_path: Path, log: Path, **parameters: object) -> AzureRun:
    temp = tmp_path / "agent-temp"
    if not temp.exists():
        standin_venv(temp / "hpcspec-venv", PACKAGE, fake_hpcspec(tmp_path / "fake"))
    return run_azure_template(
        {"package": PACKAGE, "manifests": "a.yaml", "cluster": "https://head/hpc"} | parameters,
        workspace=tmp_path,
        agent_temp=temp,
        env=clean_env({"FAKE_LOG": str(log)}),
        variables={"System.AccessToken": "t"},
    )


def test_azure_an_undefined_cluster_variable_fails_before_hpcspec_runs(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    done = azure(tmp_path, log, cluster="$(HPCSPEC_CLUSTER)")
    assert done.failed is not None and done.failed.name == "hpcspec plan"
    (issue,) = done.issues
    assert issue.startswith("type=error: the cluster parameter is empty")
    assert not log.exists()


@pytest.mark.parametrize(
    ("fail_on_changes", "result", "code"),
    [(False, "SucceededWithIssues", 0), (True, "Failed", 2)],
)
def test_azure_drift_found_is_a_warning_or_with_fail_on_changes_a_failure(
    tmp_path: Path, fail_on_changes: bool, result: str, code: int
) -> None:
    done = azure(
        tmp_path,
        tmp_path / "calls.log",
        command="drift",
        manifests="drifted.yaml",
        failOnChanges=fail_on_changes,
    )
    assert done.variables["hpcspec.exitCode"] == "2"
    assert done.variables["hpcspec.hasChanges"] == "true"
    assert done.result == result
    assert done.steps[-1].name == "Verdict" and done.steps[-1].code == code


def gitlab(tmp_path: Path, log: Path, env: dict[str, str], **inputs: object) -> GitLabRun:
    venv = tmp_path / "tmp" / "hpcspec-venv"
    if not venv.exists():
        standin_venv(venv, PACKAGE, fake_hpcspec(tmp_path / "fake"))
    _, job = gitlab_component({"package": PACKAGE, "manifests": "a.yaml"} | inputs)
    base = {"FAKE_LOG": str(log), "TMPDIR": str(tmp_path / "tmp")}
    return run_gitlab_job(job, workspace=tmp_path, env=clean_env(base | env))


def test_gitlab_no_cluster_input_nor_variable_fails_before_hpcspec_runs(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    done = gitlab(tmp_path, log, {})
    assert done.code == 1
    assert "hpcspec: error: no cluster: set the cluster input or the HPCSPEC_CLUSTER" in done.err
    assert not log.exists()


def test_gitlab_cluster_input_wins_over_the_variable_and_drift_can_fail_the_job(
    tmp_path: Path,
) -> None:
    log = tmp_path / "calls.log"
    done = gitlab(
        tmp_path,
        log,
        {"HPCSPEC_CLUSTER": "from-variable"},
        cluster="from-input",
        command="drift",
        manifests="ok.yaml drifted.yaml",
        **{"fail-on-changes": True},
    )
    assert done.code == 1
    assert done.dotenv == {"HPCSPEC_EXIT_CODE": "2", "HPCSPEC_HAS_CHANGES": "true"}
    assert "found changes (exit 2) and fail-on-changes is true" in done.err
    assert Path(f"{log}.cluster").read_text() == "from-input\n"
    assert log.read_text().splitlines() == [
        "[drift][--detailed-exitcode][--output][markdown][ok.yaml]",
        "[drift][--detailed-exitcode][--output][markdown][drifted.yaml]",
    ]
