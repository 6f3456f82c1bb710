"""The emulator's connections and request threads: HTTP/1.1 connections persist (as IIS keeps
them for HPC Pack), a request's body never leaks into the next request, and clients that hold
connections open block nobody else (a thread is added whenever none is idle)."""

from __future__ import annotations

import base64
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import requests


def _request(
    method: str, path: str, auth: tuple[str, str], body: bytes = b"", extra: str = ""
) -> bytes:
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: emulator\r\nAuthorization: Basic {token}\r\n"
        f"Accept: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


def _answers(connection: socket.socket, count: int) -> list[bytes]:
    """Read `count` whole responses (each has a Content-Length) from one connection."""
    data, answers = b"", []
    connection.settimeout(5)
    while len(answers) < count:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            if len(rest) >= length:
                answers.append(head + sep + rest[:length])
                data = rest[length:]
                continue
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return answers


def test_one_connection_carries_several_requests(start_emulator: Any) -> None:
    running = start_emulator()
    parts = urlsplit(running.url)
    with socket.create_connection((parts.hostname, parts.port)) as connection:
        # a body the route does not read must not be taken for the next request
        connection.sendall(_request("GET", "/hpc/cluster/version", running.admin, b"ignored"))
        connection.sendall(_request("GET", "/hpc/cluster/version", running.admin))
        connection.sendall(
            _request("GET", "/hpc/jobs", running.admin, extra="Connection: close\r\n")
        )
        answers = _answers(connection, 3)
        assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 3
        assert connection.recv(1) == b""  # closed after the request that asked for it


def test_many_silent_connections_do_not_block_a_request(start_emulator: Any) -> None:
    running = start_emulator()
    parts = urlsplit(running.url)
    silent = [socket.create_connection((parts.hostname, parts.port)) for _ in range(80)]
    try:
        started = time.monotonic()
        answer = requests.get(running.url + "/cluster/version", auth=running.admin, timeout=10)
        assert answer.status_code == 200
        assert time.monotonic() - started < 5
    finally:
        for connection in silent:
            connection.close()
