"""Shared fixtures. Reference data is read from ../shared when present (never copied here)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
