"""A head node that leaves empty values out of its rows instead of sending `""`.

The references do not say what a row shows for a property asked for whose value is empty:
their examples list only properties that hold a value. hpcspec refuses a job listing row
without `Name`, `State` or `ClientSource` (skipping it could hide a job of the stack), so on
such a cluster every command that lists jobs would stop for good. `hpcspec cluster check`
tells that habit apart from a listing that drops values a job holds (`paging.identity-columns`)
and saves it in the profile; with it, a left-out `Name` or `ClientSource` is read as empty.
The emulator models the habit (`listing.omits_empty` in a profile, docs/emulator.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hpcspec.config import load_profile
from hpcspec.hpcpack import errors
from hpcspec.hpcpack.check import run_check
from hpcspec.hpcpack.check.cluster_probes import paging
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import UNKNOWN, ClusterProfile
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions
from tests.apply.paging import RePaged
from tests.conftest import Runner

OMITTING = ClusterProfile(listing_omits_empty=True)
MANIFEST = """\
apiVersion: hpcspec/v1
stack: sparse
jobs:
  first:
    properties: {Name: first}
    tasks: {t: {commandLine: 'echo one'}}
  second:
    properties: {Name: second, Project: ""}
    tasks: {t: {commandLine: 'echo two'}}
"""


def _client(running: Any, profile: ClusterProfile) -> HpcPackClient:
    options = TransportOptions(running.url, credentials=Credentials(*running.admin))
    return HpcPackClient(Transport(options), profile=profile)


def _identity_finding(client: HpcPackClient) -> tuple[Any, ClusterProfile]:
    report = run_check(client, probes=[("paging", paging)])
    found = {f.probe: f for f in report.findings}["paging.identity-columns"]
    return found, report.profile


def test_the_emulator_with_the_habit_leaves_empty_values_out_of_rows(start_emulator: Any) -> None:
    running = start_emulator(profile=OMITTING)
    client = _client(running, OMITTING)
    try:
        job_id = client.create_job({"Name": "theirs"})
        [row] = list(client.iter_jobs(properties=["Id", "Name", "ClientSource", "State"]))
        assert dict(row.items()) == {"Id": str(job_id), "Name": "theirs", "State": "Configuring"}
        assert "ClientSource" not in client.job_properties(job_id, ["Name", "ClientSource"])
    finally:
        client.close()


def test_without_the_measured_habit_such_a_row_is_refused_and_the_error_says_what_to_run(
    start_emulator: Any,
) -> None:
    running = start_emulator(profile=OMITTING)
    for profile in (UNKNOWN, ClusterProfile()):  # nothing known; measured as sending ""
        client = _client(running, profile)
        try:
            client.create_job({"Name": "theirs"})
            with pytest.raises(errors.BadResponse) as refused:
                list(client.list_jobs(client_source_prefix="hpcspec:", name_prefix="hpcspec:"))
        finally:
            client.close()
        assert refused.value.message.startswith("GET /jobs: the row of job 1 has no ClientSource")
        assert "leaves empty properties out" in (refused.value.hint or "")


def test_with_the_measured_habit_a_left_out_name_or_client_source_is_empty_but_state_is_not(
    start_emulator: Any,
) -> None:
    running = start_emulator(profile=OMITTING)
    client = _client(running, OMITTING)
    try:
        client.create_job({"Name": "theirs"})
        client.create_job({})  # neither Name nor ClientSource
        mine = client.create_job({"Name": "hpcspec:mine"})
        listed = client.list_jobs(client_source_prefix="hpcspec:", name_prefix="hpcspec:")
        assert [job.id for job in listed] == [mine]
        running.emulator.server.app = RePaged(running.emulator.server.app, 0, drop="State")
        with pytest.raises(errors.BadResponse) as refused:
            list(client.list_jobs(client_source_prefix="hpcspec:", name_prefix="hpcspec:"))
        assert "has no State" in refused.value.message
    finally:
        client.close()


def test_the_check_measures_the_habit_and_saves_it(start_emulator: Any) -> None:
    running = start_emulator(profile=OMITTING)
    client = _client(running, ClusterProfile())
    try:
        client.create_job({"Name": "theirs"})  # another tool's job: no ClientSource
        found, profile = _identity_finding(client)
    finally:
        client.close()
    assert found.outcome.value == "differs", found.evidence
    assert "is left out only where the job's value is empty" in found.evidence
    assert profile.knows("listing_omits_empty") and profile.listing_omits_empty


@pytest.mark.parametrize("held", ["hpcspec:marked", ""])
def test_the_check_does_not_adapt_to_a_listing_that_drops_a_value_a_job_holds(
    start_emulator: Any, held: str
) -> None:
    """A listing that leaves ClientSource out of every row (a proxy, say): with a job holding
    one, read by id, or with none holding one, the check's own job shows it (before this
    probe could adapt, the refusal was the only answer: it still is)."""
    running = start_emulator()
    client = _client(running, ClusterProfile())
    try:
        client.create_job({"Name": "theirs", "ClientSource": held} if held else {"Name": "x"})
        running.emulator.server.app = RePaged(running.emulator.server.app, 0, drop="ClientSource")
        found, profile = _identity_finding(client)
    finally:
        client.close()
    assert found.outcome.value == "differs", found.evidence
    expected = "job 1 holds ClientSource" if held else "-identity-columns', which its row leaves"
    assert expected in found.evidence, found.evidence
    assert found.evidence.endswith("every command that lists jobs refuses such a row")
    assert profile.knows("listing_omits_empty") and not profile.listing_omits_empty


def test_a_cluster_that_sends_empty_values_as_empty_text_is_measured_so(
    start_emulator: Any,
) -> None:
    running = start_emulator()
    client = _client(running, ClusterProfile())
    try:
        client.create_job({"Name": "theirs"})
        found, profile = _identity_finding(client)
    finally:
        client.close()
    assert found.outcome.value == "holds", found.evidence
    assert profile.knows("listing_omits_empty") and not profile.listing_omits_empty


@pytest.mark.slow  # the whole check, then applies, a plan and a destroy: ~4 s
def test_after_the_check_plan_apply_destroy_and_apply_again_work_with_one_job_per_key(
    start_emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run_cli: Runner
) -> None:
    running = start_emulator(profile=OMITTING)
    monkeypatch.setenv("HPCSPEC_CLUSTER", running.url)
    monkeypatch.setenv("HPCSPEC_USERNAME", running.admin[0])
    monkeypatch.setenv("HPCSPEC_PASSWORD", running.admin[1])
    monkeypatch.setenv("HPCSPEC_CONFIG", str(tmp_path / "config.yaml"))
    monkeypatch.setenv("HPCSPEC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    other = _client(running, OMITTING)
    try:
        other.create_job({"Name": "theirs"})  # another tool's job, listed with no ClientSource
    finally:
        other.close()
    code, out, err = run_cli("plan", "m.yaml")
    assert code != 0 and "has no ClientSource" in err and "cluster check" in err, out + err
    code, out, err = run_cli("cluster", "check", "-o", "json")
    findings = {f["probe"]: f for f in json.loads(out)["findings"]}
    assert findings["paging.identity-columns"]["result"] == "differs", err
    saved = load_profile(next((tmp_path / "profiles").glob("url-*.json")))
    assert saved is not None and saved.listing_omits_empty
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    code, out, err = run_cli("plan", "m.yaml")
    assert code == 0 and "No changes" in out, out + err
    code, out, err = run_cli("destroy", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    code, out, err = run_cli("status", "m.yaml", "-o", "json")
    assert code == 0, out + err
    check = _client(running, OMITTING)
    try:
        alive = [
            row.text("Name")
            for row in check.iter_jobs(properties=["Id", "Name", "State"])
            if row.text("State") not in ("Canceling", "Canceled", "Finished", "Failed")
            and not row.text("Name").startswith("hpcspec-check-")
        ]
    finally:
        check.close()
    assert sorted(alive) == ["first", "second", "theirs"], alive  # one job per key
