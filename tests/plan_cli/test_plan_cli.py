"""`hpcspec plan` end to end at the command line, over HTTP against the emulator: output
formats, saved plans applied by `apply PLAN.json`, detailed exit codes, job selection flags,
and colour only on a terminal."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine.status import stack_status
from tests.conftest import Runner
from tests.engine.conftest import client_for
from tests.plan_cli.conftest import job, write_manifest

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def wait_for(running: Any, stack: str, keys: list[str], wanted: dict[str, str]) -> None:
    client = client_for(running)
    try:
        deadline = time.monotonic() + 20
        while True:
            states = {s.key: s.state for s in stack_status(client, stack, keys)}
            if all(states.get(k) == v for k, v in wanted.items()):
                return
            assert time.monotonic() < deadline, states
            time.sleep(0.1)
    finally:
        client.close()


def test_text_json_and_markdown_outputs(cli_env: Path, run_cli: Runner, cluster: Any) -> None:
    manifest = write_manifest(
        cli_env, "cli-formats", job("a") + job("b", "echo ##vso[task.setvariable variable=x]1")
    )
    code, text, _ = run_cli("plan", str(manifest))
    assert code == 0
    assert text.startswith(f"Plan for stack cli-formats on {cluster.url}: 2 to create")
    assert "  + a: create" in text and "  + b: create" in text
    assert "##vso[" not in text  # manifest text cannot act as a CI log command

    code, out, _ = run_cli("plan", str(manifest), "--output", "json")
    document = json.loads(out)
    assert code == 0
    assert document["format_version"] == "1.3"
    assert document["stack"] == "cli-formats" and document["cluster"] == cluster.url
    assert [c["key"] for c in document["changes"]] == ["a", "b"]
    assert document["summary"]["create"] == 2 and document["has_changes"] is True

    code, markdown, _ = run_cli("plan", str(manifest), "--output", "markdown")
    assert code == 0
    assert "stack <code>cli-formats</code>" in markdown and cluster.url in markdown
    assert markdown.index("| Action |") < markdown.index("<details")  # summary table first
    assert "##vso[" not in markdown


def test_markdown_of_a_large_plan_stays_under_60000_characters(
    cli_env: Path, run_cli: Runner
) -> None:
    long = "echo " + "x" * 400
    manifest = write_manifest(
        cli_env, "cli-large", "".join(job(f"j{i:03d}", long) for i in range(300))
    )
    code, markdown, _ = run_cli("plan", str(manifest), "--output", "markdown")
    assert code == 0
    assert len(markdown) <= 60_000
    assert "cli-large" in markdown and "300 to create" in markdown
    assert "more jobs not shown" in markdown  # says what was left out


def test_saved_plan_is_applied_exactly(cli_env: Path, run_cli: Runner, cluster: Any) -> None:
    manifest = write_manifest(
        cli_env,
        "cli-saved",
        job("a", extra="    state: configuring\n") + job("b", extra="    state: configuring\n"),
    )
    code, out, _ = run_cli("plan", str(manifest), "--target", "a", "--out", "plan.json")
    assert code == 0 and "+ a: create" in out and "b:" not in out
    saved = json.loads((cli_env / "plan.json").read_text(encoding="utf-8"))
    assert saved["format_version"] and [c["key"] for c in saved["changes"]] == ["a"]

    code, out, err = run_cli("apply", "plan.json", "--auto-approve")
    assert code == 0, out + err
    assert "Apply: 1 done" in out
    client = client_for(cluster)
    try:
        states = {s.key: s for s in stack_status(client, "cli-saved", ["a", "b"])}
    finally:
        client.close()
    assert states["a"].job_id is not None and states["b"].job_id is None  # b was not in the plan
    code, out, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 2 and "+ b: create" in out and "a:" not in out.split("\n", 1)[1]
    assert run_cli("plan", str(manifest), "--target", "a", "--detailed-exitcode")[0] == 0


def test_a_saved_plan_refuses_flags_that_would_change_it(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Red-team finding: `apply plan.json --target a` (or `--var`, `--prune`, …) dropped the
    flag silently and applied every change of the plan, b's too."""
    manifest = write_manifest(
        cli_env,
        "cli-saved-flags",
        job("a", extra="    state: configuring\n") + job("b", extra="    state: configuring\n"),
    )
    (cli_env / "vars.yaml").write_text("{}\n", encoding="utf-8")
    assert run_cli("plan", str(manifest), "--out", "plan.json")[0] == 0
    for flags in (
        ["--target", "a"],
        ["--exclude", "b"],
        ["--rerun", "a"],
        ["--prune"],
        ["--allow-replace-running"],
        ["--var", "word=bye"],
        ["--var-file", "vars.yaml"],
    ):
        code, out, err = run_cli("apply", "plan.json", *flags)
        assert code == 1 and f"{flags[0]} cannot change a saved plan" in err, (flags, err)
        assert "[usage]" in err and out == "", (flags, out)
    client = client_for(cluster)
    try:
        rows = stack_status(client, "cli-saved-flags", ["a", "b"])
    finally:
        client.close()
    assert [r.job_id for r in rows] == [None, None]  # nothing was applied
    assert run_cli("apply", "plan.json")[0] == 0


