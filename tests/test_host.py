"""hpcspec.host: POSIX for real, Windows with `os.name` patched and the OS calls faked.

What these cannot prove (a real Windows ACL, taskkill, kernel32): docs/windows.md.
"""

from __future__ import annotations

import ctypes
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hpcspec import host


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Commands hpcspec.host would run; each "succeeds" (exit 0)."""
    ran: list[list[str]] = []

    def fake_run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        ran.append(argv)
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(host.subprocess, "run", fake_run)
    return ran


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behave as on Windows: os.name is "nt" and the account is HPC\\alice."""
    monkeypatch.setenv("USERDOMAIN", "HPC")
    monkeypatch.setenv("USERNAME", "alice")
    monkeypatch.setattr(os, "name", "nt")


# --- owner_only ----------------------------------------------------------------------------


def test_posix_owner_only_is_0600_for_files_and_0700_for_directories(tmp_path: Path) -> None:
    secret = tmp_path / "credentials.json"
    secret.write_text("{}")
    secret.chmod(0o644)
    host.owner_only(secret)
    host.owner_only(tmp_path)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700


def test_windows_owner_only_replaces_the_acl_with_the_user_alone(
    tmp_path: Path, calls: list[list[str]], windows: None
) -> None:
    secret = tmp_path / "credentials.json"
    secret.write_text("{}")
    host.owner_only(secret)
    host.owner_only(tmp_path)
    assert calls == [
        ["icacls", str(secret), "/inheritance:r", "/grant:r", "HPC\\alice:F"],
        ["icacls", str(tmp_path), "/inheritance:r", "/grant:r", "HPC\\alice:(OI)(CI)F"],
    ]


def test_windows_owner_only_fails_loudly_when_icacls_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, windows: None
) -> None:
    def refuse(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(argv, 5, "Access is denied.\n", "")

    monkeypatch.setattr(host.subprocess, "run", refuse)
    with pytest.raises(OSError, match=r"cannot make .* private to HPC\\alice .*Access is denied"):
        host.owner_only(tmp_path)


def test_windows_user_without_a_domain_is_the_bare_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("USERDOMAIN", raising=False)
    monkeypatch.setenv("USERNAME", "bob")
    assert host.windows_user() == "bob"


# --- pid_alive -----------------------------------------------------------------------------


def test_posix_pid_alive_for_this_process_not_for_an_exited_child() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert host.pid_alive(os.getpid())
    assert not host.pid_alive(child.pid)


class FakeKernel32:
    """OpenProcess / GetExitCodeProcess / CloseHandle as kernel32 answers them."""

    def __init__(self, handle: int, exit_code: int = 0) -> None:
        self.handle, self.exit_code = handle, exit_code
        self.opened: list[tuple[int, bool, int]] = []
        self.closed: list[int] = []

    def OpenProcess(self, access: int, inherit: bool, pid: int) -> int:
        self.opened.append((access, inherit, pid))
        return self.handle

    def GetExitCodeProcess(self, handle: int, code: Any) -> int:
        code._obj.value = self.exit_code
        return 1

    def CloseHandle(self, handle: int) -> int:
        self.closed.append(handle)
        return 1


def windows_ctypes(kernel: FakeKernel32, last_error: int) -> Any:
    class WinCtypes:
        c_ulong = ctypes.c_ulong
        byref = staticmethod(ctypes.byref)

        @staticmethod
        def WinDLL(name: str, use_last_error: bool) -> FakeKernel32:
            assert (name, use_last_error) == ("kernel32", True)
            return kernel

        @staticmethod
        def get_last_error() -> int:
            return last_error

    return WinCtypes


@pytest.mark.parametrize(
    ("handle", "exit_code", "last_error", "alive"),
    [
        (44, host.STILL_ACTIVE, 0, True),  # running
        (44, 0, 0, False),  # exited
        (0, 0, 87, False),  # ERROR_INVALID_PARAMETER: no such process
        (0, 0, host.ERROR_ACCESS_DENIED, True),  # exists, someone else's
    ],
)
def test_windows_pid_alive_asks_the_kernel_and_never_signals(
    monkeypatch: pytest.MonkeyPatch,
    windows: None,
    handle: int,
    exit_code: int,
    last_error: int,
    alive: bool,
) -> None:
    kernel = FakeKernel32(handle, exit_code)
    monkeypatch.setattr(host, "_WIN_CTYPES", windows_ctypes(kernel, last_error))

    def no_signals(pid: int, sig: int) -> None:
        raise AssertionError("os.kill(pid, 0) sends CTRL_C_EVENT on Windows")

    monkeypatch.setattr(os, "kill", no_signals)
    assert host.pid_alive(1234) is alive
    assert kernel.opened == [(host.PROCESS_QUERY_LIMITED_INFORMATION, False, 1234)]
    assert kernel.closed == ([handle] if handle else [])


# --- kill_tree and reap --------------------------------------------------------------------


@pytest.mark.slow
def test_posix_kill_tree_ends_the_shell_and_what_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild"
    shell = subprocess.Popen(
        ["sh", "-c", f"sleep 30 & echo $! > {pid_file}; wait"], start_new_session=True
    )
    deadline = time.monotonic() + 5
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    grandchild = int(pid_file.read_text())
    host.kill_tree(shell.pid)
    assert shell.wait(timeout=5) != 0
    deadline = time.monotonic() + 5
    while host.pid_alive(grandchild):
        host.reap(grandchild)
        assert time.monotonic() < deadline, "the task's own process survived"
        time.sleep(0.02)


def test_windows_kill_tree_is_taskkill_of_the_whole_tree(
    calls: list[list[str]], windows: None
) -> None:
    host.kill_tree(4321)
    assert calls == [["taskkill", "/T", "/F", "/PID", "4321"]]


def test_windows_reap_waits_for_nothing(monkeypatch: pytest.MonkeyPatch, windows: None) -> None:
    def no_waitpid(pid: int, options: int) -> None:
        raise AssertionError("Windows has no zombies and no os.WNOHANG")

    monkeypatch.setattr(os, "waitpid", no_waitpid)
    host.reap(4321)
