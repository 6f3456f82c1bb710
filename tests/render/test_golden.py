"""Golden files for every renderer over plans that cover every action.

Regenerate after an intended change, then review the diff:

    UPDATE_GOLDEN=1 /work/venv/bin/pytest tests/render -p no:cacheprovider
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from hpcspec.engine.plan import Action, Plan
from hpcspec.render import render_json, render_markdown, render_text
from tests.render import plans

GOLDEN = Path(__file__).parent / "golden"

PLANS: dict[str, Callable[[], Plan]] = {
    "every-action": plans.every_action,
    "orphan-without-prune": plans.orphan_without_prune,
    "no-changes": plans.no_changes,
    "parent-replaced": plans.parent_replaced,
}
RENDERERS: dict[str, Callable[[Plan], str]] = {
    "txt": lambda plan: render_text(plan, color=False),
    "color.txt": lambda plan: render_text(plan, color=True),
    "md": render_markdown,
    "json": render_json,
}


@pytest.mark.parametrize("suffix", sorted(RENDERERS))
@pytest.mark.parametrize("name", sorted(PLANS))
def test_rendered_plan_matches_golden_file(name: str, suffix: str) -> None:
    rendered = RENDERERS[suffix](PLANS[name]())
    path = GOLDEN / f"{name}.{suffix}"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8", newline="\n")
    assert path.exists(), f"missing {path.name}: run with UPDATE_GOLDEN=1"
    assert rendered == path.read_text(encoding="utf-8")


def test_the_golden_plans_cover_every_action() -> None:
    plan = plans.every_action()
    assert set(plan.counts()) == set(Action)
    blocked = [c for c in plan.changes if c.blocks]
    assert [(c.key, c.action, c.running_tasks) for c in blocked] == [("solve", Action.REPLACE, 3)]
    orphans = {
        c.key: (c.action, c.reasons[0].message)
        for c in plans.orphan_without_prune().changes
        if c.reasons[0].code == "orphan"
    }
    assert orphans["old-a"] == (
        Action.NO_OP,
        "job 30 is not in the manifest; --prune would cancel it",
    )
