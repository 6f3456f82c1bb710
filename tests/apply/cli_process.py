"""Running the real `python -m hpcspec` as a separate process against an emulator."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hpcspec.config.state import stack_state_dir
from hpcspec.engine.journal import JOURNAL_FILE

CI_VARIABLES = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "TF_BUILD", "GITLAB_CI", "TERM")


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


def start(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hpcspec", *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


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
go = sys.argv.pop(1)
while not os.path.exists(go):
    time.sleep(0.001)
sys.exit(main(sys.argv[1:]))
"""


def start_together(
    argv: list[str], runs: list[tuple[Path, dict[str, str]]], go: Path
) -> list[subprocess.Popen[str]]:
    """One `hpcspec` process per (directory, env), all released at the same instant: each
    imports hpcspec first, then waits for the file `go`, which appears once all are up."""
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
    time.sleep(1.0)  # long enough to import hpcspec, even on a loaded machine
    go.touch()
    return processes
