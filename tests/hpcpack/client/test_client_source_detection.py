"""Detecting whether the cluster keeps ClientSource, without a profile (`client/
client_source.py`, `settle_client_source`): one read after the first marker write; writes
sent while it is in flight do not wait for it, and a listing after them does (so it lists the
jobs they marked the way the cluster keeps them); a failed read is made good by the next
listing, which reads a job written meanwhile. (Reads that show a stale job, and the read after
the first submit: `test_client_source_learning.py`.)"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses

from hpcspec.engine.custom_identity import client_source_kept
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import UNKNOWN
from tests.hpcpack.client.conftest import BASE, FakeTime, make_client, props

WAIT = 10.0  # seconds a step may take before the test calls it stuck


@pytest.fixture
def unprofiled(fake_time: FakeTime) -> HpcPackClient:
    client = make_client(fake_time)
    client.profile = UNKNOWN  # nothing known: ClientSource is detected on first use
    return client


class GatedReads:
    """`GET /jobs/{id}` answers the ClientSource job N carries (`kept`), each read of job 1
    held until `release` is set (or failed with a 503 when `fail_first`)."""

    def __init__(self, mocked: responses.RequestsMock, kept: Callable[[int], str]) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.fail_first = False  # every read of job 1 answers 503 (retried, then failed)
        self.reads: list[int] = []
        self._kept = kept
        mocked.add_callback(responses.PUT, _job_url(), callback=lambda _: (200, {}, ""))
        mocked.add_callback(responses.GET, _job_url(), callback=self._read)

    def _read(self, request: Any) -> tuple[int, dict[str, str], str]:
        job_id = int(str(request.path_url).split("?")[0].rsplit("/", 1)[1])
        self.reads.append(job_id)
        if job_id == 1:
            self.started.set()
            assert self.release.wait(WAIT), "the test never released the read"
            if self.fail_first:
                return 503, {}, "busy"
        return 200, {}, json.dumps(props(ClientSource=self._kept(job_id), Name=f"job{job_id}"))


def _mark(job_id: int, marker: str) -> dict[str, str]:
    """What `mark` sends: the job's Name back, and the marker."""
    return {"Name": f"job{job_id}", "ClientSource": marker}


def _job_url() -> re.Pattern[str]:
    return re.compile(re.escape(BASE) + r"/jobs/\d+(\?.*)?$")


@pytest.fixture
def mocked_cluster() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def _in_thread(work: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # reported by the test
            failures.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, failures


def test_a_marker_write_does_not_wait_for_the_read_in_flight_but_a_listing_does(
    unprofiled: HpcPackClient, mocked_cluster: responses.RequestsMock
) -> None:
    reads = GatedReads(mocked_cluster, kept=lambda n: "HPC Job Manager")  # a stamping cluster
    first, failed = _in_thread(lambda: unprofiled.set_job(1, _mark(1, "hpcspec:a")))
    assert reads.started.wait(WAIT)
    # The second write returns while the first one's read is still held (it never reads).
    second, second_failed = _in_thread(lambda: unprofiled.set_job(2, _mark(2, "hpcspec:b")))
    second.join(WAIT)
    assert not second.is_alive() and not second_failed
    assert not unprofiled.profile.knows("client_source_kept")
    # A listing's question waits for the answer.
    answers: list[bool] = []
    lister, lister_failed = _in_thread(lambda: answers.append(client_source_kept(unprofiled)))
    lister.join(0.2)
    assert lister.is_alive() and not answers
    reads.release.set()
    for thread in (first, lister):
        thread.join(WAIT)
    assert not failed and not lister_failed
    assert answers == [False]  # the server's own ClientSource: found, and not guessed
    assert reads.reads == [1]  # one read for every write


def test_a_failed_read_is_made_good_by_the_next_listing(
    unprofiled: HpcPackClient, mocked_cluster: responses.RequestsMock
) -> None:
    reads = GatedReads(mocked_cluster, kept=lambda n: "hpcspec:b")  # the cluster keeps it
    reads.fail_first = True
    first, failed = _in_thread(lambda: unprofiled.set_job(1, _mark(1, "hpcspec:a")))
    assert reads.started.wait(WAIT)
    unprofiled.set_job(2, _mark(2, "hpcspec:b"))  # returns at once: a read is in flight
    reads.release.set()
    first.join(WAIT)
    assert failed, "the first write's read failed, and so did its write"
    assert not unprofiled.profile.knows("client_source_kept")
    assert client_source_kept(unprofiled) is True  # job 2, written meanwhile, is read now
    assert reads.reads[-1] == 2
    # Kept at write: this process lists by marker; a submit must prove it before it is saved.
    assert unprofiled.client_source_verdict() is True
    assert not unprofiled.profile.knows("client_source_kept")


def test_before_any_marker_write_a_listing_reads_nothing(
    unprofiled: HpcPackClient, mocked_cluster: responses.RequestsMock
) -> None:
    reads = GatedReads(mocked_cluster, kept=lambda n: "x")
    assert client_source_kept(unprofiled) is True  # the default, until a write finds out
    assert reads.reads == []
