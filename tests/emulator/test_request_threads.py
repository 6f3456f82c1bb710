"""The emulator's request threads: a queue hands requests to idle threads, and a thread is
added whenever none is idle, so clients that hold connections open block nobody else."""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import urlsplit

import requests


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
