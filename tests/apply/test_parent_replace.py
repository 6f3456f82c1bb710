"""Replacing a parent job never silently loses its queued child, end to end over HTTP.

HPC Pack cancels a job whose parent job is canceled ("The job's parent job has been
canceled.", `Execution_ParentJobCanceled` in reference/hpcpack/derived/error-codes.json; the
emulator's clock does it) and a Queued job's ParentJobIds cannot change
(derived/job-modify-rules.json). Apply used to replace the parent alone and exit 0; the
scheduler then cancelled the child, and every later plan blamed "canceled outside hpcspec".
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine.lifecycle import CancelReason, cancel_message
from hpcspec.engine.status import stack_status
from tests.conftest import Runner
from tests.engine.conftest import client_for

HOLD = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


def manifest(stack: str, command: str) -> str:
    """a (held in the queue) ← b ← c: all Queued, none can start."""
    return f"""\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  a:
    properties: {{HoldUntil: "{HOLD}"}}
    tasks: {{t: {{commandLine: '{command}'}}}}
  b:
    dependsOn: [a]
    tasks: {{t: {{commandLine: 'echo b'}}}}
  c:
    dependsOn: [b]
    tasks: {{t: {{commandLine: 'echo c'}}}}
"""


def jobs(running: Any, stack: str) -> dict[str, tuple[int | None, str, str]]:
    """Each key's current job: id, state, ParentJobIds."""
    client = client_for(running)
    try:
        out = {}
        for status in stack_status(client, stack, ["a", "b", "c"]):
            parents = ""
            if status.job_id is not None:
                parents = client.job_properties(status.job_id, ["ParentJobIds"]).text(
                    "ParentJobIds"
                )
            out[status.key] = (status.job_id, status.state, parents or "")
        return out
    finally:
        client.close()


def settle(running: Any, job_id: int) -> str:
    """The state of `job_id` once the scheduler has had a few ticks to act on it."""
    client = client_for(running)
    try:
        deadline = time.monotonic() + 10
        while True:
            state = client.job_properties(job_id, ["State"]).text("State")
            if state != "Canceling" or time.monotonic() > deadline:
                time.sleep(0.3)  # the emulator ticks every 0.05 s: a child's cancel is due
                return client.job_properties(job_id, ["State"]).text("State") or ""
            time.sleep(0.05)
    finally:
        client.close()


@pytest.mark.slow
def test_replacing_a_queued_parent_replaces_its_queued_children_after_it(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    path = cli_env / "m.yaml"
    path.write_text(manifest("parents", "echo one"), encoding="utf-8")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    before = jobs(cluster, "parents")
    path.write_text(manifest("parents", "echo two"), encoding="utf-8")
    code, out, err = run_cli("plan", "m.yaml")
    assert "3 to replace" in out, out + err
    assert "its parent a is replaced" in out and "its parent b is replaced" in out
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    for key in "abc":  # the old jobs end: the scheduler has acted on the children
        assert settle(cluster, before[key][0] or 0) == "Canceled", key
    after = jobs(cluster, "parents")
    for key, parent in (("b", "a"), ("c", "b")):
        job_id, _, parents = after[key]
        assert job_id != before[key][0], key
        assert parents == str(after[parent][0]), f"{key} waits on the new {parent}"
        assert settle(cluster, job_id or 0) == "Queued", f"{key}'s new job is still queued"
    code, out, err = run_cli("plan", "m.yaml", "--detailed-exitcode")
    assert code == 0, out + err
    assert "the cluster matches the manifest" in out


def test_replacing_a_parent_without_its_queued_child_is_refused(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    path = cli_env / "m.yaml"
    path.write_text(manifest("target", "echo one"), encoding="utf-8")
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    before = jobs(cluster, "target")
    path.write_text(manifest("target", "echo two"), encoding="utf-8")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--target", "a")
    assert code == 1, out + err
    assert "makes HPC Pack cancel waiting job(s) this plan cannot make good" in out
    assert "--target b" in out
    after = jobs(cluster, "target")  # nothing was touched: the same jobs, none cancelled
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    assert all(v[1] in ("Submitted", "Validating", "Queued") for v in after.values()), after


def test_a_child_hpc_pack_cancelled_with_a_parent_hpcspec_cancelled_is_created_again(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    # What an older hpcspec left: a replaced alone, and the scheduler cancelled b and c.
    path = cli_env / "m.yaml"
    path.write_text(manifest("repair", "echo one"), encoding="utf-8")
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    before = jobs(cluster, "repair")
    client = client_for(cluster)
    try:
        said = cancel_message(CancelReason.REPLACED, at=datetime.now(UTC), replaced_by=None)
        client.cancel_job(before["a"][0] or 0, said)
    finally:
        client.close()
    assert settle(cluster, before["c"][0] or 0) == "Canceled"
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert "canceled by HPC Pack because its parent job was" in out
    after = jobs(cluster, "repair")
    waiting = ("Submitted", "Validating", "Queued")
    assert all(after[k][1] in waiting and after[k][0] != before[k][0] for k in "abc"), after
    code, out, err = run_cli("plan", "m.yaml", "--detailed-exitcode")
    assert code == 0, out + err


def test_a_configuring_job_that_drops_its_depends_on_no_longer_waits_on_the_old_parent(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    # Apply used to "update" it in place, leaving ParentJobIds as it was, and then say the
    # cluster matched: submitted, it would wait on (or be cancelled with) a job it left.
    text = manifest("dropped", "echo one").replace("  c:\n    dependsOn: [b]\n", "  c:\n")
    text = text.replace("  b:\n", "  b:\n    state: configuring\n")
    path = cli_env / "m.yaml"
    path.write_text(text, encoding="utf-8")
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    assert jobs(cluster, "dropped")["b"][2] == str(jobs(cluster, "dropped")["a"][0])
    path.write_text(text.replace("    dependsOn: [a]\n", ""), encoding="utf-8")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert "dependsOn changed" in out
    job_id, state, parents = jobs(cluster, "dropped")["b"]
    assert (state, parents) == ("Configuring", ""), job_id
    code, out, err = run_cli("plan", "m.yaml", "--detailed-exitcode")
    assert code == 0, out + err


def test_cancel_of_a_parent_says_which_waiting_jobs_hpc_pack_cancels_with_it(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """`hpcspec cancel a` cancels a's job; HPC Pack then cancels b and c, which wait on it.
    The plan shown before the confirmation says so (it used to name a alone)."""
    (cli_env / "m.yaml").write_text(manifest("cancel-parent", "echo a"), encoding="utf-8")
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    before = jobs(cluster, "cancel-parent")
    code, out, err = run_cli("cancel", "m.yaml", "a", "--auto-approve")
    assert code == 0, out + err
    b, c = before["b"][0], before["c"][0]
    assert "HPC Pack also cancels the jobs that wait on it (dependsOn): " in out, out
    assert re.search(rf"b \(job {b}, \w+\), c \(job {c}, \w+\)", out), out
    code, out, err = run_cli("cancel", "m.yaml", "c", "--auto-approve")
    assert "wait on it" not in out, out  # nothing waits on c
    run_cli("destroy", "m.yaml", "--auto-approve")
