"""The embedded local cluster: the emulator run for you in the background (DESIGN.md §7).

One per user: every function takes the cluster's directory, which the CLI takes from
`hpcspec.config.local_cluster_dir` (`<user state dir>/local`, never the working directory,
so every directory sees the same cluster and jobs). In it: `emulator.db` (SQLite), `users`
and `credentials.json` (generated administrator credentials, 0600), `server.json` (pid and
URL, 0600, written by the server once it listens), `emulator.log` and `work/` (task working
directory); the directory is 0700. The server uses the `local` executor, runs in that
directory, and stops itself after being idle (no requests and no active jobs) for
`HPCSPEC_LOCAL_IDLE_SECONDS` (default 1800).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hpcspec.emulator.options import write_private
from hpcspec.errors import HpcspecError
from hpcspec.host import kill_tree, on_windows, owner_only, pid_alive, reap
from hpcspec.whole_write import replace_file

IDLE_SECONDS = 1800.0
START_TIMEOUT = 30.0
STOP_SECONDS = 10.0  # how long `down` waits for the server to exit before it kills it hard
USER_NAME = "HPC\\hpcspec"


@dataclass(frozen=True)
class LocalCluster:
    """How to reach the local cluster; the password is generated and kept 0600 on disk."""

    url: str
    username: str
    password: str

    def __repr__(self) -> str:  # never show the password
        return f"LocalCluster(url={self.url!r}, username={self.username!r})"


class LocalClusterError(HpcspecError):
    pass


def _read_json(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _credentials(directory: Path, create: bool) -> tuple[str, str] | None:
    data = _read_json(directory / "credentials.json")
    if data and isinstance(data.get("password"), str):
        return str(data.get("username", USER_NAME)), str(data["password"])
    if not create:
        return None
    password = secrets.token_urlsafe(24)
    write_private(directory / "credentials.json", {"username": USER_NAME, "password": password})
    return USER_NAME, password


_alive = pid_alive  # os.kill(pid, 0) would send CTRL_C_EVENT on Windows


# The local cluster is on loopback: reached directly, never through HTTP_PROXY and the like
# (urlopen's default opener would send the admin credentials to a proxy; docs/security.md).
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _answers(url: str, username: str, password: str) -> bool:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    request = urllib.request.Request(
        url + "/cluster/version", headers={"Authorization": f"Basic {token}"}
    )
    try:
        with _DIRECT.open(request, timeout=3) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def status(directory: Path) -> LocalCluster | None:
    """The local cluster running from `directory`, or None when it is not running."""
    server = _read_json(directory / "server.json")
    credentials = _credentials(directory, create=False)
    if not server or not credentials:
        return None
    pid, url = server.get("pid"), server.get("url")
    if not isinstance(pid, int) or not isinstance(url, str) or not _alive(pid):
        return None
    if not _answers(url, *credentials):
        return None
    return LocalCluster(url, *credentials)


@contextlib.contextmanager
def _start_lock(directory: Path) -> Iterator[None]:
    """One starter at a time (two commands racing to start the cluster)."""
    path = directory / "start.lock"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            break
        except FileExistsError:
            if time.monotonic() > deadline or time.time() - path.stat().st_mtime > START_TIMEOUT:
                path.unlink(missing_ok=True)
                continue
            time.sleep(0.1)
    try:
        yield
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)


def ensure_up(directory: Path) -> LocalCluster:
    """The local cluster of `directory`, started in the background if it is not running yet.

    The directory is created if needed and made private to the user (`host.owner_only`).
    """
    running = status(directory)
    if running is not None:
        return running
    directory.mkdir(parents=True, exist_ok=True)
    owner_only(directory)  # 0700; on Windows an ACL, which files inside inherit
    with _start_lock(directory):
        running = status(directory)
        if running is not None:
            return running
        return _spawn(directory)


def work_directory(directory: Path) -> Path:
    """Where the local cluster runs a task that has no WorkDirectory (`hpcspec logs` reads
    relative stream files there)."""
    return directory / "work"


def _spawn(directory: Path) -> LocalCluster:
    credentials = _credentials(directory, create=True)
    assert credentials is not None
    users = directory / "users"
    replace_file(users, f"{credentials[0]}:{credentials[1]}:admin\n".encode())
    server_file = directory / "server.json"
    server_file.unlink(missing_ok=True)
    work = work_directory(directory)
    work.mkdir(mode=0o700, exist_ok=True)
    for name in ("emulator.db", "emulator.log"):  # SQLite's -wal/-shm files inherit the mode
        os.close(os.open(directory / name, os.O_CREAT | os.O_WRONLY, 0o600))
    idle = os.environ.get("HPCSPEC_LOCAL_IDLE_SECONDS", str(IDLE_SECONDS))
    command = [
        sys.executable, "-m", "hpcspec", "emulator", "serve", "--host", "127.0.0.1",
        "--port", "0", "--db", str(directory / "emulator.db"), "--users-file", str(users),
        "--executor", "local", "--work-dir", str(work), "--state-file", str(server_file),
        "--idle-timeout", idle,
    ]  # fmt: skip
    log = open(directory / "emulator.log", "ab")  # noqa: SIM115 - handed to the child
    detach: dict[str, object] = (
        {"creationflags": 0x00000008 | 0x00000200}  # DETACHED_PROCESS | NEW_PROCESS_GROUP
        if os.name == "nt"
        else {"start_new_session": True}
    )
    with log:
        child = subprocess.Popen(
            command,
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            close_fds=True,
            **detach,  # type: ignore[call-overload]
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise LocalClusterError(
                f"the local cluster did not start (exit code {child.returncode})",
                code="local-cluster-start",
                hint=f"see {directory / 'emulator.log'}",
            )
        running = status(directory)
        if running is not None:
            return running
        time.sleep(0.1)
    _stop(child.pid, hard=True)  # a server nobody can reach must not run on unseen
    child.wait()
    raise LocalClusterError(
        f"the local cluster did not answer within {START_TIMEOUT:.0f} s",
        code="local-cluster-start",
        hint=f"see {directory / 'emulator.log'}",
    )


def down(directory: Path) -> bool:
    """Stop the local cluster of `directory`; True when one was running. State stays."""
    server = _read_json(directory / "server.json")
    pid = server.get("pid") if server else None
    if not isinstance(pid, int) or not _alive(pid):
        (directory / "server.json").unlink(missing_ok=True)
        return False
    _stop(pid, hard=False)
    deadline = time.monotonic() + STOP_SECONDS
    while _alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    if _alive(pid):
        _stop(pid, hard=True)
    (directory / "server.json").unlink(missing_ok=True)
    return True


def _stop(pid: int, hard: bool) -> None:
    """POSIX: SIGTERM (the server stops its tasks, then exits) or SIGKILL. Windows: the tree."""
    if on_windows():
        # os.kill there is TerminateProcess of the server alone: the tasks it runs would go on
        kill_tree(pid)
        return
    os.kill(pid, signal.SIGKILL if hard else signal.SIGTERM)


_reap = reap  # os.WNOHANG does not exist on Windows
