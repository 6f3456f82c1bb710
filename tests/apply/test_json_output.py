"""`apply`, `reconcile` and `destroy --output json` against the emulator: pure JSON lines.

Every line of stdout parses and validates against `schemas/hpcspec-events-v1.schema.json`;
the streams of a create → no-op reconcile → destroy match golden files once job ids, times
and the cluster's URL are normalised (`golden/*.jsonl`; UPDATE_GOLDEN=1 rewrites them);
`--wait` streams its transitions with unchanged exit codes; json never prompts; and a canary
secret sent to the cluster never appears in the stream.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from hpcspec import __version__
from hpcspec.engine import wait
from tests.apply.recording import install, uninstall
from tests.conftest import Runner
from tests.render.event_schema import records

GOLDEN = Path(__file__).parent / "golden"

MANIFEST = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  a:
    tasks: {{t: {{commandLine: 'sleep:30'}}}}
  b:
    dependsOn: [a]
    state: configuring
    tasks: {{t: {{commandLine: 'echo b'}}}}
"""

ID_FIELDS = ("job_id", "live_id")
ID_LISTS = ("job_ids", "duplicates")


class Normaliser:
    """Job ids by order of first appearance, times, the cluster URL and versions made stable."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ids: dict[int, str] = {}

    def job(self, job_id: int) -> str:
        return self.ids.setdefault(job_id, f"<job{len(self.ids) + 1}>")

    def text(self, text: str) -> str:
        text = text.replace(self.url, "<cluster>").replace(__version__, "<version>")
        text = re.sub(r"job (\d+)", lambda m: f"job {self.job(int(m.group(1)))}", text)
        return re.sub(r"sha256:[0-9a-f]{64}", "sha256:<digest>", text)

    def value(self, key: str, value: Any) -> Any:
        if key in ID_FIELDS and isinstance(value, int):
            return self.job(value)
        if key in ID_LISTS:
            return [self.job(v) for v in value]
        if key in ("@timestamp", "live_change_time") and value is not None:
            return "<time>"
        if key == "hpcspec":
            return "<version>"
        if isinstance(value, dict):
            return {k: self.value(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(key, v) for v in value]
        return self.text(value) if isinstance(value, str) else value

    def stream(self, stdout: str) -> str:
        """The records normalised; each run of per-key records (steps, results) in key order,
        each key's own order kept: keys run in parallel, so their interleaving varies."""
        lines = [self.value("", record) for record in records(stdout)]
        runs = itertools.groupby(lines, key=lambda line: job_key(line) is not None)
        ordered = [
            line
            for per_key, run in runs
            for line in (sorted(run, key=lambda line: job_key(line) or "") if per_key else run)
        ]
        return "".join(
            json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n" for line in ordered
        )


def job_key(record: dict[str, Any]) -> str | None:
    """The job key a step or result record is about (None for any other record)."""
    key = record.get("key", record.get("result", {}).get("key"))
    return key if isinstance(key, str) else None


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    assert text == path.read_text(encoding="utf-8"), name


