"""Engine end-to-end fixtures: a REST client for the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import ClusterProfile
from hpcspec.hpcpack.transport import Credentials, RetryPolicy, Transport, TransportOptions


def client_for(
    running: Any, *, user: tuple[str, str] | None = None, profile: ClusterProfile | None = None
) -> HpcPackClient:
    """A client that talks to a running emulator as its administrator (or `user`), knowing
    nothing of the cluster (or what `profile` says)."""
    name, password = user or running.admin
    options = TransportOptions(
        running.url,
        Credentials(name, password),
        retry=RetryPolicy(attempts=3, base_delay=0.01, total=5),
    )
    return HpcPackClient(Transport(options), profile=profile)


@pytest.fixture
def client(emulator: Any) -> Iterator[HpcPackClient]:
    made = client_for(emulator)
    yield made
    made.close()
