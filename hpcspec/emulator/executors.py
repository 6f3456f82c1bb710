"""How tasks run: `simulate` (timed, no process) and `local` (a real subprocess).

Simulated command lines follow the `sleep:SECONDS` / `exit:CODE` convention documented in
`docs/emulator.md`. The local executor runs the command line through the shell in the task's
working directory with the environment the scheduler built (cluster < job < task, then the
CCP_* variables), its standard input, output and error read from and written to the task's
StdInFilePath, StdOutFilePath and StdErrFilePath (relative paths are in the working directory),
and keeps the first 4 KB of what it printed to the streams that were not redirected as `Output`
— empty when both are (`msdocs/ischedulertask-output.md`). A file it cannot open fails the task
with the scheduler's Execution_FailedToOpenStandard* message.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from hpcspec.host import kill_tree

OUTPUT_LIMIT = 4096
_SLEEP = re.compile(r"(?<!\S)sleep:(\d+(?:\.\d+)?)(?!\S)")
_EXIT = re.compile(r"(?<!\S)exit:(-?\d+)(?!\S)")
_ECHO = re.compile(r"^\s*echo\s+(.*)$", re.DOTALL)

TaskKey = tuple[int, int, int]


@dataclass(frozen=True)
class TaskRun:
    """What the scheduler hands an executor to start one task (or subtask)."""

    key: TaskKey
    command_line: str
    env: dict[str, str]
    work_directory: str
    runtime_seconds: int  # 0 = unlimited
    started_at: float  # epoch; lets a restarted emulator resume a simulated task
    stdin_path: str = ""  # "" = no input; relative paths are in the working directory
    stdout_path: str = ""  # "" = kept in Output
    stderr_path: str = ""  # "" = kept in Output

    def path(self, name: str) -> Path:
        """A task's file path: absolute as given, relative ones in the working directory."""
        return Path(self.work_directory) / name


class StartFailure(Enum):
    """Why a task's process could not start (each has its Execution_* message)."""

    WORK_DIRECTORY = "work-directory"
    STDIN = "stdin"
    STDOUT = "stdout"
    STDERR = "stderr"


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    output: str
    timed_out: bool = False
    start_failed: StartFailure | None = None  # the process could not start


class Executor(Protocol):
    def start(self, run: TaskRun) -> None: ...

    def poll(self, key: TaskKey) -> Outcome | None:
        """The outcome once the task has ended; None while it runs (or is unknown)."""
        ...

    def stop(self, key: TaskKey) -> None: ...

    def running(self, key: TaskKey) -> bool: ...

    def stop_all(self) -> None: ...


class SimulateExecutor:
    """Tasks take `sleep:N` seconds (default `duration`) and exit with `exit:N` (default 0)."""

    def __init__(self, duration: float = 1.0) -> None:
        self.duration = duration
        self._runs: dict[TaskKey, TaskRun] = {}
        self._lock = threading.Lock()

    def start(self, run: TaskRun) -> None:
        with self._lock:
            self._runs[run.key] = run

    def running(self, key: TaskKey) -> bool:
        return key in self._runs

    def poll(self, key: TaskKey) -> Outcome | None:
        run = self._runs.get(key)
        if run is None:
            return None
        sleep = _SLEEP.search(run.command_line)
        duration = float(sleep.group(1)) if sleep else self.duration
        elapsed = time.time() - run.started_at
        limited = 0 < run.runtime_seconds < duration
        if limited and elapsed >= run.runtime_seconds:
            self.stop(key)
            return Outcome(-1, "", timed_out=True)
        if elapsed < duration:
            return None
        self.stop(key)
        exit_match = _EXIT.search(run.command_line)
        echo = _ECHO.match(run.command_line)
        output = echo.group(1) + "\n" if echo and not run.stdout_path else ""
        return Outcome(int(exit_match.group(1)) if exit_match else 0, output[:OUTPUT_LIMIT])

    def stop(self, key: TaskKey) -> None:
        with self._lock:
            self._runs.pop(key, None)

    def stop_all(self) -> None:
        with self._lock:
            self._runs.clear()


@dataclass
class _Process:
    run: TaskRun
    popen: subprocess.Popen[bytes]
    output: bytearray
    reader: threading.Thread


