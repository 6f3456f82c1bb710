"""A cluster that stamps its own ClientSource and answers with ASP.NET error bodies (issue 15,
"Done when"): `apply` twice creates exactly one job per key — hpcspec notices at the first
create that the marker was not kept, saves that in the cluster's profile, and finds its jobs by
their custom properties from then on (`engine/custom_identity.py`), a cached job identity
sparing the reads of other stacks' jobs — and every error keeps the server's own message."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from hpcspec.config import load_identities, load_profile
from hpcspec.emulator import state_machine
from hpcspec.emulator.faults import FaultPlan, FaultRule
from hpcspec.emulator.store import Store
from hpcspec.engine.identity import client_source_marker
from hpcspec.hpcpack import errors
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import ClusterProfile, ErrorStyle
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions
from tests.conftest import Runner

STAMPING = ClusterProfile(
    client_source_kept=False, client_source_stamp="HPC Job Manager", error_style=ErrorStyle.ASPNET
)
MANIFEST = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  first:
    properties: {{Name: first}}
    tasks: {{t: {{commandLine: 'echo one'}}}}
  second:
    properties: {{Name: second}}
    tasks: {{t: {{commandLine: 'echo two'}}}}
"""


@pytest.fixture
def stamping(start_emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    running = start_emulator(profile=STAMPING)
    monkeypatch.setenv("HPCSPEC_CLUSTER", running.url)
    monkeypatch.setenv("HPCSPEC_USERNAME", running.user[0])
    monkeypatch.setenv("HPCSPEC_PASSWORD", running.user[1])
    monkeypatch.setenv("HPCSPEC_CONFIG", str(tmp_path / "config.yaml"))
    monkeypatch.chdir(tmp_path)
    return running


def _client(running: Any) -> HpcPackClient:
    options = TransportOptions(running.url, credentials=Credentials(*running.admin))
    return HpcPackClient(Transport(options), profile=STAMPING)


def _jobs_by_name(running: Any) -> dict[str, int]:
    client = _client(running)
    try:
        names: dict[str, int] = {}
        for row in client.iter_jobs(properties=["Id", "Name", "State", "ClientSource"]):
            assert row.text("ClientSource") == "HPC Job Manager"  # the server's, not ours
            if row.text("State") != "Canceled":
                names[row.text("Name")] = names.get(row.text("Name"), 0) + 1
        return names
    finally:
        client.close()


@pytest.mark.slow  # two applies and a plan against a private emulator: ~3 s
def test_apply_twice_creates_one_job_per_key_where_client_source_is_not_kept(
    stamping: Any, run_cli: Runner, tmp_path: Path
) -> None:
    (tmp_path / "m.yaml").write_text(MANIFEST.format(stack="stamped"), encoding="utf-8")
    (tmp_path / "other.yaml").write_text(MANIFEST.format(stack="other"), encoding="utf-8")
    code, out, err = run_cli("apply", "other.yaml", "--auto-approve")
    assert code == 0, out + err
    # Found at the first create, told once, and saved in the cluster's profile.
    assert err.count("replaces the ClientSource") == 1, err
    saved = load_profile(next((tmp_path / "profiles").glob("url-*.json")))
    assert saved is not None and not saved.client_source_kept
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert "replaces the ClientSource" not in err
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert "No changes" in out, out
    assert _jobs_by_name(stamping) == {"first": 2, "second": 2}  # one per key of each stack
    # The other stack's jobs are known by id now: a plan does not read them again.
    identities = load_identities(stamping.url)
    assert sorted(v[0] for v in identities.values() if v) == ["other"] * 2 + ["stamped"] * 2
    code, out, err = run_cli("plan", "m.yaml", "--output", "json")
    assert code == 0, out + err
    document = json.loads(out)
    assert document["has_changes"] is False and document["summary"]["create"] == 0, document


@pytest.mark.slow  # an apply, a plan and a destroy against a private emulator: ~3 s
def test_a_runner_without_a_profile_finds_the_jobs_another_runner_made(
    stamping: Any, run_cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh CI runner (no profile, no identity cache) on a cluster that replaces
    ClientSource: its plan must not take the stack's marked jobs for missing (a plan to create
    them again), nor its destroy find nothing to cancel."""
    (tmp_path / "m.yaml").write_text(MANIFEST.format(stack="stamped"), encoding="utf-8")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    fresh = tmp_path / "fresh"
    monkeypatch.setenv("HPCSPEC_CONFIG", str(fresh / "config.yaml"))
    monkeypatch.setenv("HPCSPEC_STATE_DIR", str(fresh / "state"))
    code, out, err = run_cli("plan", "m.yaml", "--output", "json")
    assert code == 0, out + err
    document = json.loads(out)
    assert document["has_changes"] is False, document["summary"]
    code, out, err = run_cli("destroy", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    # (the two creates ran at once: either may have got the lower id)
    cancelled = re.findall(r"^(\w+) \(job \d+\): cancelled$", out, re.MULTILINE)
    assert sorted(cancelled) == ["first", "second"], out
    for path in (fresh / "profiles").glob("*.json"):  # what it saved (the date format) is true
        saved = load_profile(path)
        assert saved is not None
        assert not saved.knows("client_source_kept") or not saved.client_source_kept


@pytest.mark.slow  # two applies against a private emulator: ~1.5 s
def test_a_marker_left_from_before_the_cluster_replaced_client_source_misleads_no_apply(
    start_emulator: Any, run_cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job another user's hpcspec marked while the server still kept ClientSource (before
    an upgrade, say) keeps its marker: a listing that shows it proves nothing about what the
    server does now. The first marker write's read-back must still decide (and be saved), so
    a second apply finds the stack's jobs by their tags rather than create them again."""
    db = tmp_path / "upgraded.db"
    store = Store(db)
    old = state_machine.new_job(1, "HPC\\bob", time.time())
    old.props.update(
        Name="old", State="Finished", ClientSource=client_source_marker("older", "k", "d" * 16)
    )
    store.insert_jobs([old])
    store.close()
    running = start_emulator(db=db, profile=STAMPING)
    monkeypatch.setenv("HPCSPEC_CLUSTER", running.url)
    monkeypatch.setenv("HPCSPEC_USERNAME", running.user[0])
    monkeypatch.setenv("HPCSPEC_PASSWORD", running.user[1])
    monkeypatch.setenv("HPCSPEC_CONFIG", str(tmp_path / "config.yaml"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST.format(stack="stamped"), encoding="utf-8")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert err.count("replaces the ClientSource") == 1, err
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert "No changes" in out, out
    client = _client(running)
    try:
        rows = list(client.iter_jobs(properties=["Id", "Name", "State"]))
    finally:
        client.close()
    alive = sorted(r.text("Name") for r in rows if r.text("State") not in ("Canceled", "Finished"))
    assert alive == ["first", "second"], rows


# The read-back of one job (`GET /hpc/jobs/{id}`, ids below 100), slowed so that the first
# marker write's read of whether ClientSource is kept is in flight while the others are sent.
SLOW_READS = FaultPlan(
    tuple(
        FaultRule(match=f"GET /hpc/jobs/{digits}", latency_ms=400)
        for digits in ("[0-9]", "[0-9][0-9]")
    )
)


@pytest.mark.slow  # two applies of 12 jobs and a plan against a private emulator: ~5 s
def test_marks_sent_during_the_read_neither_duplicate_nor_lose_a_job(
    start_emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run_cli: Runner
) -> None:
    """Without a profile, on a cluster that replaces ClientSource, the marks sent while the
    first mark's read is in flight go on without its answer; the race check's listing waits
    for it, and must then find every marked job by its tags: one job per key, and a second
    apply changes nothing."""
    running = start_emulator(profile=STAMPING, faults=SLOW_READS)
    # Alone, an applier's guessing listing would go unseen (its own marked jobs missing from
    # the race check's listing still count as its own), so the listings are watched: none
    # sent after the read-back was may list marked jobs by ClientSource (no `owner`).
    listings: list[tuple[float, bool]] = []  # (sent at, the custom-property way)
    read_back: list[float] = []
    send = Transport.request

    def watched(self: Transport, method: str, path: str, **kwargs: Any) -> Any:
        params = kwargs.get("params") or {}
        if method == "GET" and path == "/jobs":
            listings.append((time.monotonic(), bool(params.get("owner"))))
        elif method == "GET" and str(params.get("properties")).startswith("ClientSource"):
            read_back.append(time.monotonic())
        return send(self, method, path, **kwargs)

    monkeypatch.setattr(Transport, "request", watched)
    monkeypatch.setenv("HPCSPEC_CLUSTER", running.url)
    monkeypatch.setenv("HPCSPEC_USERNAME", running.user[0])
    monkeypatch.setenv("HPCSPEC_PASSWORD", running.user[1])
    monkeypatch.setenv("HPCSPEC_CONFIG", str(tmp_path / "config.yaml"))
    monkeypatch.chdir(tmp_path)
    lines = ["apiVersion: hpcspec/v1", "stack: wide", "jobs:"]
    for n in range(12):
        lines += [f"  k{n}:", f"    properties: {{Name: k{n}}}", "    tasks:"]
        lines += [f"      t: {{commandLine: 'echo {n}'}}"]
    (tmp_path / "m.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--parallelism", "8")
    assert code == 0, out + err
    assert err.count("replaces the ClientSource") == 1, err
    assert len(read_back) == 1, read_back
    after = [by_tags for sent, by_tags in listings if sent > read_back[0]]
    assert after and all(after), f"race-check listings by ClientSource: {after}"
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert "No changes" in out, out
    assert _jobs_by_name(running) == {f"k{n}": 1 for n in range(12)}


def test_every_aspnet_error_keeps_the_servers_message(start_emulator: Any) -> None:
    client = _client(start_emulator(profile=STAMPING))
    try:
        job_id = client.create_job({"Name": "doomed"})
        with pytest.raises(errors.NotFound) as missing:
            client.job_properties(2_000_000_000)
        with pytest.raises(errors.BadRequest) as bad:
            client.transport.request(
                "PUT", f"/jobs/{job_id}", body=[{"Name": "Priority", "Value": "Sideways"}]
            )
        client.cancel_job(job_id)
        with pytest.raises(errors.RefusedByState) as refused:
            client.set_job(job_id, {"Name": "renamed"})
    finally:
        client.close()
    for raised in (missing, bad, refused):
        assert raised.value.body_shape == "aspnet"
        message = raised.value.scheduler_message
        assert message and message != "An error has occurred.", message
        assert message in str(raised.value)
