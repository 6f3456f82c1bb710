"""Each pipeline in examples/ci/ runs, job by job, through our CI integration against an emulator.

The example is read as its CI system would read it: the GitHub workflow's `uses:` of this
repository's action with its `with:` inputs, the Azure pipeline's `template:` parameters, the
GitLab pipeline's component `inputs:` plus its job overrides. Their shell steps run for real
(tests/ci/composite.py, tests/ci/template_runners.py); artifact upload/download is a copy.
The install is a stand-in venv (the pip install itself is tested in test_github_action.py).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.ci.composite import clean_env, run_action
from tests.ci.fake_forges import TOKEN, Forge
from tests.ci.template_runners import (
    gitlab_component,
    run_azure_template,
    run_gitlab_job,
    standin_venv,
)

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "ci"
HERE_BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def load(name: str) -> dict[str, Any]:
    document = YAML(typ="safe").load((EXAMPLES / name).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def live_row(work: Path, env: dict[str, str]) -> dict[str, Any]:
    command = ["status", "--provenance", "--output", "json", "examples/quickstart.yaml"]
    status = subprocess.run(
        [sys.executable, "-m", "hpcspec", *command],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    (row,) = json.loads(status.stdout)["jobs"]
    assert isinstance(row, dict)
    return row


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    work = tmp_path / "repo"
    (work / "examples").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "quickstart.yaml", work / "examples")
    return work


def never_pip_install(name: str) -> None:
    """The examples install hpcspec only through our integrations, never from an index."""
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    assert not re.search(r"pip install\s+['\"]?hpcspec\b(?!\s*@)", text)


# --- GitHub Actions ------------------------------------------------------------------------


def github_steps(workflow: dict[str, Any], job: str) -> Iterator[dict[str, Any]]:
    yield from workflow["jobs"][job]["steps"]


@pytest.mark.parametrize("forge", ["github"], indirect=True)
def test_github_example_plans_comments_applies_and_checks_drift(
    repo: Path, tmp_path: Path, forge: Forge, start_emulator: Callable[..., Any]
) -> None:
    never_pip_install("github-actions.yml")
    running = start_emulator()
    workflow = load("github-actions.yml")
    assert workflow["concurrency"]["cancel-in-progress"] is False
    contexts = {
        "env.MANIFEST": workflow["env"]["MANIFEST"],
        "vars.HPCSPEC_CLUSTER": running.url,
        "vars.HPCSPEC_USERNAME": running.admin[0],
        "secrets.HPCSPEC_PASSWORD": running.admin[1],
    }
    temp = tmp_path / "runner-temp"
    standin_venv(temp / "hpcspec-venv", str(ROOT), HERE_BIN)
    artifacts = tmp_path / "artifacts"
    base = clean_env(
        {
            "GITHUB_REPOSITORY": "o/r",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_RUN_ID": "42",
            "GITHUB_API_URL": forge.url,
            "HPCSPEC_CONFIG": str(tmp_path / "config.yaml"),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        }
    )
    ran: list[str] = []
    for job, event in (("plan", "pull_request"), ("apply", "push"), ("drift", "schedule")):
        assert workflow["jobs"][job]["if"] == f"github.event_name == '{event}'"
        payload = tmp_path / f"{event}.json"
        payload.write_text(json.dumps({"pull_request": {"number": 5}} if job == "plan" else {}))
        env = base | {"GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(payload)}
        for step in github_steps(workflow, job):
            uses = step.get("uses", "")
            if uses.startswith("OWNER/hpcspec@"):
                inputs = {
                    k: re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: contexts[m.group(1)], str(v))
                    if not isinstance(v, bool)
                    else str(v).lower()
                    for k, v in step["with"].items()
                }
                done = run_action(
                    ROOT,
                    inputs,
                    workspace=repo,
                    runner_temp=temp,
                    env=env,
                    github={"token": TOKEN},
                    skip_uses=("actions/setup-python",),
                )
                assert done.failed is None, done.log
                ran.append(f"{job}:{inputs['command']}={done.outputs['exit-code']}")
            elif uses.startswith("actions/upload-artifact@"):
                (artifacts / step["with"]["name"]).mkdir(parents=True)
                shutil.copy(repo / step["with"]["path"], artifacts / step["with"]["name"])
            elif "gh run download" in step.get("run", ""):
                name = re.search(r"--name (\S+)", step["run"])
                assert name
                shutil.copytree(artifacts / name.group(1), repo, dirs_exist_ok=True)
            else:
                assert uses.startswith("actions/checkout@"), step
    assert ran == ["plan:plan=2", "apply:apply=0", "drift:drift=0"]
    (body,) = forge.comments.values()
    assert body.startswith("<!-- hpcspec-comment plan examples/quickstart.yaml -->")
    assert "**hpcspec apply:** 1 done" in (tmp_path / "summary.md").read_text()
    row = live_row(repo, base | {"HPCSPEC_CLUSTER": running.url} | user_env(running))
    assert row["state"] == "Finished"
    assert row["source"].startswith("examples/quickstart.yaml")
    assert row["source"].endswith("/o/r/actions/runs/42")


def user_env(running: Any) -> dict[str, str]:
    return {"HPCSPEC_USERNAME": running.admin[0], "HPCSPEC_PASSWORD": running.admin[1]}


# --- Azure Pipelines -----------------------------------------------------------------------


def azure_steps(pipeline: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for stage in pipeline["stages"]:
        for job in stage["jobs"]:
            steps = job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"]
            for step in steps:
                yield stage["stage"], step


@pytest.mark.parametrize("forge", ["azure"], indirect=True)
def test_azure_example_plans_comments_and_applies_the_published_plan(
    repo: Path, tmp_path: Path, forge: Forge, start_emulator: Callable[..., Any]
) -> None:
    never_pip_install("azure-pipelines.yml")
    running = start_emulator()
    pipeline = load("azure-pipelines.yml")
    variables = {v["name"]: v["value"] for v in pipeline["variables"] if "name" in v}
    pipeline_workspace = tmp_path / "pipeline"
    variables |= {
        "HPCSPEC_CLUSTER": running.url,  # from the variable group
        "HPCSPEC_USERNAME": running.admin[0],
        "HPCSPEC_PASSWORD": running.admin[1],
        "System.AccessToken": TOKEN,
        "Pipeline.Workspace": str(pipeline_workspace),
    }
    temp = tmp_path / "agent-temp"
    standin_venv(temp / "hpcspec-venv", variables["HPCSPEC_PACKAGE"], HERE_BIN)
    env = clean_env(
        {
            "HPCSPEC_CONFIG": str(tmp_path / "config.yaml"),
            "SYSTEM_COLLECTIONURI": f"{forge.url}/org/",
            "SYSTEM_TEAMPROJECT": "p",
            "SYSTEM_TEAMPROJECTID": "proj",
            "BUILD_REPOSITORY_ID": "repo",
            "BUILD_BUILDID": "7",
            "SYSTEM_PULLREQUEST_PULLREQUESTID": "7",
        }
    )
    ran = []
    for stage, step in azure_steps(pipeline):
        if "template" in step:
            assert step["template"] == "ci/azure/hpcspec.yml@hpcspec"
            done = run_azure_template(
                step["parameters"],
                workspace=repo,
                agent_temp=temp,
                env=env,
                variables=variables,
            )
            assert done.failed is None, done.log
            ran.append(f"{stage}:{done.variables['hpcspec.exitCode']}")
            if step["parameters"]["command"] == "plan":
                (summary,) = done.summaries
                assert "<!-- hpcspec-plan stack=quickstart" in summary.read_text()
        elif "publish" in step:
            (pipeline_workspace / step["artifact"]).mkdir(parents=True)
            shutil.copy(repo / step["publish"], pipeline_workspace / step["artifact"])
        else:
            assert "checkout" in step or "download" in step, step
    assert ran == ["Plan:2", "Apply:0"]
    (body,) = forge.comments.values()
    assert body.startswith("<!-- hpcspec-comment plan examples/quickstart.yaml -->")
    row = live_row(repo, env | {"HPCSPEC_CLUSTER": running.url} | user_env(running))
    assert row["state"] == "Finished"
    assert row["source"].endswith("_build/results?buildId=7")


# --- GitLab CI -----------------------------------------------------------------------------


def test_gitlab_example_plans_with_the_widget_report_then_applies_and_checks_drift(
    repo: Path, tmp_path: Path, start_emulator: Callable[..., Any]
) -> None:
    never_pip_install("gitlab-ci.yml")
    running = start_emulator()
    pipeline = load("gitlab-ci.yml")
    fqdn = "gitlab.example"
    env = clean_env(
        {
            "HPCSPEC_CONFIG": str(tmp_path / "config.yaml"),
            "CI_SERVER_FQDN": fqdn,
            "CI_PIPELINE_URL": "https://gitlab.example/p/-/9",
            "HPCSPEC_CLUSTER": running.url,  # CI/CD variables
            "TMPDIR": str(tmp_path / "tmp"),
        }
        | user_env(running)
    )
    ran = []
    for include in pipeline["include"]:
        assert include["component"] == "$CI_SERVER_FQDN/tools/hpcspec/hpcspec@v0.1.0"
        name, job = gitlab_component(include["inputs"])
        job |= pipeline[name]  # the pipeline's own keys for the component's job
        assert job["rules"] and job["stage"] in pipeline["stages"]
        package = job["variables"]["HPCSPEC_PACKAGE"].replace("$CI_SERVER_FQDN", fqdn)
        venv = tmp_path / "tmp" / "hpcspec-venv"
        if not venv.exists():
            standin_venv(venv, package, HERE_BIN)
        done = run_gitlab_job(job, workspace=repo, env=env)
        assert done.code == 0, f"{name}\n{done.out}\n{done.err}"
        ran.append(f"{name}={done.dotenv['HPCSPEC_EXIT_CODE']}")
        if name == "hpcspec-plan":
            report = json.loads((repo / "hpcspec.gitlab.json").read_text())
            assert report == {"create": 1, "update": 0, "delete": 0}
            assert (repo / "hpcspec-plan.json").is_file()
    assert ran == ["hpcspec-plan=2", "hpcspec-apply=0", "hpcspec-drift=0"]
    assert pipeline["hpcspec-apply"]["needs"] == ["hpcspec-plan"]
    row = live_row(repo, env)
    assert row["state"] == "Finished"
    assert row["source"].endswith("https://gitlab.example/p/-/9")
