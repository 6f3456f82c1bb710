"""plan, apply, status and destroy against a job listing whose paging habits differ from the
emulator's (`paging.RePaged`; docs/cluster-check.md, "Listings").

What must hold whatever the continuation shows: plan never says "No changes" on a listing it
could not trust; apply never creates or submits a second job for a key; status is never green
for a job it did not see; destroy never reports done while a job of the stack is alive.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.hpcpack.client import HpcPackClient
from tests.apply.cli_process import point_cli_at
from tests.apply.paging import RePaged
from tests.apply.stacks import audit, patient_client
from tests.conftest import Runner

STACK = "paged"
KEYS = ["a", "b"]
MANIFEST = f"""apiVersion: hpcspec/v1
stack: {STACK}
jobs:
  a:
    tasks:
      t: {{commandLine: 'sleep:60'}}
  b:
    tasks:
      t: {{commandLine: 'sleep:60'}}
"""


@pytest.fixture
def cluster(
    start_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Any:
    """A private emulator with two unrelated jobs listed first, the CLI pointed at it."""
    running = start_emulator()
    point_cli_at(running, tmp_path, monkeypatch)
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    client = patient_client(running)
    try:
        for n in range(2):  # old jobs of someone else, lowest ids: the first page
            client.create_job({"Name": f"old-{n}"})
    finally:
        client.close()
    return running


def _jobs(running: Any) -> dict[str, list[dict[str, Any]]]:
    client: HpcPackClient = patient_client(running)
    try:
        return dict(audit(client, STACK, KEYS).jobs)
    finally:
        client.close()


def _alive(running: Any) -> dict[str, int]:
    return {k: sum(j["alive"] for j in jobs) for k, jobs in _jobs(running).items()}


@pytest.mark.slow
@pytest.mark.parametrize(
    "habit", [{"cycle": True}, {"shown_twice": True}, {"drop": "State"}, {"shout": True}]
)
def test_a_listing_that_cannot_show_each_job_once_stops_every_command(
    cluster: Any, run_cli: Runner, habit: dict[str, Any]
) -> None:
    """A continuation that restarts at the first page for ever, pages that show the row
    before them again, rows without State, Name and ClientSource in upper case (before: plan
    planned both keys anew, apply and destroy waited out --lock-timeout for a lock job the
    listing never showed): each command stops at once with an error naming the request —
    plan does not say "No changes", apply makes no job, status is not green, and destroy
    leaves the jobs it could not list alive instead of reporting done."""
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    before = _jobs(cluster)
    clean = cluster.emulator.server.app
    cluster.emulator.server.app = RePaged(clean, 2, **habit)
    for argv in (
        ("plan", "m.yaml", "--detailed-exitcode"),
        ("apply", "m.yaml", "--auto-approve"),
        ("status", "m.yaml"),
        ("destroy", "m.yaml", "--auto-approve"),
    ):
        code, out, err = run_cli(*argv)
        assert code not in (0, 2), (argv, code, out, err)
        assert "GET /jobs" in err, (argv, err)
        assert "No changes" not in out, (argv, out)
    cluster.emulator.server.app = clean
    assert {k: [j["id"] for j in jobs] for k, jobs in _jobs(cluster).items()} == {
        k: [j["id"] for j in jobs] for k, jobs in before.items()
    }
    assert _alive(cluster) == {"a": 1, "b": 1}


@pytest.mark.slow
def test_destroy_does_not_report_done_when_retention_hid_a_job_between_pages(
    cluster: Any, run_cli: Runner
) -> None:
    """Jobs deleted between two pages move every later row up, so the job a page would have
    started with is never shown: no pass of the listing can see that. Destroy lists the stack
    again after its cancels and does not report done while a job of it is alive."""
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    clean = cluster.emulator.server.app
    paged = RePaged(clean, 2, retention=1)
    cluster.emulator.server.app = paged
    code, out, err = run_cli("destroy", "m.yaml", "--auto-approve")
    assert paged.deleted, "the habit did not fire"
    left = [k for k, n in _alive(cluster).items() if n]
    assert left, "the retention sweep hid no job of the stack: the test proves nothing"
    assert code != 0, (out, err)
    assert "still alive" in err and all(f"{k!r}" in err for k in left), err
    assert run_cli("destroy", "m.yaml", "--auto-approve")[0] == 0
    assert _alive(cluster) == {"a": 0, "b": 0}


@pytest.mark.slow
@pytest.mark.parametrize(("command", "listing"), [("apply", 1), ("apply", 2), ("status", 1)])
def test_a_job_retention_hid_between_pages_is_never_run_twice_nor_reported_green(
    cluster: Any, run_cli: Runner, command: str, listing: int
) -> None:
    """The same hidden job, for apply (with the plan's listing hit, the plan creates the key
    again — a plan no pass can correct — and the race check's own listing shows the first job,
    so the new one is cancelled before it is ever submitted) and for status (the key is shown
    absent, not green; plain `status` exits 0 by design)."""
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    clean = cluster.emulator.server.app
    paged = RePaged(clean, 2, retention=listing)
    cluster.emulator.server.app = paged
    code, out, err = run_cli(command, "m.yaml", *(["--auto-approve"] if command == "apply" else []))
    cluster.emulator.server.app = clean
    assert paged.deleted, "the habit did not fire"
    client = patient_client(cluster)
    try:
        found = audit(client, STACK, KEYS)
    finally:
        client.close()
    assert found.submitted_twice() == [] and found.two_alive() == [], found.jobs
    assert sorted(found.jobs) == KEYS and all(len(jobs) <= 2 for jobs in found.jobs.values())
    if command == "status":  # the hidden key is shown absent: never green
        hidden = [line.split()[0] for line in out.splitlines() if "absent" in line]
        assert hidden and all(found.jobs[key][0]["alive"] for key in hidden), out
    else:  # listing 2 is the plan's: it creates `a` again, and the race check cancels it
        assert code == 0 and (listing == 1 or "was cancelled" in out), (out, err)


@pytest.mark.slow
@pytest.mark.parametrize("start", [2, 5, 7])  # before the plan, the race check, the recheck
def test_an_apply_whose_later_listing_cannot_be_trusted_submits_nothing_twice(
    cluster: Any, run_cli: Runner, start: int
) -> None:
    """From the listing before the plan, the race check before the submits (listing 5 of a
    two-key apply) or the recheck after them (7), listings show a row twice: apply stops
    naming the request, submits no job whose race check could not conclude, and the next
    apply on a clean listing ends with one job a key, each submitted once."""
    clean = cluster.emulator.server.app
    paged = RePaged(clean, 2, shown_twice=True, start=start)
    cluster.emulator.server.app = paged
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    cluster.emulator.server.app = clean
    assert paged.listings >= start, "the habit never started"
    assert code != 0 and "GET /jobs" in out + err, (code, out, err)
    assert all(sum(j["submitted"] for j in jobs) <= 1 for jobs in _jobs(cluster).values())
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    jobs = _jobs(cluster)
    assert sorted(jobs) == KEYS and _alive(cluster) == {"a": 1, "b": 1}, jobs
    assert all(sum(j["submitted"] for j in js) == 1 for js in jobs.values()), jobs


@pytest.mark.slow
@pytest.mark.parametrize("by", ["manifest", "stack"])
def test_destroys_check_passes_over_a_forgotten_job_it_must_not_cancel(
    cluster: Any, run_cli: Runner, tmp_path: Path, by: str
) -> None:
    """The listing after destroy's cancels reads the key of an alive job it cannot place
    (`--stack`: every job) before it calls the destroy not done: a job `hpcspec forget` let
    go of is no longer the stack's, left alive, and the destroy is done."""
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    (tmp_path / "m.yaml").write_text(MANIFEST.split("  b:")[0], encoding="utf-8")
    assert run_cli("forget", "m.yaml", "b")[0] == 0
    where = ["m.yaml"] if by == "manifest" else ["--stack", STACK]
    code, out, err = run_cli("destroy", *where, "--auto-approve")
    assert code == 0, out + err
    jobs = _jobs(cluster)
    assert not jobs["a"][0]["alive"] and jobs["b"][0]["alive"], jobs
