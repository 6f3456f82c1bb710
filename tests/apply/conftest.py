"""Fixtures for apply's CLI tests: a private emulator per module and the in-process CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hpcspec.emulator import Timings
from tests.apply.cli_process import point_cli_at
from tests.conftest import Runner

InProcess = Callable[[list[str], Path, dict[str, str]], tuple[int, str, str]]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.emulator_fixture import _start

    running = _start(
        tmp_path_factory.mktemp("apply-cli"),
        nodes=2,
        cores_per_node=8,
        timings=Timings(tick=0.05, simulate=0.1),
    )
    yield running
    running.stop()


@pytest.fixture
def cli_env(cluster: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    point_cli_at(cluster, tmp_path, monkeypatch)
    yield tmp_path


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch, run_cli: Runner) -> InProcess:
    """`cli_process.run(argv, cwd, env)`, but `hpcspec` runs in this process with env's
    HPCSPEC_* settings and HOME: for a read-only command that checks what the processes under
    test left behind, where a process of its own proves nothing more (and costs 0.6 s of CPU)."""

    def run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
        with monkeypatch.context() as patch:
            for name, value in env.items():
                if name.startswith("HPCSPEC_") or name in ("HOME", "NO_COLOR"):
                    patch.setenv(name, value)
            patch.chdir(cwd)
            return run_cli(*argv)

    return run
