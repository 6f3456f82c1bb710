"""Basic credentials over plain http: only to loopback, decided by address, never via a proxy.

Issue 13 item 9. The cluster here is the real emulator on 127.0.0.1; `HTTP_PROXY` points at
a real forwarding proxy (a thread) that records what it is asked to carry; host names are
faked only at the socket boundary (`socket.getaddrinfo`), and a guard on `socket.connect`
refuses — and records — any attempt to reach an address outside loopback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import urllib3

from hpcspec.emulator import Emulator, EmulatorOptions, User
from hpcspec.hpcpack import errors
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.connections import LoopbackOnlyConnection
from hpcspec.hpcpack.endpoint import is_loopback_address
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions
from tests.hpcpack.client.wire_fixtures import RecordingProxy, fake_names

ELSEWHERE = "192.0.2.10"  # TEST-NET-1: never reached (the connect guard refuses it)


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch, recording_proxy: RecordingProxy) -> RecordingProxy:
    """HTTP_PROXY/http_proxy (and the https ones) point at the recording proxy."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, recording_proxy.url)
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    return recording_proxy


def _client(url: str, credentials: tuple[str, str] | None) -> HpcPackClient:
    options = TransportOptions(url, Credentials(*credentials) if credentials else None)
    return HpcPackClient(Transport(options))


def _with_host(url: str, host: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"{host}:{parts.port}").geturl()


def test_credentials_to_a_loopback_cluster_never_reach_the_http_proxy(
    proxied: RecordingProxy, emulator: Any
) -> None:
    client = _client(emulator.url, emulator.admin)
    assert client.version()  # answered by the emulator directly
    assert proxied.seen == []


def test_localhost_by_name_is_loopback_when_it_resolves_there(
    proxied: RecordingProxy, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = fake_names(monkeypatch, {"localhost": ["127.0.0.1"]})
    assert _client(_with_host(emulator.url, "localhost"), emulator.admin).version()
    assert proxied.seen == [] and elsewhere == []


def test_a_name_that_resolves_only_to_loopback_is_trusted_whatever_it_is_called(
    proxied: RecordingProxy, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = fake_names(monkeypatch, {"hpc-dev.internal": ["127.0.0.1"]})
    assert _client(_with_host(emulator.url, "hpc-dev.internal"), emulator.admin).version()
    assert proxied.seen == [] and elsewhere == []


@pytest.mark.parametrize(
    ("name", "addresses", "why"),
    [
        ("x.localhost", [ELSEWHERE], f"resolves to {ELSEWHERE}"),
        ("localhost", ["127.0.0.1", ELSEWHERE], f"resolves to 127.0.0.1, {ELSEWHERE}"),
        ("gone.localhost", [], "does not resolve"),
    ],
    ids=["x.localhost-elsewhere", "mixed-answers", "unresolvable"],
)
def test_a_name_is_not_trusted_as_loopback_unless_every_address_is(
    name: str,
    addresses: list[str],
    why: str,
    proxied: RecordingProxy,
    emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    elsewhere = fake_names(monkeypatch, {name: addresses})
    with pytest.raises(errors.InsecureConnection) as refused:
        _client(_with_host(emulator.url, name), emulator.admin)
    assert why in refused.value.message and "plain http" in refused.value.message
    assert proxied.seen == [] and elsewhere == []


def test_without_credentials_http_to_another_host_still_uses_the_proxy(
    proxied: RecordingProxy, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy is real and in use: only credentials decide that it is bypassed."""
    elsewhere = fake_names(monkeypatch, {"cluster.test": [ELSEWHERE]})
    url = _with_host(emulator.url, "cluster.test")
    with pytest.raises(errors.AuthFailed):  # the emulator, through the proxy, wants a user
        _client(url, None).version()
    assert [(s.method, s.target) for s in proxied.seen] == [("GET", url + "/cluster/version")]
    assert "Authorization" not in proxied.seen[0].headers
    assert elsewhere == []


def test_https_keeps_the_environment_proxy(
    proxied: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TLS protects the credentials end to end, so an https cluster may sit behind a proxy."""
    transport = Transport(TransportOptions("https://head.example.test/hpc", Credentials("u", "p")))
    assert transport._proxies.get("https") == proxied.url


def test_a_connection_whose_peer_is_not_loopback_is_closed_before_sending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A name that changes its answer after the check cannot redirect the credentials."""

    class Peer:
        closed = False

        def getpeername(self) -> tuple[str, int]:
            return (ELSEWHERE, 80)

        def close(self) -> None:
            self.closed = True

    peer = Peer()
    monkeypatch.setattr(urllib3.connection.HTTPConnection, "_new_conn", lambda self: peer)
    with pytest.raises(urllib3.exceptions.NewConnectionError, match="not a loopback address"):
        LoopbackOnlyConnection("flip.test", 80)._new_conn()
    assert peer.closed


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
     ("::ffff:127.0.0.1", True), ("10.0.0.1", False), ("0.0.0.0", False),
     ("::ffff:10.0.0.1", False), ("localhost", False), ("fe80::1%lo", False)],
)  # fmt: skip
def test_loopback_is_an_address_property(address: str, loopback: bool) -> None:
    assert is_loopback_address(address) is loopback


@pytest.mark.parametrize(
    ("user", "password"),
    [("HPC\\jürgen", "plain-ascii"), ("HPC\\admin", "pässwörd-密码")],
    ids=["non-ascii-user", "non-ascii-password"],
)
def test_non_ascii_credentials_work_end_to_end(user: str, password: str, tmp_path: Path) -> None:
    emulator = Emulator(
        EmulatorOptions(db=tmp_path / "e.db", users=(User(user, password, admin=True),))
    )
    emulator.start()
    try:
        assert _client(emulator.url, (user, password)).version()
        with pytest.raises(errors.AuthFailed):
            _client(emulator.url, (user, password + "x")).version()
    finally:
        emulator.stop()
