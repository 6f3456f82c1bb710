"""In CI, failed tasks explain themselves: `apply --wait` and `status` print a capped tail of
what each failed task printed in the runner's own folded group (GitHub `::group::`, Azure
`##[group]`, GitLab section markers) and in GitHub's step summary; outside CI nothing is
added; a task's output never becomes a runner command."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hpcspec.cli import ci
from hpcspec.render.failures import EXCERPT_LINES, MAX_TASKS
from tests.conftest import Runner

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell commands")

MANIFEST = """apiVersion: hpcspec/v1
stack: {stack}
jobs:
  ok:
    tasks:
      t: {{commandLine: echo fine}}
  sweep:
    tasks:
      run:
        commandLine: "sh -c '{command}'"
        sweep: {{start: 1, end: {end}}}
        workDirectory: '{work}'
        properties: {{StdErrFilePath: 'err-*.log'}}
"""
FAIL_TWO = "echo out *; case * in 2|3) echo boom * >&2; echo ::add-mask::x >&2; exit 5;; esac"
NOISY = "seq 1 500; for n in $(seq 1 200); do echo noise $n >&2; done; exit 1"


def write(directory: Path, stack: str, command: str = FAIL_TWO, end: int = 4) -> None:
    work = directory / "work"
    work.mkdir(exist_ok=True)
    text = MANIFEST.format(stack=stack, command=command, end=end, work=work)
    (directory / "m.yaml").write_text(text, encoding="utf-8")


def groups(out: str, start: str, end: str) -> list[list[str]]:
    found, current = [], None
    for line in out.splitlines():
        if line.startswith(start):
            current = [line]
        elif line == end and current is not None:
            found.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return found


def test_apply_wait_on_github_folds_each_failed_tasks_stderr_and_fills_the_summary(
    cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(cli_env, "ci-github")
    summary = cli_env / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--wait", "--timeout", "60s")
    assert code == 5, out + err
    folded = groups(out, "::group::", "::endgroup::")
    assert [g[0].split(" (")[0] for g in folded] == [
        "::group::ci-github/sweep: run[2] failed",
        "::group::ci-github/sweep: run[3] failed",
    ]
    assert "Failed, exit code 5; job" in folded[0][0]
    body = "\n".join(folded[0][1:])
    assert "--- Output (last lines) ---\nout 2" in body
    assert f"--- stderr → {cli_env / 'work' / 'err-2.log'} (last lines) ---\nboom 2" in body
    assert not any(line.lstrip().startswith("::") for g in folded for line in g[1:])
    text = summary.read_text(encoding="utf-8")
    section = text.split("### hpcspec: failed tasks", 1)[1]
    assert section.count("<details><summary>ci-github/sweep: run[") == 2
    assert "boom 3" in section and "hpcspec logs --stack ci-github --failed" in section


def test_status_on_azure_folds_in_its_markers_and_gitlab_in_sections(
    cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(cli_env, "ci-azure")
    assert run_cli("apply", "m.yaml", "--auto-approve", "--wait")[0] == 5
    monkeypatch.setenv("TF_BUILD", "True")
    code, out, err = run_cli("status", "m.yaml")
    assert code == 0, out + err
    folded = groups(out, "##[group]", "##[endgroup]")
    assert [g[0].split(" failed")[0] for g in folded] == [
        "##[group]sweep: run[2]",
        "##[group]sweep: run[3]",
    ]
    assert not any("##vso[" in line or "##[" in line for g in folded for line in g[1:])
    monkeypatch.delenv("TF_BUILD")
    monkeypatch.setenv("GITLAB_CI", "true")
    code, out, _ = run_cli("status", "m.yaml")
    assert code == 0
    assert out.count("\x1b[0Ksection_start:") == 2 and out.count("\x1b[0Ksection_end:") == 2
    assert "[collapsed=true]\r\x1b[0Ksweep: run[2] failed" in out


def test_outside_ci_status_adds_no_groups(cli_env: Path, run_cli: Runner) -> None:
    write(cli_env, "ci-none")
    assert run_cli("apply", "m.yaml", "--auto-approve", "--wait")[0] == 5
    code, out, _ = run_cli("status", "m.yaml")
    assert code == 0 and "::group::" not in out and "##[group]" not in out
    assert "boom" not in out and "task run (" in out


def test_many_noisy_failures_are_capped_per_task_and_per_run(
    cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(cli_env, "ci-noisy", command=NOISY, end=14)
    assert run_cli("apply", "m.yaml", "--auto-approve", "--wait", "--timeout", "60s")[0] == 5
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, _ = run_cli("status", "m.yaml")
    assert code == 0
    folded = groups(out, "::group::", "::endgroup::")
    assert len(folded) == MAX_TASKS
    assert all(len(g) <= 2 * EXCERPT_LINES + 6 for g in folded), max(map(len, folded))
    assert "noise 200" in "\n".join(folded[0]) and "noise 100\n" not in "\n".join(folded[0])
    assert f"{14 - MAX_TASKS} more failed task(s) not shown: hpcspec logs" in out


def test_fold_lines_use_each_runners_markers() -> None:
    assert ci.fold_lines("t", ["a"], ci.CiSystem.GITHUB) == ["::group::t", "a", "::endgroup::"]
    assert ci.fold_lines("t", ["a"], ci.CiSystem.AZURE) == ["##[group]t", "a", "##[endgroup]"]
    start, body, end = ci.fold_lines("t", ["a"], ci.CiSystem.GITLAB, section="s1")
    assert start.endswith(":s1[collapsed=true]\r\x1b[0Kt") and body == "a"
    assert end.startswith("\x1b[0Ksection_end:") and end.endswith(":s1\r\x1b[0K")
    assert ci.fold_lines("t", ["a"], ci.CiSystem.NONE) == ["t", "a"]
    assert ci.ci_system({"GITLAB_CI": "true"}) is ci.CiSystem.GITLAB
    assert ci.ci_system({}) is ci.CiSystem.NONE
