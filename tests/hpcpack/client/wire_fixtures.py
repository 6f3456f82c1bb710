"""Test doubles at the network's edge: a recording forwarding proxy and a patched resolver.

`RecordingProxy` is a real HTTP proxy on 127.0.0.1 (a thread) that records every request it
is asked to forward and forwards it to one fixed upstream (the emulator), whatever host the
request names — so no test traffic ever leaves this machine. `fake_names(monkeypatch, {...})`
patches `socket.getaddrinfo` for the given names only (every other name resolves as usual)
and guards `socket.socket.connect` so that nothing can connect to an address outside
loopback: a bug that tried would fail the test instead of sending traffic.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

HOP_BY_HOP = {"connection", "proxy-connection", "keep-alive", "transfer-encoding"}


@dataclass
class Seen:
    """One request the proxy was asked to forward."""

    method: str
    target: str  # the absolute URL of the request line
    headers: dict[str, str]


@dataclass
class RecordingProxy:
    url: str
    seen: list[Seen] = field(default_factory=list)


def _handler(upstream: tuple[str, int], seen: list[Seen]) -> type[BaseHTTPRequestHandler]:
    class Forward(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _forward(self) -> None:
            headers = {k: v for k, v in self.headers.items()}
            seen.append(Seen(self.command, self.path, headers))
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            target = urlsplit(self.path)
            path = target.path + (f"?{target.query}" if target.query else "")
            sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
            connection = http.client.HTTPConnection(*upstream, timeout=10)
            try:
                connection.request(self.command, path, body, sent)
                answer = connection.getresponse()
                data = answer.read()
            finally:
                connection.close()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _forward

    return Forward


def start_proxy(upstream_url: str) -> tuple[RecordingProxy, Callable[[], None]]:
    """A proxy forwarding everything to `upstream_url`'s host and port; returns (proxy, stop)."""
    parts = urlsplit(upstream_url)
    assert parts.hostname and parts.port
    seen: list[Seen] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler((parts.hostname, parts.port), seen))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    proxy = RecordingProxy(f"http://127.0.0.1:{server.server_address[1]}", seen)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return proxy, stop


Answers = Mapping[str, Sequence[str] | Callable[[], Sequence[str]]]


def fake_names(monkeypatch: pytest.MonkeyPatch, answers: Answers) -> list[tuple[str, int]]:
    """Resolve the names in `answers` to the given addresses (a callable answers anew each
    time); returns the list of (address, port) connections attempted outside loopback, which
    are refused."""
    real = socket.getaddrinfo
    refused: list[tuple[str, int]] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in answers:
            return real(host, port, *args, **kwargs)
        found = answers[name]
        addresses = found() if callable(found) else found
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        number = int(port) if port is not None else 0
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (a, number, 0, 0) if ":" in a else (a, number),
            )
            for a in addresses
        ]

    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0])
            if not ipaddress.ip_address(host.split("%", 1)[0]).is_loopback:
                refused.append((host, int(address[1])))
                raise ConnectionRefusedError(f"test guard: no traffic to {host}")
        real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return refused
