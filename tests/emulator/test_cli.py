"""`hpcspec emulator serve` and `hpcspec local` as a user runs them (subprocesses)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import requests

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _hpcspec(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hpcspec", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,  # type: ignore[arg-type]
    )


def test_serve_prints_the_url_serves_and_stops_on_sigterm(tmp_path):
    server = _hpcspec(
        "emulator",
        "serve",
        "--port",
        "0",
        "--db",
        str(tmp_path / "e.db"),
        "--user",
        "HPC\\root:pw:admin",
        "--user",
        "bob:pw2",
        "--nodes",
        "3",
    )
    try:
        line = server.stdout.readline().strip()
        assert line.startswith("hpcspec emulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[-1]
        nodes = requests.get(f"{url}/nodes/groups/ComputeNodes", auth=("bob", "pw2"), timeout=5)
        assert nodes.json() == ["CN001", "CN002", "CN003"]
        assert requests.get(f"{url}/jobs", auth=("HPC\\root", "pw"), timeout=5).status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0


def test_serve_refuses_a_non_loopback_host(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hpcspec",
            "emulator",
            "serve",
            "--host",
            "0.0.0.0",
            "--user",
            "a:b",
            "--db",
            str(tmp_path / "e.db"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "[emulator-remote-host]" in done.stderr
    assert not (tmp_path / "e.db").exists()


def test_local_up_status_down(tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hpcspec", "local", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    try:
        up = run("up")
        assert up.returncode == 0, up.stderr
        assert "local cluster running at http://127.0.0.1:" in up.stdout
        assert run("status").returncode == 0
    finally:
        down = run("down")
    assert down.stdout.strip() == "local cluster stopped"
    status = run("status")
    assert status.returncode == 1 and "not running" in status.stdout