def test_detailed_exit_codes(cli_env: Path, run_cli: Runner) -> None:
    manifest = write_manifest(cli_env, "cli-exit", job("a", extra="    state: configuring\n"))
    assert run_cli("plan", str(manifest))[0] == 0  # changes, but no --detailed-exitcode
    assert run_cli("plan", str(manifest), "--detailed-exitcode")[0] == 2
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    assert run_cli("plan", str(manifest), "--detailed-exitcode")[0] == 0
    # errors are 1; usage errors are 1, never 2 (2 means "changes" to CI)
    assert run_cli("plan", "missing.yaml", "--detailed-exitcode")[0] == 1
    assert run_cli("plan", str(manifest), "--detailed-exitcode", "--bogus")[0] == 1
    assert run_cli("plan", str(manifest), "--detailed-exitcode", "--output", "yaml")[0] == 1
    assert run_cli("plan", "--detailed-exitcode")[0] == 1
    code, _, err = run_cli(
        "plan", str(manifest), str(manifest), "--out", "p.json", "--detailed-exitcode"
    )
    assert code == 1 and "--out" in err
    bad = write_manifest(cli_env, "cli-exit", "  a: {tasks: 7}\n", name="bad.yaml")
    assert run_cli("plan", str(bad), "--detailed-exitcode")[0] == 1


