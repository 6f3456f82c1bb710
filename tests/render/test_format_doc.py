"""docs/plan-format.md documents every field the JSON plan document has."""

from __future__ import annotations

import re
from pathlib import Path

from hpcspec.engine.plan import Action
from hpcspec.engine.planfile import plan_document
from tests.render import plans

DOC = Path(__file__).parents[2] / "docs" / "plan-format.md"


def _documented() -> set[str]:
    return set(re.findall(r"^\|(?: \w+ \|)? `([a-z_]+)` \|", DOC.read_text(), re.MULTILINE))


def test_every_field_of_the_document_is_documented() -> None:
    document = plan_document(plans.every_action())
    changes = document["changes"]
    assert isinstance(changes, list)
    fields = set(document) | {"extra"}
    for change in changes:
        fields |= set(change)
        for part in ("reasons", "diffs", "blocks"):
            for item in change[part]:
                fields |= set(item)
    assert fields - _documented() == set()


def test_every_action_is_documented_with_its_terraform_actions() -> None:
    text = DOC.read_text()
    for action in Action:
        assert f"| `{action.value}` | `[" in text
