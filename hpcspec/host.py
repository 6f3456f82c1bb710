"""The operating system hpcspec runs on: the few places where POSIX and Windows differ.

Each difference is one function here, used by every caller (docs/windows.md lists them and
what is not tested on Windows):

- `owner_only(path)`: a file or directory only its owner may read. POSIX: mode 0600/0700.
  Windows ignores those bits (only "read-only" exists), so the ACL is replaced: inheritance
  removed, full control for the current user only (`icacls`); a directory passes that on to
  everything created in it.
- `shared_with_others(path)`: why a directory hpcspec keeps state in is not the user's alone
  (another owner, or others may write in it without the sticky bit), else None. POSIX reads
  the owner and mode; on Windows the ACL `owner_only` sets is not read back (None).
- `pid_alive(pid)`: `os.kill(pid, 0)` asks "is it alive?" on POSIX, but on Windows signal 0
  is CTRL_C_EVENT: it interrupts a console process group, or fails. Windows asks the kernel
  (`OpenProcess` + `GetExitCodeProcess`: running while the code is STILL_ACTIVE).
- `kill_tree(pid)`: a task's command line runs under a shell. POSIX starts it in a new session
  and kills the whole process group; on Windows `Popen.kill()` would end only `cmd.exe` and
  leave the program it started, so `taskkill /T /F` ends the tree.
- `reap(pid)`: POSIX collects an exited child so it leaves no zombie; Windows has none (and
  no `os.WNOHANG`).

The platform is read at call time (`os.name`), so tests patch it, `subprocess.run` and a fake
kernel32.
"""

from __future__ import annotations

import contextlib
import ctypes
import getpass
import os
import signal
import stat
import subprocess
from pathlib import Path
from typing import Any

STILL_ACTIVE = 259  # GetExitCodeProcess: the process has not exited
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
ERROR_ACCESS_DENIED = 5


def on_windows() -> bool:
    """Whether this client runs on Windows (the one place that asks)."""
    return os.name == "nt"


# ctypes has WinDLL and get_last_error on Windows only; typed loosely so Linux mypy accepts them
_WIN_CTYPES: Any = ctypes


def owner_only(path: Path) -> None:
    """Let only the current user read and write `path` (a directory: and all it will hold)."""
    if not on_windows():
        os.chmod(path, 0o700 if path.is_dir() else 0o600)
        return
    user = windows_user()
    grant = f"{user}:(OI)(CI)F" if path.is_dir() else f"{user}:F"
    done = subprocess.run(
        ["icacls", str(path), "/inheritance:r", "/grant:r", grant],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        why = (done.stdout or done.stderr).strip() or f"exit code {done.returncode}"
        raise OSError(f"cannot make {path} private to {user} (icacls: {why})")


def shared_with_others(path: Path) -> str | None:
    """Why `path` (an existing file or directory, links followed) is not the user's alone:
    a link, or what it leads to, owned by another user (root excepted), or writable by others
    (a directory: without the sticky bit), so that they could change it or plant files or
    links in it (ssh's StrictModes); None when it is the user's (and always on Windows, where
    `owner_only`'s ACL is not read)."""
    if on_windows():
        return None
    me = os.getuid()
    linked = os.lstat(path)
    if stat.S_ISLNK(linked.st_mode) and linked.st_uid not in (me, 0):
        # Its owner may point it elsewhere between our check and our open (root's links,
        # such as macOS's /var -> /private/var, and the user's own are fine).
        return f"it is a symbolic link owned by another user (uid {linked.st_uid})"
    found = os.stat(path)
    if found.st_uid not in (me, 0):
        return f"it is owned by another user (uid {found.st_uid})"
    sticky = stat.S_ISDIR(found.st_mode) and found.st_mode & stat.S_ISVTX
    if found.st_mode & 0o022 and not sticky:
        return f"others may write in it (mode {stat.S_IMODE(found.st_mode):04o})"
    return None


def windows_user() -> str:
    """The current Windows account as DOMAIN\\user (the form icacls accepts)."""
    name = os.environ.get("USERNAME") or getpass.getuser()
    domain = os.environ.get("USERDOMAIN")
    return f"{domain}\\{name}" if domain else name


def _kernel32() -> Any:
    return _WIN_CTYPES.WinDLL("kernel32", use_last_error=True)


def pid_alive(pid: int) -> bool:
    """Whether process `pid` is still running (never signals it)."""
    if not on_windows():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # alive, owned by someone else
            return True
        return True
    kernel = _kernel32()
    handle = kernel.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        # no such process, unless it exists and we may not look at it
        return bool(_WIN_CTYPES.get_last_error() == ERROR_ACCESS_DENIED)
    try:
        code = ctypes.c_ulong()
        if not kernel.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return code.value == STILL_ACTIVE
    finally:
        kernel.CloseHandle(handle)


def kill_tree(pid: int) -> None:
    """Stop `pid` and every process it started, at once (the task's time is up or cancelled)."""
    if not on_windows():
        # the local executor starts each task in a new session: its group id is its pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        return
    subprocess.run(
        ["taskkill", "/T", "/F", "/PID", str(pid)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,  # already gone is fine
    )


def reap(pid: int) -> None:
    """Collect an exited child's status so it leaves no zombie (nothing to do on Windows)."""
    if on_windows():
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