class LocalExecutor:
    """Runs each command line with `/bin/sh -c` (or cmd on Windows) in its own process group."""

    def __init__(self) -> None:
        self._procs: dict[TaskKey, _Process] = {}
        self._failed: dict[TaskKey, Outcome] = {}
        self._lock = threading.Lock()

    def start(self, run: TaskRun) -> None:
        if not Path(run.work_directory).is_dir():
            self._fail(run, StartFailure.WORK_DIRECTORY)
            return
        with contextlib.ExitStack() as files:
            try:
                streams = _open_streams(run, files)
            except _CannotOpen as error:
                self._fail(run, error.failure)
                return
            popen = subprocess.Popen(
                run.command_line,
                shell=True,
                cwd=run.work_directory,
                env=run.env,
                start_new_session=os.name != "nt",
                **streams,
            )
        output = bytearray()
        reader = threading.Thread(target=_drain, args=(popen, output), daemon=True)
        reader.start()
        with self._lock:
            self._procs[run.key] = _Process(run, popen, output, reader)

    def _fail(self, run: TaskRun, failure: StartFailure) -> None:
        with self._lock:
            self._failed[run.key] = Outcome(-1, "", start_failed=failure)

    def running(self, key: TaskKey) -> bool:
        return key in self._procs or key in self._failed

    def poll(self, key: TaskKey) -> Outcome | None:
        with self._lock:
            failed = self._failed.pop(key, None)
        if failed is not None:
            return failed
        proc = self._procs.get(key)
        if proc is None:
            return None
        code = proc.popen.poll()
        limit = proc.run.runtime_seconds
        if code is None and limit and time.time() - proc.run.started_at >= limit:
            self.stop(key)
            return Outcome(-1, _text(proc.output), timed_out=True)
        if code is None:
            return None
        proc.reader.join(timeout=2)
        with self._lock:
            self._procs.pop(key, None)
        return Outcome(code, _text(proc.output))

    def stop(self, key: TaskKey) -> None:
        with self._lock:
            proc = self._procs.pop(key, None)
            self._failed.pop(key, None)
        if proc is None or proc.popen.poll() is not None:
            return
        kill_tree(proc.popen.pid)
        proc.popen.wait(timeout=5)

    def stop_all(self) -> None:
        for key in list(self._procs):
            self.stop(key)


class _CannotOpen(Exception):
    def __init__(self, failure: StartFailure) -> None:
        self.failure = failure


def _open_streams(run: TaskRun, files: contextlib.ExitStack) -> dict[str, Any]:
    """stdin/stdout/stderr for Popen: the task's files, else a pipe kept for Output.

    Output files are written afresh (truncated); stdout and stderr naming the same file share
    one handle, so both land in it in the order they were written.
    """

    def open_file(name: str, mode: str, failure: StartFailure) -> Any:
        try:
            return files.enter_context(open(run.path(name), mode))
        except OSError:
            raise _CannotOpen(failure) from None

    streams: dict[str, Any] = {"stdin": subprocess.DEVNULL}
    if run.stdin_path:
        streams["stdin"] = open_file(run.stdin_path, "rb", StartFailure.STDIN)
    out = open_file(run.stdout_path, "wb", StartFailure.STDOUT) if run.stdout_path else None
    same = run.stderr_path and run.path(run.stderr_path) == run.path(run.stdout_path or "")
    if run.stderr_path and not same:
        err: Any = open_file(run.stderr_path, "wb", StartFailure.STDERR)
    else:
        err = out if same else None
    streams["stdout"] = out if out is not None else subprocess.PIPE
    if err is not None:
        streams["stderr"] = err
    elif out is None:
        streams["stderr"] = subprocess.STDOUT  # both kept: one stream, in order
    else:
        streams["stderr"] = subprocess.PIPE
    return streams


def _drain(popen: subprocess.Popen[bytes], output: bytearray) -> None:
    """Keep the first 4 KB of the pipe (stdout, or stderr when stdout is redirected); read and
    drop the rest so the child never blocks on a full pipe."""
    pipe = popen.stdout or popen.stderr
    if pipe is None:  # both redirected: Output stays empty
        return
    for chunk in iter(lambda: pipe.read(8192), b""):
        room = OUTPUT_LIMIT - len(output)
        if room > 0:
            output.extend(chunk[:room])


def _text(output: bytearray) -> str:
    return bytes(output[:OUTPUT_LIMIT]).decode("utf-8", errors="replace")


def make_executor(kind: str, simulate_seconds: float) -> Executor:
    if kind == "local":
        return LocalExecutor()
    if kind == "simulate":
        return SimulateExecutor(simulate_seconds)
    raise ValueError(f"unknown executor {kind!r}: expected simulate or local")
