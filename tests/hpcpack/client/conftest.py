"""Fixtures for the REST client tests: a client on a `responses`-mocked cluster, fast sleeps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import ClusterProfile
from hpcspec.hpcpack.timeformat import TimeFormat
from hpcspec.hpcpack.transport import Credentials, RetryPolicy, Transport, TransportOptions
from tests.hpcpack.client.wire_fixtures import RecordingProxy, start_proxy

BASE = "https://head.example.test/hpc"
USER = "HPC\\alice"
CANARY = "canary-Pa55w0rd-7f3e9c"  # must never appear in an error or a log record


@dataclass
class FakeTime:
    """An injectable clock and sleep: sleeping advances the clock instantly."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_client(
    fake_time: FakeTime,
    *,
    url: str = BASE,
    password: str = CANARY,
    user: str = USER,
    retry: RetryPolicy | None = None,
    jitter: float = 0.5,
    **options: object,
) -> HpcPackClient:
    transport = Transport(
        TransportOptions(
            url,
            Credentials(user, password),
            retry=retry or RetryPolicy(attempts=4, base_delay=1.0, max_delay=8.0, total=60.0),
            **options,  # type: ignore[arg-type]
        ),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        jitter=lambda: jitter,
    )
    # A known 2016 U3 cluster (the endpoint tests pin its /nodes family; detection without a
    # profile is tested on its own in tests/check/test_profiles_at_run_time.py).
    return HpcPackClient(
        transport, time_format=TimeFormat("M/d/yyyy h:mm:ss tt"), profile=ClusterProfile()
    )


@pytest.fixture
def client(fake_time: FakeTime) -> HpcPackClient:
    return make_client(fake_time)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def sent(call: responses.Call) -> tuple[str, str, dict[str, list[str]], object]:
    """Method, path (under /hpc), query and decoded JSON body of one recorded request."""
    request = call.request
    parts = urlsplit(request.url or "")
    body = request.body
    if isinstance(body, bytes):
        body = body.decode()
    decoded = json.loads(body) if body else None
    path = parts.path.removeprefix(urlsplit(BASE).path)
    return request.method or "", path, parse_qs(parts.query), decoded


def props(**values: str) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in values.items()]


def rows(*objects: dict[str, str]) -> list[dict[str, object]]:
    return [{"Properties": [{"Name": k, "Value": v} for k, v in o.items()]} for o in objects]


@pytest.fixture
def recording_proxy(emulator: Any) -> Iterator[RecordingProxy]:
    """A real forwarding proxy on 127.0.0.1 in front of the session emulator, recording."""
    proxy, stop = start_proxy(emulator.url)
    try:
        yield proxy
    finally:
        stop()
