"""Running the real `python -m hpcspec` as a separate process against an emulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.config.state import stack_state_dir
from hpcspec.engine.journal import JOURNAL_FILE

CI_VARIABLES = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "TF_BUILD", "GITLAB_CI", "TERM")


def point_cli_at(running: Any, home: Path, monkeypatch: Any) -> None:
    """Point the in-process CLI at `running` as its administrator, isolated from the
    developer's environment and CI (no contexts file, no CI variables, no colour setting),
    working in `home`."""
    for name in (*CI_VARIABLES, "NO_COLOR", "HPCSPEC_AS_USER", "HPCSPEC_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    name, password = running.admin
    monkeypatch.setenv("HPCSPEC_CLUSTER", running.url)
    monkeypatch.setenv("HPCSPEC_USERNAME", name)
    monkeypatch.setenv("HPCSPEC_PASSWORD", password)
    monkeypatch.setenv("HPCSPEC_CONFIG", str(home / "no-contexts.yaml"))
    monkeypatch.chdir(home)


def cli_env(running: Any, home: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI process pointed at `running`, isolated from the developer's."""
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES}
    env = {k: v for k, v in env.items() if not k.startswith("HPCSPEC_")}
    name, password = running.admin
    env.update(
        HPCSPEC_CLUSTER=running.url,
        HPCSPEC_USERNAME=name,
        HPCSPEC_PASSWORD=password,
        HPCSPEC_CONFIG=str(home / "no-contexts.yaml"),
        HPCSPEC_STATE_DIR=str(home / "state"),  # the journals: one applier's own
        NO_COLOR="1",
        **extra,
    )
    return env


def start(
    argv: list[str], cwd: Path, env: dict[str, str], *, default_signals: bool = False
) -> subprocess.Popen[str]:
    """The CLI as a process of its own (`default_signals`: SIGINT, SIGTERM and SIGHUP as a
    terminal gives them, even when this test process was started with them ignored — a
    non-interactive shell's background job ignores SIGINT, `nohup` SIGHUP, and children inherit
    that)."""
    return subprocess.Popen(
        [sys.executable, "-m", "hpcspec", *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_signals if default_signals else None,
    )


def _default_signals() -> None:
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "hpcspec", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


def journal_path(env: dict[str, str], stack: str) -> Path:
    """Where an applier with `env` keeps `stack`'s journal (its per-user state directory)."""
    return stack_state_dir(env["HPCSPEC_CLUSTER"], stack, env, create=False) / JOURNAL_FILE


BARRIER = """
import os, sys, time
from hpcspec.cli import main
import hpcspec.cli.apply  # the command's own modules: after the start line nothing is left to load
go = sys.argv.pop(1)
open(f"{go}.ready.{os.getpid()}", "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
sys.exit(main(sys.argv[1:]))
"""


def release(go: Path, processes: list[subprocess.Popen[str]], timeout: float = 120) -> None:
    """Create `go` once every BARRIER process has loaded hpcspec and says so. (A fixed sleep
    was not enough on a loaded machine: one applier started late, after the others had
    finished, so they never raced.)"""
    deadline = time.monotonic() + timeout
    while len(list(go.parent.glob(f"{go.name}.ready.*"))) < len(processes):
        gone = [p.communicate() for p in processes if p.poll() is not None]
        assert not gone, f"an applier ended before the start line: {gone}"
        assert time.monotonic() < deadline, "the appliers did not get ready"
        time.sleep(0.01)
    go.touch()


def start_together(
    argv: list[str], runs: list[tuple[Path, dict[str, str]]], go: Path
) -> list[subprocess.Popen[str]]:
    """One `hpcspec` process per (directory, env), all released at the same instant: each
    imports hpcspec first, then waits for the file `go`, which appears once all are ready."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", BARRIER, str(go), *argv],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for cwd, env in runs
    ]
    release(go, processes)
    return processes


def wait_until(process: subprocess.Popen[str], done: Callable[[], bool], pause: float) -> None:
    """Wait while `process` runs and `done()` is false; a process that neither ends nor gets
    there within 60 s is killed and the test fails (a hung CLI must not hold a worker)."""
    deadline = time.monotonic() + 60
    while process.poll() is None and not done():
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"neither done nor ended in 60 s: {process.communicate()}")
        time.sleep(pause)
