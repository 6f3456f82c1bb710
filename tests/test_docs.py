"""Manifests shown in the README and docs are valid: what users copy must work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hpcspec.manifest import parse_manifest, resolve

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _manifests() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        blocks = re.findall(r"```ya?ml\n(.*?)```", page.read_text(), re.S)
        found += [(f"{page.name}#{i}", b) for i, b in enumerate(blocks) if "apiVersion:" in b]
    return found


MANIFESTS = _manifests()


def test_docs_show_manifests() -> None:
    assert len(MANIFESTS) >= 2


@pytest.mark.parametrize(("where", "text"), MANIFESTS, ids=[w for w, _ in MANIFESTS])
def test_manifest_in_docs_validates(where: str, text: str) -> None:
    assert resolve(parse_manifest(text, file=where)).jobs
