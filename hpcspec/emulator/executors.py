"""How tasks run: `simulate` (timed, no process) and `local` (a real subprocess).

Simulated command lines follow the `sleep:SECONDS` / `exit:CODE` convention documented in
`docs/emulator.md`. The local executor runs the command line through the shell with the
environment the scheduler built (cluster < job < task, then the CCP_* variables) and keeps the
first 4 KB of stdout+stderr, as the scheduler does for `Output` (`msdocs/ischedulertask-output.md`).
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    output: str
    timed_out: bool = False
    start_failed: str = ""  # set when the process could not start (e.g. missing work dir)


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
        output = echo.group(1) + "\n" if echo else ""
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
            self._failed[run.key] = Outcome(-1, "", start_failed=run.work_directory)
            return
        popen = subprocess.Popen(
            run.command_line,
            shell=True,
            cwd=run.work_directory,
            env=run.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=os.name != "nt",
        )
        output = bytearray()
        reader = threading.Thread(target=_drain, args=(popen, output), daemon=True)
        reader.start()
        with self._lock:
            self._procs[run.key] = _Process(run, popen, output, reader)

    def running(self, key: TaskKey) -> bool:
        return key in self._procs or key in self._failed

    def poll(self, key: TaskKey) -> Outcome | None:
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


def _drain(popen: subprocess.Popen[bytes], output: bytearray) -> None:
    """Keep the first 4 KB; read (and drop) the rest so the child never blocks on a full pipe."""
    assert popen.stdout is not None
    for chunk in iter(lambda: popen.stdout.read(8192) if popen.stdout else b"", b""):
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
