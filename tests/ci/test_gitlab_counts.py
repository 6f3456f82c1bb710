"""GitLab's three counts from hpcspec's actions (the mapping is documented in docs/ci.md)."""

from __future__ import annotations

from hpcspec.cli import ci
from hpcspec.engine.plan import Action, Block, BlockCode, Change, Plan


def test_every_action_has_a_gitlab_meaning() -> None:
    assert set(ci.GITLAB_COUNTS) == {action.value for action in Action}


def test_replace_is_a_delete_and_a_create_and_refused_changes_do_not_count() -> None:
    changes = (
        Change("a", Action.CREATE),
        Change("b", Action.RERUN),
        Change("c", Action.REPLACE),
        Change("d", Action.UPDATE),
        Change("e", Action.SUBMIT),
        Change("f", Action.REQUEUE),
        Change("g", Action.CANCEL),
        Change("h", Action.NO_OP, duplicates=(7, 8)),
        Change("i", Action.REPLACE, blocks=(Block(BlockCode.REPLACE_RUNNING, "running"),)),
    )
    plan = Plan("s", "c", changes)
    assert ci.gitlab_counts([plan, plan]) == {"create": 6, "update": 6, "delete": 8}
