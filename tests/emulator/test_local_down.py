"""`hpcspec local down` stops the server and the tasks it runs: SIGTERM on POSIX (the server
stops its tasks itself), the whole process tree on Windows, where a signal is TerminateProcess
of the server alone. Windows is the platform check patched and the OS calls faked, as in
test_host.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hpcspec import host
from hpcspec.emulator import local

PID = 4321


class Server:
    """A fake local-cluster server process: alive until the stop it obeys arrives."""

    def __init__(self, directory: Path, obeys: str | None) -> None:
        directory.mkdir(exist_ok=True)
        (directory / "server.json").write_text(json.dumps({"pid": PID, "url": "http://x"}))
        self.obeys, self.alive = obeys, True
        self.received: list[str] = []

    def got(self, what: str) -> None:
        self.received.append(what)
        if what == self.obeys:
            self.alive = False


@pytest.fixture
def server(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Server:
    fake = Server(tmp_path / "local", getattr(request, "param", None))

    def fake_kill(pid: int, sig: int) -> None:
        assert pid == PID
        fake.got(signal.Signals(sig).name)

    def fake_run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        fake.got(" ".join(argv))
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(local, "_alive", lambda pid: pid == PID and fake.alive)
    monkeypatch.setattr(local, "_reap", lambda pid: None)
    monkeypatch.setattr(os, "kill", fake_kill)
    monkeypatch.setattr(host.subprocess, "run", fake_run)
    return fake


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behave as on Windows where hpcspec asks (`host.on_windows`). Not `os.name` itself: a
    failing assertion would then crash pytest's report (it cannot make a WindowsPath here)."""
    monkeypatch.setattr(host, "on_windows", lambda: True)
    monkeypatch.setattr(local, "on_windows", lambda: True)


TASKKILL = f"taskkill /T /F /PID {PID}"


@pytest.mark.parametrize("server", [TASKKILL], indirect=True)
def test_windows_down_ends_the_server_and_its_tasks_as_one_tree(
    server: Server, windows: None, tmp_path: Path
) -> None:
    assert local.down(tmp_path / "local") is True
    assert server.received == [TASKKILL]  # never os.kill: TerminateProcess of the server only
    assert not (tmp_path / "local" / "server.json").exists()


@pytest.mark.parametrize("server", [None], indirect=True)
def test_windows_down_kills_the_tree_again_when_it_outlives_the_wait(
    server: Server, windows: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "STOP_SECONDS", 0.0)
    assert local.down(tmp_path / "local") is True
    assert server.received == [TASKKILL, TASKKILL]


@pytest.mark.parametrize("server", ["SIGTERM"], indirect=True)
def test_posix_down_asks_the_server_to_stop_its_tasks_with_sigterm(
    server: Server, tmp_path: Path
) -> None:
    assert local.down(tmp_path / "local") is True
    assert server.received == ["SIGTERM"]


@pytest.mark.parametrize("server", [None], indirect=True)
def test_posix_down_sends_sigkill_when_the_server_outlives_the_wait(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "STOP_SECONDS", 0.0)
    assert local.down(tmp_path / "local") is True
    assert server.received == ["SIGTERM", "SIGKILL"]
