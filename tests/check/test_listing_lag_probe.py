"""The `listing-lag` probe of `hpcspec cluster check` (docs/cluster-check.md): how long after its
create's answer a new job is in `GET /jobs`, which the references do not say. On a server
whose listing is a read replica 150 ms behind it reports the lag, and the profile carries it;
on the emulator it records 0. The other probes that read a listing wait for it too.
"""

from __future__ import annotations

from typing import Any

import pytest

from hpcspec.hpcpack.check import Outcome, job_probes, run_check
from hpcspec.hpcpack.check.cluster_probes import LAG_SAMPLES, listing_lag
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import ClusterProfile
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions
from tests.apply.lagging import LaggingListing

PROBE = (("listing-lag", listing_lag),)


def _check(running: Any) -> Any:
    options = TransportOptions(running.url, credentials=Credentials(*running.admin))
    client = HpcPackClient(Transport(options), profile=ClusterProfile())
    try:
        return run_check(client, probes=PROBE)
    finally:
        client.close()


def test_a_listing_150_ms_behind_its_writes_is_measured_and_the_profile_keeps_it(
    start_emulator: Any,
) -> None:
    running = start_emulator()
    # 150 ms: a loaded test machine can take 30 ms between a create and its listing,
    # and would never see a shorter lag.
    replica = LaggingListing(running.emulator.server.app, 0.15)
    running.emulator.server.app = replica
    report = _check(running)
    [finding] = report.findings
    assert finding.outcome is Outcome.DIFFERS, finding
    assert "missing from" in finding.evidence and "listing.lag_ms" in finding.evidence
    lag = report.profile.listing_lag_ms
    assert 150 <= lag < 1000 and report.profile.knows("listing_lag_ms")
    assert ClusterProfile.from_json(report.profile.to_json()).listing_lag_ms == lag
    assert report.as_dict()["profile"]["listing"]["lag_ms"] == lag
    # Its throwaway jobs were never submitted, and are cancelled.
    assert len(report.jobs) == LAG_SAMPLES and set(report.jobs.values()) == {"Canceled"}


def test_a_cluster_that_lists_a_new_job_at_once_records_0(start_emulator: Any) -> None:
    report = _check(start_emulator())
    [finding] = report.findings
    assert finding.outcome is Outcome.HOLDS, finding
    assert report.profile.listing_lag_ms == 0 and report.profile.knows("listing_lag_ms")


@pytest.mark.slow
def test_a_lagging_listing_is_not_taken_for_a_listing_without_client_source(
    start_emulator: Any,
) -> None:
    """The client-source probe reads its job's ClientSource from a listing: one that does not
    show the job yet says nothing of ClientSource. Before: the job's absence read as an empty
    ClientSource, `client-source.listing` differed and the profile said the cluster does not
    keep ClientSource (so every apply took the slow path of custom properties)."""
    running = start_emulator()
    running.emulator.server.app = LaggingListing(running.emulator.server.app, 1.5)
    options = TransportOptions(running.url, credentials=Credentials(*running.admin))
    client = HpcPackClient(Transport(options), profile=ClusterProfile())
    try:
        report = run_check(client, probes=(("client-source", job_probes.client_source),))
    finally:
        client.close()
    results = {f.probe: f.outcome for f in report.findings}
    assert results["client-source.listing"] is Outcome.HOLDS, report.findings
    assert report.profile.client_source_kept
