"""The embedded local cluster: up, status, run a job with the local executor, down, idle stop."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import time

import pytest
import requests

from hpcspec.emulator import local

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process control")


def test_up_status_run_and_down(tmp_path):
    home = tmp_path / "local"  # created by ensure_up, private to the user
    try:
        cluster = local.ensure_up(home)
        assert cluster.url.startswith("http://127.0.0.1:") and cluster.url.endswith("/hpc")
        assert local.status(home) == cluster
        assert local.ensure_up(home) == cluster  # already running: same cluster
        assert cluster.password not in repr(cluster)
        auth = (cluster.username, cluster.password)
        job = requests.post(f"{cluster.url}/jobs", json=[], auth=auth, timeout=10).json()
        requests.post(
            f"{cluster.url}/jobs/{job}/tasks",
            json=[{"Name": "CommandLine", "Value": "echo local"}],
            auth=auth,
            timeout=10,
        ).raise_for_status()
        requests.post(f"{cluster.url}/jobs/{job}/submit", auth=auth, timeout=10)
        deadline, state = time.time() + 15, ""
        while time.time() < deadline and state != "Finished":
            reply = requests.get(f"{cluster.url}/jobs/{job}/tasks/1", auth=auth, timeout=10)
            values = {p["Name"]: p["Value"] for p in reply.json()}
            state = values["State"]
            time.sleep(0.1)
        assert (state, values["Output"]) == ("Finished", "local\n")
        directory = home
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        for name in ("credentials.json", "users", "server.json", "emulator.db"):
            assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600, name
    finally:
        stopped = local.down(home)
    assert stopped is True
    assert local.status(home) is None
    assert local.down(home) is False
    # state survives: the next `up` serves the same job
    try:
        again = local.ensure_up(home)
        reply = requests.get(f"{again.url}/jobs/{job}", auth=auth, timeout=10)
        assert reply.status_code == 200
    finally:
        local.down(home)


def test_the_local_cluster_stops_when_idle(tmp_path, monkeypatch):
    monkeypatch.setenv("HPCSPEC_LOCAL_IDLE_SECONDS", "1")
    local.ensure_up(tmp_path)
    server = json.loads((tmp_path / "server.json").read_text())
    deadline = time.time() + 15
    # watch the process, not the API: a status request is activity and resets the idle clock
    while time.time() < deadline and _alive(server["pid"]):
        time.sleep(0.2)
    try:
        assert not _alive(server["pid"])
        assert local.status(tmp_path) is None
    finally:
        local.down(tmp_path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)  # reap our own child
        return done == 0
    return True


def test_the_local_cluster_is_reached_directly_never_through_an_environment_proxy(
    tmp_path, monkeypatch
):
    """docs/security.md: a loopback cluster is never reached through HTTP_PROXY (the
    readiness probe once sent the generated admin password to it)."""
    import socket
    import threading

    heard: list[bytes] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def serve() -> None:
        while True:
            try:
                peer, _ = listener.accept()
            except OSError:
                return
            with peer:
                heard.append(peer.recv(65536))
                peer.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setattr(local, "START_TIMEOUT", 15.0)
    home = tmp_path / "local"
    try:
        cluster = local.ensure_up(home)
        assert local.status(home) == cluster
    finally:
        local.down(home)
        listener.close()
    assert heard == []
