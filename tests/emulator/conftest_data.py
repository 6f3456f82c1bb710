"""Reference vectors read at collection time (parametrize needs them before fixtures run)."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import REFERENCE


def sweep_vectors() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(expansion vectors, instance vectors) of derived/parametric-sweep-vectors.json."""
    path = REFERENCE / "derived" / "parametric-sweep-vectors.json"
    if not path.is_file():
        return [], []
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["expansion_vectors"], data["instance_vectors"]
