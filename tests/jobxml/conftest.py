"""Fixtures for the job XML tests: the examples, resolved, and the reference XSDs."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from hpcspec.manifest import load_and_resolve
from hpcspec.manifest.resolve import ResolvedStack

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="session")
def job_schema(reference: Path) -> etree.XMLSchema:
    """`xsd/job-v4.wellformed.xsd` (job-v4.xsd itself is not well-formed)."""
    return etree.XMLSchema(etree.parse(str(reference / "xsd" / "job-v4.wellformed.xsd")))


@pytest.fixture(scope="session")
def task_schema(reference: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(reference / "xsd" / "task-v4.xsd")))


def resolved(path: Path) -> ResolvedStack:
    return load_and_resolve(path)
