"""Cluster profiles at run time (issue 15 part 2): stored per context next to the contexts file,
loaded by the client; without one, the node endpoints and date format are detected on first use,
saved, and told once; error statuses a cluster uses for one kind of refusal classify its errors."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from hpcspec.config import ConfigError, load_profile, same_cluster, save_profile
from hpcspec.config.profiles import profile_path
from hpcspec.hpcpack import errors
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import UNKNOWN, ClusterProfile, NodeEndpoints
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions
from tests.conftest import Runner


def _client(running: Any, profile: ClusterProfile | None = None, **kw: Any) -> HpcPackClient:
    options = TransportOptions(running.url, credentials=Credentials(*running.admin))
    return HpcPackClient(Transport(options), profile=profile, **kw)


def test_each_context_has_its_own_profile_file_and_a_url_its_hashed_one(tmp_path: Path) -> None:
    one = profile_path(tmp_path, context="prod", url="https://head/hpc")
    two = profile_path(tmp_path, context="test", url="https://head/hpc")
    by_url = profile_path(tmp_path, context=None, url="https://Head:443/hpc/")
    assert one == tmp_path / "profiles" / "prod.json" and two != one
    assert by_url == profile_path(tmp_path, context=None, url="https://head/hpc")
    assert by_url is not None and by_url.name.startswith("url-head-")
    odd = profile_path(tmp_path, context="../../etc/passwd", url=None)
    assert odd is not None and odd.parent == tmp_path / "profiles"
    assert profile_path(tmp_path, context=None, url=None) is None


def test_a_saved_profile_round_trips_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "profiles" / "prod.json"
    profile = ClusterProfile(client_source_kept=False, node_endpoints=NodeEndpoints.CLUSTER)
    save_profile(path, profile)
    assert load_profile(path) == profile
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_profile(tmp_path / "profiles" / "absent.json") is None


def test_a_broken_profile_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "profiles" / "prod.json"
    path.parent.mkdir()
    path.write_text('{"format": 1, "node_endpoints": "sideways"}')
    with pytest.raises(ConfigError) as raised:
        load_profile(path)
    assert str(path) in str(raised.value.location) and "cluster check" in (raised.value.hint or "")


def test_a_profile_measured_elsewhere_does_not_describe_this_cluster() -> None:
    assert same_cluster("https://head/hpc", "https://HEAD:443/hpc/")
    assert not same_cluster("https://old/hpc", "https://head/hpc")
    assert same_cluster("", "https://head/hpc")  # hand-written: for whichever it is saved


def test_a_status_the_cluster_uses_for_one_refusal_only_classifies_it() -> None:
    aspnet = ClusterProfile(not_found_status=400, bad_value_status=500)
    statuses = aspnet.status_kinds()
    assert statuses[400] is errors.Kind.NOT_FOUND
    unknown = ("An error has occurred.",)
    assert errors.classify(400, unknown, statuses=statuses) is errors.Kind.NOT_FOUND
    # A 5xx is never a refusal by status alone: a crash after a write stays an unknown outcome.
    assert errors.classify(500, unknown, statuses=statuses) is errors.Kind.SERVER
    # Shared by two kinds, a status says nothing.
    shared = ClusterProfile(not_found_status=400, refused_by_state_status=400)
    assert 400 not in shared.status_kinds()


def test_without_a_profile_the_2019_node_endpoints_are_found_once_and_told(
    start_emulator: Any,
) -> None:
    running = start_emulator(profile=ClusterProfile(node_endpoints=NodeEndpoints.CLUSTER))
    told: list[tuple[ClusterProfile, str]] = []
    client = _client(running, learned=lambda p, note: told.append((p, note)))
    try:
        groups = [g.name for g in client.node_groups()]
        assert "ComputeNodes" in groups
        assert client.node_endpoints() is NodeEndpoints.CLUSTER
        members = client.node_group_members("ComputeNodes")
        assert members and set(members) <= set(client.node_names())
        assert client.node(client.node_names()[0]).text("NumCores")
    finally:
        client.close()
    notes = [note for _, note in told]
    assert notes == ["nodes are listed at /cluster/nodes* (HPC Pack 2019)"]
    assert told[0][0].knows("node_endpoints") and not told[0][0].knows("client_source_kept")


def test_with_a_profile_nothing_is_detected(start_emulator: Any) -> None:
    running = start_emulator()
    told: list[str] = []
    client = _client(running, profile=ClusterProfile(), learned=lambda p, n: told.append(n))
    try:
        assert client.node_groups() and client.time_format
    finally:
        client.close()
    assert told == []


def test_the_date_format_is_saved_without_a_warning(start_emulator: Any) -> None:
    running = start_emulator()
    told: list[tuple[ClusterProfile, str]] = []
    client = _client(running, profile=UNKNOWN, learned=lambda p, n: told.append((p, n)))
    try:
        assert client.time_format
    finally:
        client.close()
    assert [n for _, n in told] == [""] and told[0][0].knows("datetime_format")


@pytest.mark.slow
def test_the_cli_saves_what_it_detected_and_warns_once(
    start_emulator: Any, run_cli: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    running = start_emulator(profile=ClusterProfile(node_endpoints=NodeEndpoints.CLUSTER))
    monkeypatch.setenv("HPCSPEC_CLUSTER", running.url)
    monkeypatch.setenv("HPCSPEC_USERNAME", running.admin[0])
    monkeypatch.setenv("HPCSPEC_PASSWORD", running.admin[1])
    monkeypatch.setenv("HPCSPEC_CONFIG", str(tmp_path / "config.yaml"))
    code, out, err = run_cli("cluster", "info")
    assert code == 0, err
    assert "ComputeNodes" in out
    assert err.count("no cluster profile") == 1 and "/cluster/nodes" in err
    saved = list((tmp_path / "profiles").glob("url-*.json"))
    assert len(saved) == 1
    profile = load_profile(saved[0])
    assert profile is not None and profile.node_endpoints is NodeEndpoints.CLUSTER
    assert profile.source == running.url and not profile.checked_at
    code, out, err = run_cli("cluster", "info")
    assert code == 0 and "ComputeNodes" in out
    assert "no cluster profile" not in err
