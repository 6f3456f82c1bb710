"""CI awareness: step summaries (capped), ##vso/::error annotations, groups, GitLab reports,
provenance — and no manifest or server text ever becomes a runner command."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from hpcspec.cli import ci
from hpcspec.errors import HpcspecError, Location
from tests.ci.conftest import Run, unique_stack, write_manifest
from tests.render.ci import runner_commands

SIMPLE = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  hello:
    properties: {{Name: Hello, Priority: Normal}}
    tasks:
      greet: {{commandLine: "exit:0"}}
"""

HOSTILE = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  hostile:
    properties:
      Name: "::set-output name=x::y"
      Project: "##vso[task.setvariable variable=P]evil"
    env: {{NOTE: "::add-mask::z"}}
    tasks:
      one: {{commandLine: "echo ##vso[task.complete result=Failed]"}}
      two: {{commandLine: "::set-output name=t::1", dependsOn: [one]}}
"""

BROKEN = """\
apiVersion: hpcspec/v1
stack: broken
jobs:
  bad:
    properties:
      "##vso[task.setvariable variable=X]1": 1
    tasks:
      "::set-output name=t::1": {commandLine: run.exe}
"""

# What hpcspec itself may print as a log command: its groups and its own issue lines.
OURS = re.compile(r"^(##\[group\]hpcspec|##\[endgroup\]$|##vso\[task\.logissue |::error )")


def foreign_commands(text: str) -> list[str]:
    """Runner commands in `text` that hpcspec did not write on purpose."""
    found = []
    for line in runner_commands(text):
        own = OURS.match(line)
        if not own:
            found.append(line)
            continue
        rest = line[own.end() :]  # after our own prefix no second command may start
        if re.search(r"##(vso)?\[", rest, re.IGNORECASE) or "\n" in rest:
            found.append(line)
    return found


@pytest.fixture
def on_ci(cli_env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """GitHub Actions and Azure Pipelines at once; returns the step-summary file."""
    summary = tmp_path / "step_summary.md"
    cli_env.setenv("GITHUB_ACTIONS", "true")
    cli_env.setenv("GITHUB_STEP_SUMMARY", str(summary))
    cli_env.setenv("TF_BUILD", "True")
    return summary


def test_plan_apply_and_status_append_markdown_to_the_step_summary(
    on_ci: Path, hpcspec: Callable[..., Run], tmp_path: Path
) -> None:
    stack = unique_stack("summary")
    manifest = write_manifest(tmp_path, SIMPLE.format(stack=stack))
    assert hpcspec("plan", str(manifest)).code == 0
    after_plan = on_ci.read_text()
    assert f"<!-- hpcspec-plan stack={stack} digest=sha256:" in after_plan
    assert hpcspec("apply", "--auto-approve", str(manifest)).code == 0
    after_apply = on_ci.read_text()
    assert after_apply.startswith(after_plan)
    assert "**hpcspec apply:** 1 done, 0 failed" in after_apply
    assert hpcspec("status", str(manifest)).code == 0
    assert f"### hpcspec status: stack <code>{stack}</code>" in on_ci.read_text()


def test_step_summary_never_passes_githubs_1_mib_cap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("x" * (ci.STEP_SUMMARY_LIMIT - 5000) + "\n")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    big = "".join(f"| line {i} | é |\n" for i in range(20_000))
    ci.append_step_summary(big, env)
    data = summary.read_bytes()
    assert len(data) <= ci.STEP_SUMMARY_LIMIT
    assert data.decode("utf-8").endswith("the job log and the JSON plan have it all.\n")
    assert b"| line 0 |" in data and b"| line 19999 |" not in data
    ci.append_step_summary(big, env)  # full now: nothing more, a warning instead
    assert len(summary.read_bytes()) <= ci.STEP_SUMMARY_LIMIT
    assert "step summary is full" in capsys.readouterr().err


def test_truncation_cuts_at_a_line_and_keeps_utf8_whole() -> None:
    text = "".join(f"ü{i}\n" for i in range(1000))
    cut = ci.truncated_summary(text, 600)
    assert len(cut.encode("utf-8")) <= 600
    body = cut.split("\n\n> **hpcspec:**")[0]
    assert all(re.fullmatch(r"ü\d+", line) for line in body.splitlines())
    assert ci.truncated_summary("short\n", 600) == "short\n"


def test_azure_issue_lines_carry_file_line_and_column(
    on_ci: Path, hpcspec: Callable[..., Run], tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, BROKEN)
    run = hpcspec("validate", str(manifest))
    assert run.code == 1
    issues = [x for x in run.err.splitlines() if x.startswith("##vso[task.logissue")]
    assert issues, run.err
    for issue in issues:
        assert f"sourcepath={manifest};linenumber=" in issue
        assert re.search(r";linenumber=\d+;columnnumber=\d+;code=[a-z-]+\]", issue)
    github = [x for x in run.err.splitlines() if x.startswith("::error file=")]
    assert github and all(re.search(r",line=\d+,col=\d+::", x) for x in github)
    assert foreign_commands(run.out + run.err) == []
    # The single error boundary does the same for every command (here: plan).
    planned = hpcspec("plan", str(manifest))
    assert planned.code == 1
    assert re.search(
        r"^##vso\[task\.logissue type=error;sourcepath=.*;linenumber=\d+", planned.err, re.M
    )


def test_vso_escaping_follows_azures_rules() -> None:
    assert ci.vso_escape("a%b;c\rd\ne]f") == "a%AZP25b%3Bc%0Dd%0Ae%5Df"
    error = HpcspecError(
        "bad ]value; 100%\n##vso[task.complete result=Failed]",
        code="x",
        location=Location("dir;x]/m.yaml", 3, 7),
    )
    (line,) = ci.annotation_lines(error, {"TF_BUILD": "True"})
    head, _, message = line.partition("]")
    assert (
        head == "##vso[task.logissue type=error;sourcepath=dir%3Bx%5D/m.yaml;"
        "linenumber=3;columnnumber=7;code=x"
    )
    assert "]" not in message and ";" not in message and "\n" not in message
    assert "##vso[" not in message
    assert ci.annotation_lines(error, {}) == []


def test_a_hostile_manifest_cannot_inject_a_runner_command(
    on_ci: Path, hpcspec: Callable[..., Run], tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, HOSTILE.format(stack=unique_stack("hostile")))
    outputs = [
        hpcspec("validate", str(manifest)),
        hpcspec("validate", "--output", "json", str(manifest)),
    ]
    for fmt in ("text", "markdown", "json"):
        outputs.append(hpcspec("plan", "--output", fmt, str(manifest)))
    outputs.append(hpcspec("apply", "--auto-approve", "--wait", "--timeout", "30s", str(manifest)))
    for fmt in ("text", "markdown", "json"):
        outputs.append(hpcspec("status", "--output", fmt, str(manifest)))
    outputs.append(hpcspec("drift", "--output", "markdown", str(manifest)))
    assert [o.code for o in outputs][:2] == [0, 0]
    for run in outputs:
        assert foreign_commands(run.out + run.err) == [], run
    assert foreign_commands(on_ci.read_text()) == []
    assert "set-output" in outputs[2].out  # the text is shown, just inert


def test_long_plans_are_grouped_on_azure_and_json_never_is(
    on_ci: Path, hpcspec: Callable[..., Run], tmp_path: Path
) -> None:
    jobs = "".join(f"  j{i}:\n    tasks: {{t: {{commandLine: 'exit:0'}}}}\n" for i in range(25))
    manifest = write_manifest(
        tmp_path, f"apiVersion: hpcspec/v1\nstack: {unique_stack('group')}\njobs:\n{jobs}"
    )
    text = hpcspec("plan", str(manifest)).out.splitlines()
    assert text[0] == "##[group]hpcspec plan" and text[-1] == "##[endgroup]"
    as_json = hpcspec("plan", "--output", "json", str(manifest)).out
    assert json.loads(as_json)["format_version"]


def test_gitlab_report_counts_creates_updates_and_deletes(
    cli_env: pytest.MonkeyPatch, hpcspec: Callable[..., Run], tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, SIMPLE.format(stack=unique_stack("gitlab")))
    report = tmp_path / "plan.gitlab.json"
    assert hpcspec("plan", "--gitlab-report", str(report), str(manifest)).code == 0
    assert json.loads(report.read_text()) == {"create": 1, "update": 0, "delete": 0}


def test_provenance_names_manifest_commit_and_run(tmp_path: Path) -> None:
    plain = tmp_path / "plain" / "m.yaml"
    plain.parent.mkdir()
    plain.write_text("x")
    assert ci.provenance(plain, {}) == str(plain)  # no repository: quietly no commit
    repo = tmp_path / "repo"
    (repo / "jobs").mkdir(parents=True)
    (repo / "jobs" / "m.yaml").write_text("x")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "m"], check=True)
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    github = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_RUN_ID": "42",
    }
    assert ci.provenance(repo / "jobs" / "m.yaml", github) == (
        f"jobs/m.yaml@{head} https://github.com/o/r/actions/runs/42"
    )
    azure = {
        "SYSTEM_COLLECTIONURI": "https://dev.azure.com/org/",
        "SYSTEM_TEAMPROJECT": "proj",
        "BUILD_BUILDID": "7",
    }
    assert ci.run_url(azure) == "https://dev.azure.com/org/proj/_build/results?buildId=7"
    assert ci.run_url({"CI_PIPELINE_URL": "https://gitlab.com/g/p/-/pipelines/9"}).endswith("/9")


def test_apply_stamps_provenance_and_status_shows_it(
    cli_env: pytest.MonkeyPatch, hpcspec: Callable[..., Run], tmp_path: Path
) -> None:
    cli_env.setenv("GITLAB_CI", "true")
    cli_env.setenv("CI_PIPELINE_URL", "https://gitlab.example/g/p/-/pipelines/9")
    manifest = write_manifest(tmp_path, SIMPLE.format(stack=unique_stack("prov")))
    assert hpcspec("apply", "--auto-approve", str(manifest)).code == 0
    status = hpcspec("status", "--provenance", "--output", "json", str(manifest))
    rows = json.loads(status.out)["jobs"]
    assert rows[0]["source"].endswith("stack.yaml https://gitlab.example/g/p/-/pipelines/9")
    assert "applied from" in hpcspec("status", "--provenance", str(manifest)).out
    assert "applied from" not in hpcspec("status", str(manifest)).out  # one read per job
