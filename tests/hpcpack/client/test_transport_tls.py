"""TLS over a real socket: verified by default, with the given CA, or not at all when asked.

The transport's adapter remembers a pool's TLS settings once it has chosen the pool
(`transport.py`); these tests hold that every request of a transport is still
verified as its options say, against a local HTTPS server whose certificate `openssl` makes
(skipped where there is no `openssl`).
"""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hpcspec.hpcpack import errors
from hpcspec.hpcpack.transport import Transport, TransportOptions

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


class _Version(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: later requests reuse the verified connection

    def do_GET(self) -> None:
        body = b'"1"'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def https_url(certificate: tuple[Path, Path]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Version)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/hpc"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _no_environment_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")


def _versions(transport: Transport, count: int = 3) -> list[object]:
    return [transport.request("GET", "/cluster/version").body for _ in range(count)]


def test_a_certificate_no_trusted_ca_signed_is_refused_on_every_request(https_url: str) -> None:
    transport = Transport(TransportOptions(https_url))
    for _ in range(2):
        with pytest.raises(errors.TransportError, match="TLS failed") as failure:
            transport.request("GET", "/cluster/version")
        assert "--ca-bundle" in (failure.value.hint or "")


def test_the_given_ca_verifies_every_request(
    https_url: str, certificate: tuple[Path, Path]
) -> None:
    transport = Transport(TransportOptions(https_url, ca_bundle=str(certificate[0])))
    assert _versions(transport) == ["1", "1", "1"]
    refused = Transport(TransportOptions(https_url))  # another transport learns nothing from it
    with pytest.raises(errors.TransportError, match="TLS failed"):
        refused.request("GET", "/cluster/version")


def test_the_environment_ca_bundle_verifies_every_request(
    https_url: str, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    assert _versions(Transport(TransportOptions(https_url))) == ["1", "1", "1"]


def test_insecure_skips_verification_only_when_asked(https_url: str) -> None:
    assert _versions(Transport(TransportOptions(https_url, insecure=True))) == ["1", "1", "1"]
