"""Learning, without a cluster profile, whether the cluster keeps the ClientSource hpcspec
writes (`hpcpack/client/client_source.py`), against servers whose habits the references do not
describe: one that keeps the marker a PUT writes but replaces it when the job is submitted
(`StampedAt.SUBMIT`). What the first apply of a fresh user learns and saves must let the next
apply find every job it made."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from hpcspec.config import load_profile, save_profile
from hpcspec.config.profiles import profile_path
from hpcspec.emulator import Timings
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import UNKNOWN, ClusterProfile, StampedAt
from hpcspec.hpcpack.transport import Credentials, Reply, Transport, TransportOptions
from tests.conftest import Runner

STAMP = "HPC Scheduler"
SUBMIT_STAMPING = ClusterProfile(
    client_source_kept=False, client_source_stamp=STAMP, client_source_stamped_at=StampedAt.SUBMIT
)
MANIFEST = """\
apiVersion: hpcspec/v1
stack: learning
jobs:
  first:
    properties: {Name: first}
    tasks: {t: {commandLine: 'echo one'}}
  second:
    properties: {Name: second}
    tasks: {t: {commandLine: 'echo two'}}
"""


@pytest.fixture
def fresh_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A user who never talked to the cluster: no profile, no identity cache."""
    monkeypatch.setenv("HPCSPEC_CONFIG", str(tmp_path / "config" / "config.yaml"))
    monkeypatch.setenv("HPCSPEC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    return tmp_path


def _serve(start_emulator: Any, monkeypatch: pytest.MonkeyPatch, profile: ClusterProfile) -> Any:
    running = start_emulator(profile=profile, timings=Timings(tick=0.05, simulate=0.1))
    monkeypatch.setenv("HPCSPEC_CLUSTER", running.url)
    monkeypatch.setenv("HPCSPEC_USERNAME", running.user[0])
    monkeypatch.setenv("HPCSPEC_PASSWORD", running.user[1])
    return running


class StaleOnce:
    """Patches `Transport.request` so that the first read of a job after a PUT of its
    ClientSource answers as a replica behind the primary would: the job as it was before
    that PUT (once; every other request goes through). `listings` records each job listing
    (whether it was by owner: the slow way of a cluster that does not keep ClientSource)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.served: list[str] = []
        self.listings: list[bool] = []
        self.armed = threading.Lock()  # taken by the one stale read
        self._before: dict[str, Reply] = {}
        send = Transport.request

        def request(transport: Transport, method: str, path: str, **kwargs: Any) -> Reply:
            params = kwargs.get("params") or {}
            if method == "GET" and path == "/jobs":
                self.listings.append(bool(params.get("owner")))
            if method == "PUT" and "ClientSource" in str(kwargs.get("body")):
                before = {"properties": "ClientSource,Name,State"}
                self._before[path] = send(transport, "GET", path, params=before)
            elif (
                method == "GET"
                and path in self._before
                and "ClientSource" in str(params)
                and self.armed.acquire(blocking=False)
            ):
                self.served.append(path)
                return self._before[path]
            return send(transport, method, path, **kwargs)

        monkeypatch.setattr(Transport, "request", request)


def _alive_by_name(running: Any) -> dict[str, int]:
    options = TransportOptions(running.url, credentials=Credentials(*running.admin))
    client = HpcPackClient(Transport(options), profile=ClusterProfile())
    try:
        names: dict[str, int] = {}
        for row in client.iter_jobs(properties=["Id", "Name", "State"]):
            if row.text("State") not in ("Canceled", "Canceling"):
                names[row.text("Name")] = names.get(row.text("Name"), 0) + 1
        return names
    finally:
        client.close()


@pytest.mark.slow  # two applies against a private emulator: ~1.5 s
def test_a_server_that_replaces_client_source_at_submit_gets_no_duplicates_from_a_second_apply(
    start_emulator: Any, monkeypatch: pytest.MonkeyPatch, fresh_user: Path, run_cli: Runner
) -> None:
    running = _serve(start_emulator, monkeypatch, SUBMIT_STAMPING)
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert err.count("replaces the ClientSource") == 1, err
    saved = load_profile(next((fresh_user / "config" / "profiles").glob("url-*.json")))
    assert saved is not None and saved.knows("client_source_kept")
    assert not saved.client_source_kept and saved.client_source_stamp == STAMP
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert "No changes" in out, out
    assert _alive_by_name(running) == {"first": 1, "second": 1}


@pytest.mark.slow  # two applies against a private emulator: ~1.5 s
def test_a_cluster_that_keeps_client_source_is_saved_as_keeping_it_after_the_first_submit(
    start_emulator: Any, monkeypatch: pytest.MonkeyPatch, fresh_user: Path, run_cli: Runner
) -> None:
    running = _serve(start_emulator, monkeypatch, ClusterProfile())
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert "replaces the ClientSource" not in err, err
    saved = load_profile(next((fresh_user / "config" / "profiles").glob("url-*.json")))
    assert saved is not None and saved.knows("client_source_kept") and saved.client_source_kept
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert "No changes" in out, out
    assert _alive_by_name(running) == {"first": 1, "second": 1}


@pytest.mark.slow  # two applies against a private emulator: ~1.5 s
def test_one_stale_read_back_of_the_first_mark_saves_no_replaced_client_source(
    start_emulator: Any, monkeypatch: pytest.MonkeyPatch, fresh_user: Path, run_cli: Runner
) -> None:
    """A read replica behind the primary shows the first marked job as it was before the
    mark: that must not be saved as "the cluster replaces ClientSource" (every later command
    would then read each job's custom properties)."""
    running = _serve(start_emulator, monkeypatch, ClusterProfile())
    stale = StaleOnce(monkeypatch)
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert len(stale.served) == 1, "the wrapper served its stale read"
    assert "replaces the ClientSource" not in err, err
    saved = load_profile(next((fresh_user / "config" / "profiles").glob("url-*.json")))
    assert saved is not None and saved.knows("client_source_kept") and saved.client_source_kept
    stale.listings.clear()
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert "No changes" in out, out
    assert stale.listings and not any(stale.listings), "listed by owner: the slow way"
    assert _alive_by_name(running) == {"first": 1, "second": 1}


@pytest.mark.slow  # an apply and a plan against a private emulator: ~1.2 s
def test_a_fresh_runner_is_not_misled_by_a_marker_on_a_job_never_submitted(
    start_emulator: Any, monkeypatch: pytest.MonkeyPatch, fresh_user: Path, run_cli: Runner
) -> None:
    """Where the server replaces ClientSource at submit, a job never submitted (an apply
    killed before its submit, a race loser cancelled) still shows its marker: a fresh
    runner's plan must not take that as "markers are kept" and miss the stack's submitted
    jobs (a plan to create them all again)."""
    running = _serve(start_emulator, monkeypatch, SUBMIT_STAMPING)
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    options = TransportOptions(running.url, credentials=Credentials(*running.user))
    other = HpcPackClient(Transport(options), profile=SUBMIT_STAMPING)
    try:  # another stack's jobs, marked and never submitted: one cancelled, one Configuring
        for name in ("cancelled", "left"):
            job_id = other.create_job({"Name": name})
            other.set_job(job_id, {"ClientSource": "hpcspec:0123456789abcdef:" + "0" * 16})
        other.cancel_job(job_id - 1)
    finally:
        other.close()
    monkeypatch.setenv("HPCSPEC_CONFIG", str(fresh_user / "fresh" / "config.yaml"))
    monkeypatch.setenv("HPCSPEC_STATE_DIR", str(fresh_user / "fresh" / "state"))
    code, out, err = run_cli("plan", "m.yaml", "--detailed-exitcode")
    assert code == 0, out + err  # 2: changes (the stack's jobs taken for missing)


@pytest.mark.slow  # an apply and a plan against a private emulator: ~1.2 s
def test_a_wrongly_saved_replaced_client_source_is_corrected_by_a_listing_of_our_marker(
    start_emulator: Any, monkeypatch: pytest.MonkeyPatch, fresh_user: Path, run_cli: Runner
) -> None:
    """A profile that an earlier hpcspec saved from a stale read ("replaced", with the stamp
    it never had): an apply's listing that shows a job it marked, submitted, with the very
    marker it wrote proves the opposite, and saves it, so later commands list by marker."""
    running = _serve(start_emulator, monkeypatch, ClusterProfile())
    stale = StaleOnce(monkeypatch)
    stale.armed.acquire()  # no stale reads here: only the listings are watched
    path = profile_path(fresh_user / "config", context=None, url=running.url)
    assert path is not None
    bogus = UNKNOWN.learned(client_source_kept=False, client_source_stamp="")
    save_profile(path, bogus.with_changes(source=running.url))
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert "keeps ClientSource after all" in err, err
    saved = load_profile(path)
    assert saved is not None and saved.knows("client_source_kept") and saved.client_source_kept
    stale.listings.clear()
    code, out, err = run_cli("plan", "m.yaml", "--detailed-exitcode")
    assert code == 0, out + err
    assert stale.listings and not any(stale.listings), "listed by owner: the slow way"
