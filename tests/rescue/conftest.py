"""A private emulator running tasks as real processes (`local` executor), and the CLI
pointed at it, for `hpcspec logs`, failure groups in CI and `import --job`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hpcspec.emulator import Timings
from hpcspec.engine import wait
from tests.apply.cli_process import point_cli_at


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.emulator_fixture import _start

    directory = tmp_path_factory.mktemp("logs-cluster")
    (directory / "work").mkdir()
    running = _start(
        directory,
        executor="local",
        nodes=2,
        cores_per_node=8,
        timings=Timings(tick=0.05, simulate=0.1),
        work_root=directory / "work",
    )
    yield running
    running.stop()


@pytest.fixture
def cli_env(cluster: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    point_cli_at(cluster, tmp_path, monkeypatch)
    monkeypatch.setattr(wait, "POLL_SECONDS", 0.1)
    yield tmp_path
