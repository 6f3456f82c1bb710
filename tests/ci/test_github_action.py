"""`action.yml`: its shell steps, run as the GitHub runner runs them, against the emulator."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpcspec import __version__
from tests.ci.composite import ActionRun, clean_env, load, run_action
from tests.ci.fake_forges import TOKEN, Forge
from tests.ci.template_runners import fake_hpcspec, standin_venv
from tests.offline_pip import offline_pip_env

ROOT = Path(__file__).parents[2]
HERE_BIN = Path(sys.executable).parent  # this test run's hpcspec stands in for the install
PULL_REQUEST = {"pull_request": {"number": 5}}


def checkout(destination: Path) -> Path:
    """The repository's files as `uses: OWNER/hpcspec@ref` checks them out (no build output)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def workspace(tmp_path: Path) -> Path:
    repo = tmp_path / "workspace"
    (repo / "examples").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "quickstart.yaml", repo / "examples")
    return repo


def run(
    tmp_path: Path,
    inputs: dict[str, str],
    *,
    env: dict[str, str] | None = None,
    bin_dir: Path = HERE_BIN,
    only: tuple[str, ...] | None = None,
    outputs: dict[str, dict[str, str]] | None = None,
) -> ActionRun:
    """Run the action from this checkout, its install step finding `bin_dir` installed."""
    temp = tmp_path / "runner-temp"
    if not (temp / "hpcspec-venv").exists():
        standin_venv(temp / "hpcspec-venv", str(ROOT), bin_dir)
    event = tmp_path / "event.json"
    event.write_text(json.dumps(PULL_REQUEST))
    base = {
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "42",
        "HPCSPEC_CONFIG": str(tmp_path / "config.yaml"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    return run_action(
        ROOT,
        inputs,
        workspace=tmp_path / "workspace",
        runner_temp=temp,
        env=clean_env(base | (env or {})),
        github={"token": TOKEN},
        skip_uses=("actions/setup-python",),
        preset_outputs=outputs,
        only=only,
    )


def test_every_input_reaches_a_script_through_the_environment_only() -> None:
    action = load(ROOT / "action.yml")
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], f"{step['name']}: expression inside a script"
    (run_step,) = [s for s in action["runs"]["steps"] if s.get("id") == "run"]
    assert run_step["env"]["HPCSPEC_PASSWORD"] == "${{ inputs.password }}"
    assert "password" not in run_step["run"].lower().replace("hpcspec_password", "")


@pytest.mark.slow
def test_action_installs_hpcspec_from_its_own_checkout_once_per_job(
    tmp_path: Path, suite_packages: Path
) -> None:
    action_path = checkout(tmp_path / "action")
    temp = tmp_path / "runner-temp"
    offline = offline_pip_env(suite_packages)  # the real pip install, dependencies offline

    def install() -> ActionRun:
        return run_action(
            action_path,
            {"manifests": "m.yaml", "cluster": "https://head/hpc"},
            workspace=tmp_path,
            runner_temp=temp,
            env=clean_env(offline),
            github={"token": TOKEN},
            skip_uses=("actions/setup-python",),
            only=("install",),
        )

    first = install()
    assert first.failed is None, first.log
    bin_dir = Path(first.steps[0].outputs["bin"])
    assert f"hpcspec {__version__}" in first.steps[0].out
    version = subprocess.run(
        [bin_dir / "hpcspec", "--version"], capture_output=True, text=True, env=clean_env(offline)
    )
    assert version.stdout.strip() == f"hpcspec {__version__}"
    assert str(bin_dir) in (temp / "github_path").read_text().splitlines()
    venv_created = (bin_dir.parent / "pyvenv.cfg").stat().st_mtime_ns
    second = install()
    assert second.failed is None, second.log
    assert (bin_dir.parent / "pyvenv.cfg").stat().st_mtime_ns == venv_created


@pytest.mark.slow
@pytest.mark.parametrize("forge", ["github"], indirect=True)
def test_plan_comment_apply_drift_through_the_action_against_the_emulator(
    tmp_path: Path, forge: Forge, start_emulator: Callable[..., Any]
) -> None:
    running = start_emulator()
    repo = workspace(tmp_path)
    env = {"GITHUB_API_URL": forge.url}
    cluster = {
        "cluster": running.url,
        "username": running.admin[0],
        "password": running.admin[1],
        "manifests": "examples/quickstart.yaml",
    }

    plan = run(tmp_path, cluster | {"comment": "true", "plan-file": "plan.json"}, env=env)
    assert plan.failed is None, plan.log
    assert plan.outputs["exit-code"] == "2" and plan.outputs["has-changes"] == "true"
    assert "<!-- hpcspec-plan stack=quickstart" in Path(plan.outputs["markdown-file"]).read_text()
    (comment_id, body), *others = forge.comments.items()
    assert not others
    assert body.startswith("<!-- hpcspec-comment plan examples/quickstart.yaml -->\n")
    assert "<!-- hpcspec-plan stack=quickstart" in body
    assert (repo / "plan.json").is_file()

    again = run(tmp_path, cluster | {"comment": "true"}, env=env)
    assert again.failed is None, again.log
    assert list(forge.comments) == [comment_id]
    assert ("PATCH", f"/repos/o/r/issues/comments/{comment_id}") in forge.calls

    applied = run(
        tmp_path,
        cluster | {"command": "apply", "manifests": "plan.json", "args": "--wait --timeout 5m"},
    )
    assert applied.failed is None, applied.log
    assert applied.outputs == {
        "exit-code": "0",
        "has-changes": "",
        "markdown-file": applied.outputs["markdown-file"],
    }

    drift = run(tmp_path, cluster | {"command": "drift", "fail-on-changes": "true"})
    assert drift.failed is None, drift.log
    assert (drift.outputs["exit-code"], drift.outputs["has-changes"]) == ("0", "false")
    settled = run(tmp_path, cluster)
    assert (settled.outputs["exit-code"], settled.outputs["has-changes"]) == ("0", "false")

    summary = (tmp_path / "summary.md").read_text()
    assert "**hpcspec apply:** 1 done" in summary
    everything = "\n".join(
        [summary, *forge.comments.values(), *(r.log for r in (plan, again, applied, drift))]
    )
    assert running.admin[1] not in everything


def test_an_empty_cluster_input_fails_before_hpcspec_runs(tmp_path: Path) -> None:
    workspace(tmp_path)
    log = tmp_path / "calls.log"
    done = run(
        tmp_path,
        {"manifests": "examples/quickstart.yaml", "cluster": ""},
        env={"FAKE_LOG": str(log)},
        bin_dir=fake_hpcspec(tmp_path / "fake"),
    )
    assert done.failed is not None and done.failed.code == 1
    assert done.failed.out.startswith("::error title=hpcspec::the cluster input is empty")
    names = [s.name for s in done.steps]
    assert names == ["Install hpcspec from the action's checkout", "hpcspec plan"]
    assert not log.exists()


def test_args_are_split_like_a_shell_without_expanding_anything(tmp_path: Path) -> None:
    repo = workspace(tmp_path)
    (repo / "jobs").mkdir()
    for name in ("b.yaml", "a.yaml"):
        (repo / "jobs" / name).write_text("")
    log = tmp_path / "calls.log"
    done = run(
        tmp_path,
        {
            "manifests": "jobs/*.yaml\nexamples/quickstart.yaml",
            "cluster": "https://head/hpc",
            "args": "--var 'greeting=hello $HOME `id`' --target mesh",
            "plan-file": "plan.json",
        },
        env={"FAKE_LOG": str(log)},
        bin_dir=fake_hpcspec(tmp_path / "fake"),
    )
    assert done.failed is None, done.log
    assert log.read_text() == (
        "[plan][--detailed-exitcode][--output][markdown][--out][plan.json]"
        "[--var][greeting=hello $HOME `id`][--target][mesh]"
        "[jobs/a.yaml][jobs/b.yaml][examples/quickstart.yaml]\n"
    )


@pytest.mark.parametrize(
    ("manifests", "code", "changes"),
    [
        ("a.yaml b.yaml", "0", "false"),
        ("a.yaml drifted.yaml", "2", "true"),
        ("drifted.yaml broken.yaml b.yaml", "1", "false"),
    ],
)
def test_drift_runs_per_manifest_and_the_worst_exit_code_wins(
    tmp_path: Path, manifests: str, code: str, changes: str
) -> None:
    workspace(tmp_path)
    log = tmp_path / "calls.log"
    done = run(
        tmp_path,
        {"command": "drift", "manifests": manifests, "cluster": "ctx"},
        env={"FAKE_LOG": str(log)},
        bin_dir=fake_hpcspec(tmp_path / "fake"),
    )
    assert (done.outputs["exit-code"], done.outputs["has-changes"]) == (code, changes)
    assert len(log.read_text().splitlines()) == len(manifests.split())
    assert (done.failed is None) == (code == "0" or code == "2")


@pytest.mark.parametrize(
    ("command", "code", "fail_on_changes", "verdict"),
    [
        ("plan", "2", "false", 0),
        ("plan", "2", "true", 2),
        ("drift", "2", "true", 2),
        ("drift", "0", "true", 0),
        ("apply", "4", "false", 4),
        ("plan", "1", "false", 1),
    ],
)
def test_verdict_fails_the_step_on_errors_and_optionally_on_changes(
    tmp_path: Path, command: str, code: str, fail_on_changes: str, verdict: int
) -> None:
    workspace(tmp_path)
    done = run(
        tmp_path,
        {"command": command, "manifests": "m.yaml", "cluster": "c"}
        | {"fail-on-changes": fail_on_changes},
        only=("verdict",),
        outputs={"run": {"exit-code": code}},
    )
    (step,) = done.steps
    assert step.code == verdict
    assert ("::error title=hpcspec::" in step.out) == (verdict != 0)
