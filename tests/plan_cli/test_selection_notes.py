"""A --target/--exclude/--rerun key that names no job is noted in the plan (a typo in CI would
otherwise select nothing and read as "no changes")."""

from __future__ import annotations

from pathlib import Path

from hpcspec.engine.discovery import LiveStack
from hpcspec.engine.plan import PlanOptions
from hpcspec.engine.planner import make_plan
from hpcspec.manifest import parse_manifest, resolve
from tests.conftest import Runner
from tests.plan_cli.conftest import job, write_manifest

TWO = "apiVersion: hpcspec/v1\nstack: s\njobs:\n" + job("a") + job("b")


def test_unknown_keys_are_noted_known_ones_are_not() -> None:
    options = PlanOptions(
        targets=frozenset({"a", "typo"}), excludes=frozenset({"b", "gone"}), rerun=frozenset({"x"})
    )
    plan = make_plan(
        resolve(parse_manifest(TWO, file="m.yaml")), LiveStack(), cluster="c", options=options
    )
    assert [c.key for c in plan.changes] == ["a"]
    assert plan.notes == (
        "--target 'typo' names no job of this stack",
        "--exclude 'gone' names no job of this stack",
        "--rerun 'x' names no job of this stack",
    )
    plain = make_plan(resolve(parse_manifest(TWO, file="m.yaml")), LiveStack(), cluster="c")
    assert plain.notes == ()


def test_a_mistyped_target_is_shown(cli_env: Path, run_cli: Runner) -> None:
    manifest = write_manifest(cli_env, "cli-typo", job("mesh"))
    code, out, _ = run_cli("plan", str(manifest), "--target", "msh", "--detailed-exitcode")
    assert code == 0
    assert "note: --target 'msh' names no job of this stack" in out