def wait_until_running(run_cli: Runner, key: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _, out, _ = run_cli("status", "m.yaml", "--output", "json")
        states = {job["key"]: job["state"] for job in json.loads(out)["jobs"]}
        if states.get(key) == "Running":
            return
        time.sleep(0.1)
    raise AssertionError(f"{key} never ran: {states}")


@pytest.mark.slow
def test_apply_reconcile_and_destroy_stream_golden_json_lines(
    cluster: Any, cli_env: Path, run_cli: Runner
) -> None:
    (cli_env / "m.yaml").write_text(MANIFEST.format(stack="json-golden"), encoding="utf-8")
    normal = Normaliser(cluster.url)
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--output", "json")
    assert code == 0, out + err
    check_golden("apply.jsonl", normal.stream(out))
    wait_until_running(run_cli, "a")
    code, out, err = run_cli("reconcile", "m.yaml", "--once", "--output", "json")
    assert code == 0, out + err
    check_golden("reconcile.jsonl", normal.stream(out))
    code, out, err = run_cli("destroy", "m.yaml", "--auto-approve", "--output", "json")
    assert code == 0, out + err
    check_golden("destroy.jsonl", normal.stream(out))
    assert "error" not in err and "{" not in err  # stderr: only the human notes


@pytest.mark.slow
def test_wait_streams_each_transition_and_keeps_the_exit_code(
    cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wait, "POLL_SECONDS", 0.1)
    (cli_env / "m.yaml").write_text(
        "apiVersion: hpcspec/v1\nstack: json-wait\njobs:\n"
        "  ok: {tasks: {t: {commandLine: 'echo fine'}}}\n"
        "  bad: {tasks: {t: {commandLine: 'exit:3'}}}\n",
        encoding="utf-8",
    )
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--wait", "--output", "json")
    assert code == 5, out + err  # a job ended Failed: as with text output
    stream = records(out)
    kinds = [r["type"] for r in stream]
    assert kinds[0] == "version" and kinds[-1] == "wait_ended"
    assert kinds.index("applied") < kinds.index("job_state_changed")
    created = {r["key"]: r["job_id"] for r in stream if r["type"] == "step_finished"}
    ended = {r["job"]["key"]: r["job"] for r in stream if r["type"] == "job_state_changed"}
    assert ended["json-wait/bad"]["state"] == "Failed"
    assert ended["json-wait/bad"]["job_id"] == created["bad"]
    assert ended["json-wait/bad"]["failed_tasks"][0]["exit_code"] == 3
    assert (stream[-1]["verdict"], stream[-1]["@level"]) == ("failed", "error")


def test_json_output_never_prompts_and_reports_the_refusal_as_a_record(
    cli_env: Path, run_cli: Runner
) -> None:
    (cli_env / "m.yaml").write_text(MANIFEST.format(stack="json-ask"), encoding="utf-8")
    for command in ("apply", "destroy"):
        code, out, err = run_cli(command, "m.yaml", "--output", "json")
        assert code == 1
        version, diagnostic = records(out)
        assert (version["type"], version["command"]) == ("version", command)
        assert diagnostic["diagnostic"]["code"] == "confirmation-required"
        assert "[confirmation-required]" in err  # stderr still tells people


def test_a_broken_manifest_ends_the_stream_with_a_diagnostic(
    cli_env: Path, run_cli: Runner
) -> None:
    (cli_env / "m.yaml").write_text("apiVersion: hpcspec/v1\nstack: x\njobs: [\n")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--output", "json")
    assert code == 1 and err
    *_, last = records(out)
    assert (last["type"], last["@level"], last["diagnostic"]["file"]) == (
        "diagnostic",
        "error",
        "m.yaml",
    )


CANARY_MANIFEST = """\
apiVersion: hpcspec/v1
stack: json-canary
jobs:
  job:
    runAs: {userName: 'HPC\\\\alice', password: {secret: env:CANARY}}
    env:
      TOKEN: {secret: env:CANARY}
    tasks:
      t: {commandLine: 'echo hi'}
"""


@pytest.mark.slow
def test_a_canary_secret_sent_to_the_cluster_never_appears_in_the_stream(
    cluster: Any, cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wait, "POLL_SECONDS", 0.1)
    canary = cluster.user[1]  # alice's password doubles as the env value
    monkeypatch.setenv("CANARY", canary)
    (cli_env / "m.yaml").write_text(CANARY_MANIFEST, encoding="utf-8")
    recorder = install(cluster)
    try:
        code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--wait", "--output", "json")
        destroyed = run_cli("destroy", "m.yaml", "--auto-approve", "--output", "json")
    finally:
        uninstall(cluster, recorder)
    assert code == 0, out + err
    stream = out + destroyed[1]
    assert {r["type"] for r in records(stream)} >= {"planned", "step_finished", "wait_ended"}
    assert canary not in stream + err + destroyed[2]
    sent = [route for route, body in recorder.seen if canary.encode() in body]
    assert any(route.endswith("/submit") for route in sent), sent  # it was really used
