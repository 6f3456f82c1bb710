"""`hpcspec apply plan.json` applies exactly the reviewed plan; a stale entry is refused alone.

DESIGN.md §3: a job whose State or ChangeTime moved since the plan was made is refused with a
`stale-plan` block and exit code 4; the plan's other changes are applied.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hpcspec.engine.discovery import list_stack
from tests.conftest import Runner
from tests.engine.conftest import client_for

# j1 is submitted during the test; held, it stays Queued instead of running through
# Finishing while the apply and the plan read it (a flake under load).
HOLD = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


def manifest(path: Path, stack: str, priority: str) -> None:
    jobs = "".join(
        f"  j{n}:\n    state: configuring\n    properties: {{Name: {stack}-j{n}, "
        f"Priority: {priority}{f', HoldUntil: {HOLD}' if n == 1 else ''}}}\n"
        f"    tasks:\n      t: {{commandLine: 'echo {n}'}}\n"
        for n in range(3)
    )
    path.write_text(f"apiVersion: hpcspec/v1\nstack: {stack}\njobs:\n{jobs}", encoding="utf-8")


def live(cluster: Any, stack: str) -> dict[str, tuple[int, str]]:
    client = client_for(cluster)
    try:
        by_key = list_stack(client, stack, ["j0", "j1", "j2"]).by_key
        out = {}
        for key, jobs in by_key.items():
            job = max(jobs, key=lambda j: j.id)
            out[key] = (job.id, client.job_properties(job.id).get("Priority", ""))
        return out
    finally:
        client.close()


def test_saved_plan_applies_what_was_reviewed_and_refuses_the_stale_job_only(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    path = cli_env / "m.yaml"
    manifest(path, "saved", "Normal")
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    before = live(cluster, "saved")
    manifest(path, "saved", "Highest")
    code, out, err = run_cli("plan", "m.yaml", "--out", "plan.json")
    assert code == 0, out + err
    saved = json.loads((cli_env / "plan.json").read_text())
    assert "Highest" in json.dumps(saved)
    manifest(path, "saved", "Normal")  # edits after the review are not applied…
    code, out, err = run_cli("apply", "plan.json", "--auto-approve")
    assert code == 4, out + err  # …the manifest no longer matches what was reviewed
    assert live(cluster, "saved") == before
    manifest(path, "saved", "Highest")
    client = client_for(cluster)
    client.submit_job(before["j1"][0], {})  # a state change after the review
    client.close()
    code, out, err = run_cli("apply", "plan.json", "--auto-approve")
    assert code == 4, out + err
    assert "stale" in out + err and "j1" in out + err
    after = live(cluster, "saved")
    assert after["j0"] == (before["j0"][0], "Highest")
    assert after["j2"] == (before["j2"][0], "Highest")
    assert after["j1"] == before["j1"]  # refused: nothing done to it
    client = client_for(cluster)
    state = client.job_properties(before["j1"][0], ["State"]).text("State")
    assert state in {"Submitted", "Validating", "Queued"}, state  # held: it never ran
    client.close()
    code, out, err = run_cli("plan", "m.yaml", "--detailed-exitcode")
    assert code == 2 and "j1" in out and "j0:" not in out, out
