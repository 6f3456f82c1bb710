"""What a client without a profile learns about ClientSource from its own writes and submits
(`client/client_source.py`), when a read shows a stale job (a replica behind the primary), a
racing applier's marker, or fails: a stale read decides nothing, "kept" is saved only once a
submitted job shows a client's marker, and a failed read after a submit fails no submit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from hpcspec.hpcpack import errors
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import UNKNOWN, ClusterProfile, StampedAt
from tests.hpcpack.client.conftest import BASE, FakeTime, make_client, props, rows

MARK = {"Name": "real", "ClientSource": "hpcspec:aaaa:1111"}
JOB = re.compile(re.escape(BASE) + r"/jobs/7(\?.*)?$")


class Replica:
    """Job 7 as a load-balanced server shows it: each read answers the next queued view (the
    primary's, or a stale one) or, with none queued, the primary's."""

    def __init__(self, mocked: responses.RequestsMock) -> None:
        self.primary = {"Name": "hpcspec:pending", "ClientSource": "", "State": "Configuring"}
        self.views: list[dict[str, str] | int] = []  # a dict: that view; an int: that status
        self.reads = 0
        mocked.add_callback(responses.PUT, JOB, callback=self._put)
        mocked.add_callback(responses.GET, JOB, callback=self._get)
        mocked.add_callback(responses.POST, f"{BASE}/jobs/7/submit", callback=self._submit)
        listing = re.compile(re.escape(BASE) + r"/jobs(\?.*)?$")
        mocked.add_callback(responses.GET, listing, callback=self.listing)

    def stale(self) -> None:
        """The next read shows the job as it is now (before the writes that follow)."""
        self.views.append(dict(self.primary))

    def _put(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.primary.update({p["Name"]: p["Value"] for p in json.loads(request.body)})
        return 200, {}, ""

    def _submit(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.primary["State"] = "Queued"
        return 200, {}, ""

    def listing(self, request: Any) -> tuple[int, dict[str, str], str]:
        """GET /jobs: job 7 as the primary has it, and another user's job."""
        other = {"Id": "8", "Name": "", "ClientSource": "HPC Job Manager", "State": "Queued"}
        return 200, {}, json.dumps(rows({"Id": "7", **self.primary}, other))

    def _get(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.reads += 1
        view = self.views.pop(0) if self.views else self.primary
        if isinstance(view, int):
            return view, {}, "busy"
        return 200, {}, json.dumps(props(**view))


@pytest.fixture
def learned() -> list[ClusterProfile]:
    return []


@pytest.fixture
def unprofiled(fake_time: FakeTime, learned: list[ClusterProfile]) -> HpcPackClient:
    client = make_client(fake_time)
    client.profile = UNKNOWN
    client._learned = lambda profile, note: learned.append(profile)
    return client


@pytest.fixture
def replica() -> Iterator[Replica]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield Replica(mocked)


def test_a_stale_read_after_the_mark_learns_nothing_and_the_next_listing_reads_again(
    unprofiled: HpcPackClient, replica: Replica, learned: list[ClusterProfile]
) -> None:
    replica.stale()
    unprofiled.set_job(7, MARK)
    assert unprofiled.client_source_verdict() is None and learned == []
    unprofiled.settle_client_source()  # the next listing's question: the primary answers
    assert unprofiled.client_source_verdict() is True  # kept at write
    assert learned == []  # not saved before a submit shows it
    unprofiled.submit_job(7)
    assert [p.client_source_kept for p in learned] == [True]
    assert replica.reads == 3


def test_a_stale_read_after_the_submit_learns_nothing_until_the_next_listing(
    unprofiled: HpcPackClient, replica: Replica, learned: list[ClusterProfile]
) -> None:
    unprofiled.set_job(7, MARK)
    replica.primary["State"] = "Configuring"
    replica.views.append({**replica.primary, "ClientSource": MARK["ClientSource"]})
    unprofiled.submit_job(7)  # its read shows the job before the submit: proves nothing
    assert learned == []
    unprofiled.settle_client_source()
    assert [p.client_source_kept for p in learned] == [True]


def test_a_server_that_replaces_the_marker_at_submit_is_learned_after_the_first_submit(
    unprofiled: HpcPackClient, replica: Replica, learned: list[ClusterProfile]
) -> None:
    unprofiled.set_job(7, MARK)
    assert unprofiled.client_source_verdict() is True and learned == []
    replica.views.append({"ClientSource": "HPC Scheduler", "State": "Queued"})
    unprofiled.submit_job(7)
    assert len(learned) == 1 and unprofiled.client_source_verdict() is False
    assert learned[0].client_source_stamp == "HPC Scheduler"
    assert learned[0].client_source_stamped_at is StampedAt.SUBMIT


def test_a_put_whose_name_landed_without_its_marker_is_a_server_that_replaces_it(
    unprofiled: HpcPackClient, replica: Replica, learned: list[ClusterProfile]
) -> None:
    replica.views.append({"Name": "real", "ClientSource": "HPC Job Manager"})
    unprofiled.set_job(7, MARK)
    assert len(learned) == 1 and not learned[0].client_source_kept
    assert learned[0].client_source_stamped_at is StampedAt.WRITE


def test_a_marker_put_alone_that_reads_back_another_value_decides_nothing(
    unprofiled: HpcPackClient, replica: Replica, learned: list[ClusterProfile]
) -> None:
    """Without a Name in the same PUT (adopt, an update's new marker), nothing shows the PUT
    landed: the old value may come from a stale replica."""
    replica.views.append({"ClientSource": "HPC Job Manager"})
    unprofiled.set_job(7, {"ClientSource": MARK["ClientSource"]})
    assert unprofiled.client_source_verdict() is None and learned == []


def test_a_racing_appliers_marker_after_the_submit_shows_markers_are_kept(
    unprofiled: HpcPackClient, replica: Replica, learned: list[ClusterProfile]
) -> None:
    unprofiled.set_job(7, MARK)
    replica.views.append({"ClientSource": "hpcspec:aaaa:2222", "State": "Queued"})
    unprofiled.submit_job(7)
    assert [p.client_source_kept for p in learned] == [True]


def test_a_failed_read_after_the_submit_fails_no_submit_and_is_read_again(
    unprofiled: HpcPackClient, replica: Replica, learned: list[ClusterProfile]
) -> None:
    unprofiled.set_job(7, MARK)
    replica.views.extend([503] * 4)  # every attempt of the read (retries included)
    unprofiled.submit_job(7)  # the job was submitted: no error
    assert learned == []
    unprofiled.settle_client_source()
    assert [p.client_source_kept for p in learned] == [True]


def test_a_failed_read_after_the_only_mark_is_made_again_by_the_next_listing(
    unprofiled: HpcPackClient, replica: Replica
) -> None:
    replica.views.extend([503] * 4)  # every attempt of the read (retries included)
    with pytest.raises(errors.ServerError):
        unprofiled.set_job(7, MARK)  # its key fails, as before
    assert unprofiled.client_source_verdict() is None
    unprofiled.settle_client_source()  # no other job was marked meanwhile: this one is read
    assert unprofiled.client_source_verdict() is True


def test_a_listing_of_our_marker_past_its_submit_corrects_a_learned_replaced(
    unprofiled: HpcPackClient, replica: Replica, learned: list[ClusterProfile]
) -> None:
    unprofiled.profile = UNKNOWN.learned(client_source_kept=False, client_source_stamp="x")
    unprofiled.set_job(7, MARK)
    assert replica.reads == 0  # known: no read
    list(unprofiled.list_jobs())
    assert learned == []  # a Configuring job's marker says nothing of the submit
    unprofiled.submit_job(7)
    list(unprofiled.list_jobs())
    assert [(p.client_source_kept, p.client_source_stamp) for p in learned] == [(True, "")]
    assert unprofiled.client_source_verdict() is True


def test_a_measured_replaced_is_never_corrected_at_run_time(
    unprofiled: HpcPackClient, replica: Replica, learned: list[ClusterProfile]
) -> None:
    unprofiled.profile = ClusterProfile(client_source_kept=False, checked_at="2026-11-30T07:00Z")
    unprofiled.set_job(7, MARK)
    unprofiled.submit_job(7)
    list(unprofiled.list_jobs())
    assert learned == [] and unprofiled.client_source_verdict() is False
