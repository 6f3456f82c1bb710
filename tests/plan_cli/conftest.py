"""`hpcspec plan` at the command line: run the real CLI in-process against an emulator.

`run_cli(*argv)` calls `hpcspec.cli.main` (the error boundary that maps outcomes to exit
codes) and returns (exit code, stdout, stderr). The `cli_env` fixture points the CLI at a
cluster through `HPCSPEC_CLUSTER`/`HPCSPEC_USERNAME`/`HPCSPEC_PASSWORD`, isolates it from the
developer's contexts file and from CI variables, and runs in a temporary directory (where
apply keeps its journal).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CI_VARIABLES = (
    "GITHUB_ACTIONS",
    "GITHUB_STEP_SUMMARY",
    "TF_BUILD",
    "GITLAB_CI",
    "NO_COLOR",
    "TERM",
    "HPCSPEC_AS_USER",
    "HPCSPEC_CA_BUNDLE",
    "HPCSPEC_CLUSTER",
    "HPCSPEC_USERNAME",
    "HPCSPEC_PASSWORD",
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A private emulator for one test module (tests use their own stack names)."""
    from tests.emulator_fixture import _start

    running = _start(
        tmp_path_factory.mktemp("plan-cli"),
        nodes=2,
        cores_per_node=4,
        templates=("Default", "Big"),
        groups=(("GPU", ("CN001",)),),
    )
    yield running
    running.stop()


def use_cluster(
    monkeypatch: pytest.MonkeyPatch, running: Any, user: tuple[str, str] | None = None
) -> None:
    name, password = user or running.admin
    monkeypatch.setenv("HPCSPEC_CLUSTER", running.url)
    monkeypatch.setenv("HPCSPEC_USERNAME", name)
    monkeypatch.setenv("HPCSPEC_PASSWORD", password)


@pytest.fixture
def cli_env(cluster: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HPCSPEC_CONFIG", str(tmp_path / "no-contexts.yaml"))
    use_cluster(monkeypatch, cluster)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def write_manifest(directory: Path, stack: str, jobs: str, name: str = "m.yaml") -> Path:
    """A manifest file for `stack` with the given (already indented) `jobs:` body."""
    path = directory / name
    path.write_text(f"apiVersion: hpcspec/v1\nstack: {stack}\njobs:\n{jobs}", encoding="utf-8")
    return path


def job(key: str, command: str = "echo hi", extra: str = "") -> str:
    """One job entry for `write_manifest`."""
    return f"  {key}:\n{extra}    tasks:\n      t: {{commandLine: '{command}'}}\n"
