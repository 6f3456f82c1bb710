"""Shared fixtures. Reference data is read from ../shared when present (never copied here)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hpcspec.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REFERENCE = SHARED / "reference" / "hpcpack"

# Fixture plugins contributed by parts of the suite (e.g. the running emulator).
pytest_plugins: list[str] = ["tests.emulator_fixture"]


@pytest.fixture(scope="session")
def reference() -> Path:
    """`../shared/reference/hpcpack`, or skip when this checkout has no shared folder."""
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference/hpcpack is not present")
    return REFERENCE


Runner = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Runner:
    """`hpcspec ARGS…` in-process: (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main(list(argv))
        out, err = capsys.readouterr()
        return int(done.value.code or 0), out, err

    return run
