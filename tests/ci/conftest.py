"""CI-suite helpers: run the CLI in-process against an emulator, with a CI runner's env."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hpcspec.cli import main

# Variables a CI runner sets that would change what hpcspec prints; tests set their own.
CI_VARIABLES = (
    "CI",
    "GITHUB_ACTIONS",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_RUN_ID",
    "GITHUB_REPOSITORY",
    "GITHUB_SERVER_URL",
    "TF_BUILD",
    "SYSTEM_COLLECTIONURI",
    "SYSTEM_TEAMPROJECT",
    "BUILD_BUILDID",
    "GITLAB_CI",
    "CI_PIPELINE_URL",
    "NO_COLOR",
)


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, emulator: Any
) -> Iterator[pytest.MonkeyPatch]:
    """A clean environment pointing hpcspec at the session emulator, cwd in tmp_path."""
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HPCSPEC_CONFIG", str(tmp_path / "config.yaml"))
    point_at(monkeypatch, emulator)
    monkeypatch.chdir(tmp_path)
    yield monkeypatch


def point_at(monkeypatch: pytest.MonkeyPatch, running: Any) -> None:
    monkeypatch.setenv("HPCSPEC_CLUSTER", running.url)
    monkeypatch.setenv("HPCSPEC_USERNAME", running.admin[0])
    monkeypatch.setenv("HPCSPEC_PASSWORD", running.admin[1])


@pytest.fixture
def hpcspec(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """`hpcspec(*args)` runs the CLI in this process and returns its exit code and output."""

    def run(*args: str) -> Run:
        with pytest.raises(SystemExit) as done:
            main(list(args))
        captured = capsys.readouterr()
        return Run(int(done.value.code or 0), captured.out, captured.err)

    return run


def write_manifest(directory: Path, text: str, name: str = "stack.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def unique_stack(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class MethodCounter:
    """WSGI middleware counting the HTTP methods the emulator receives."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.methods: Counter[str] = Counter()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.methods[environ["REQUEST_METHOD"]] += 1
        return self.app(environ, start_response)

    @property
    def writes(self) -> int:
        return sum(n for m, n in self.methods.items() if m not in ("GET", "HEAD", "OPTIONS"))


# The fake GitHub / Azure Repos / GitLab comment APIs (`forge` fixture).
from tests.ci.fake_forges import forge  # noqa: E402, F401