def test_wrong_password_is_an_error_not_changes(
    cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = write_manifest(cli_env, "cli-auth", job("a"))
    monkeypatch.setenv("HPCSPEC_PASSWORD", "wrong")
    code, out, err = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 1 and out == ""
    assert "Traceback" not in err and "wrong" not in err


def test_selection_flags(cli_env: Path, run_cli: Runner, cluster: Any) -> None:
    stack = "cli-select"
    first = (
        job("done", "echo done")
        + job("busy", "sleep:60")
        + job("conf", extra="    state: configuring\n")
    )
    manifest = write_manifest(cli_env, stack, first)
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    wait_for(cluster, stack, ["done", "busy"], {"done": "Finished", "busy": "Running"})
    assert run_cli("plan", str(manifest), "--detailed-exitcode")[0] == 0

    code, out, _ = run_cli("plan", str(manifest), "--rerun", "done", "--detailed-exitcode")
    assert code == 2 and "done: rerun" in out

    # busy's spec changes (a running job: replace needs consent); conf leaves the manifest
    second = job("done", "echo done") + job("busy", "sleep:61")
    write_manifest(cli_env, stack, second)
    code, out, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 1  # the only change is refused: apply would change nothing (finding 8)
    assert "busy: replace" in out and "--allow-replace-running" in out and "! refused" in out
    assert "conf: cancel" not in out

    code, out, _ = run_cli("plan", str(manifest), "--allow-replace-running")
    assert "busy: replace" in out and "discards running work: 1 running task" in out
    assert "refused" not in out

    code, out, _ = run_cli("plan", str(manifest), "--prune", "--output", "json")
    actions = {c["key"]: c["action"] for c in json.loads(out)["changes"]}
    assert actions["conf"] == "cancel"

    code, out, _ = run_cli("plan", str(manifest), "--target", "busy", "--prune", "--output", "json")
    assert {c["key"] for c in json.loads(out)["changes"]} == {"busy"}

    code, out, _ = run_cli(
        "plan", str(manifest), "--exclude", "busy", "--detailed-exitcode", "--output", "json"
    )
    keys = {c["key"]: c["action"] for c in json.loads(out)["changes"]}
    assert "busy" not in keys and keys.get("done", "no-op") == "no-op"


def test_colour_only_on_a_terminal_and_never_with_no_color(
    cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = write_manifest(cli_env, "cli-colour", job("a"))
    code, out, _ = run_cli("plan", str(manifest))
    assert code == 0 and not ANSI.search(out)  # captured stdout is not a terminal

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # a fake terminal
    code, out, _ = run_cli("plan", str(manifest))
    assert ANSI.search(out) and "+ a: create" in ANSI.sub("", out)

    monkeypatch.setenv("NO_COLOR", "")  # any value, even empty, turns colour off
    code, out, _ = run_cli("plan", str(manifest))
    assert not ANSI.search(out)

    monkeypatch.delenv("NO_COLOR")
    code, out, _ = run_cli("plan", str(manifest), "--output", "json")
    assert not ANSI.search(out)
    json.loads(out)


def test_several_manifests(cli_env: Path, run_cli: Runner) -> None:
    one = write_manifest(cli_env, "cli-many-1", job("a"), name="one.yaml")
    two = write_manifest(cli_env, "cli-many-2", job("b") + job("c"), name="two.yaml")
    code, out, _ = run_cli("plan", str(one), str(two), "--output", "json", "--detailed-exitcode")
    documents = json.loads(out)
    assert code == 2
    assert [(d["stack"], d["summary"]["create"]) for d in documents] == [
        ("cli-many-1", 1),
        ("cli-many-2", 2),
    ]
    assert all(d["format_version"] == "1.3" for d in documents)
    code, out, _ = run_cli("plan", str(one), str(two))
    assert "Plan for stack cli-many-1" in out and "Plan for stack cli-many-2" in out
    again = write_manifest(cli_env, "cli-many-1", job("z"), name="again.yaml")
    code, _, err = run_cli("plan", str(one), str(again), "--detailed-exitcode")
    assert code == 1 and "both declare stack" in err


def test_json_stays_json_on_ci_runners(
    cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = cli_env / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("TF_BUILD", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    jobs = "".join(
        job(f"j{i:02d}", extra="    properties: {JobTemplate: Nope}\n") for i in range(40)
    )
    manifest = write_manifest(cli_env, "cli-ci-json", jobs)
    code, out, _ = run_cli("plan", str(manifest), "--output", "json", "--detailed-exitcode")
    assert code == 1  # every change is refused
    assert json.loads(out)["blocked"] is True  # stdout is the JSON document and nothing else
    assert "stack <code>cli-ci-json</code>" in summary.read_text(encoding="utf-8")


def test_a_saved_plan_that_went_stale_is_refused(cli_env: Path, run_cli: Runner) -> None:
    manifest = write_manifest(cli_env, "cli-stale", job("a", extra="    state: configuring\n"))
    assert run_cli("plan", str(manifest), "--out", "plan.json")[0] == 0
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0  # someone else applied
    code, out, err = run_cli("apply", "plan.json", "--auto-approve")
    assert code == 4, out + err
    assert run_cli("plan", str(manifest), "--detailed-exitcode")[0] == 0  # created once only
