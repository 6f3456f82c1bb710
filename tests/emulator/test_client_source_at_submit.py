"""A server that keeps the ClientSource a client writes until the job is submitted, and puts
its own there at submit (`client_source.at: submit` in a profile; the references are silent
on when a server that does not keep it replaces it): the emulator reproduces it, and `hpcspec
cluster check` tells it from a server that replaces it at every write."""

from __future__ import annotations

from typing import Any

import pytest

from hpcspec.hpcpack.check import job_probes, run_check
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import ClusterProfile, ProfileError, StampedAt
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions
from tests.emulator.helpers import Api, pairs, rows

AT_SUBMIT = ClusterProfile(
    client_source_kept=False,
    client_source_stamp="HpcScheduler",
    client_source_stamped_at=StampedAt.SUBMIT,
)


def test_the_marker_survives_create_and_put_and_is_replaced_by_the_submit(
    start_emulator: Any,
) -> None:
    api = Api(start_emulator(profile=AT_SUBMIT))
    job = api.create_job(Name="a", ClientSource="hpcspec:create")
    assert api.job(job, "ClientSource") == {"ClientSource": "hpcspec:create"}
    api.ok("PUT", f"/jobs/{job}", json=pairs({"ClientSource": "hpcspec:put"}))
    assert api.job(job, "ClientSource") == {"ClientSource": "hpcspec:put"}
    api.ok("POST", f"/jobs/{job}/tasks", json=pairs({"CommandLine": "echo"}))
    api.ok("POST", f"/jobs/{job}/submit", json=[])
    assert api.job(job, "ClientSource") == {"ClientSource": "HpcScheduler"}
    listed = rows(api.ok("GET", "/jobs", params={"properties": "Id,ClientSource"}))
    assert {r["Id"]: r["ClientSource"] for r in listed} == {str(job): "HpcScheduler"}


@pytest.mark.parametrize(
    ("at", "differs"),
    [
        (StampedAt.SUBMIT, {"client-source.after-submit", "client-source.listing"}),
        (StampedAt.WRITE, {"client-source.rest-create", "client-source.xml-then-put",
                           "client-source.after-submit", "client-source.listing"}),
    ],
)  # fmt: skip
def test_the_check_records_when_the_server_replaces_client_source(
    start_emulator: Any, at: StampedAt, differs: set[str]
) -> None:
    profile = AT_SUBMIT.with_changes(client_source_stamped_at=at)
    running = start_emulator(profile=profile)
    options = TransportOptions(running.url, credentials=Credentials(*running.admin))
    client = HpcPackClient(Transport(options), profile=ClusterProfile())
    try:
        report = run_check(client, probes=[("client-source", job_probes.client_source)])
    finally:
        client.close()
    assert {f.probe for f in report.findings if f.outcome.value == "differs"} == differs
    measured = report.profile
    assert not measured.client_source_kept and measured.client_source_stamp == "HpcScheduler"
    assert measured.client_source_stamped_at is at and measured.knows("client_source_stamped_at")


def test_a_profile_file_names_when_client_source_is_replaced() -> None:
    text = '{"client_source": {"kept": false, "stamp": "HPC", "at": "submit"}}'
    profile = ClusterProfile.from_json(text)
    assert profile.client_source_stamped_at is StampedAt.SUBMIT
    assert ClusterProfile.from_json(profile.to_json()) == profile
    assert (
        ClusterProfile.from_json('{"client_source": {"kept": false}}').client_source_stamped_at
        is StampedAt.WRITE
    )  # a file written before `at` existed: every write
    with pytest.raises(ProfileError, match=r"client_source\.at: 'later' is not one of write"):
        ClusterProfile.from_json('{"client_source": {"at": "later"}}')
