"""What `plan` and `apply` share: selecting jobs, loading manifests, saved-plan envelopes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from hpcspec.engine.plan import PlanOptions
from hpcspec.errors import UsageError
from hpcspec.manifest import load_and_resolve
from hpcspec.manifest.resolve import ResolvedStack

_F = TypeVar("_F", bound=Callable[..., Any])

_SELECTION = [
    click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="KEY",
        help="Plan only this job key (repeatable).",
    ),
    click.option(
        "--exclude",
        "excludes",
        multiple=True,
        metavar="KEY",
        help="Leave this job key out (repeatable).",
    ),
    click.option(
        "--rerun",
        "reruns",
        multiple=True,
        metavar="KEY",
        help="Start a new run of this job even if unchanged (repeatable).",
    ),
    click.option(
        "--prune",
        is_flag=True,
        help="Cancel active jobs of the stack that the manifest no longer has.",
    ),
    click.option(
        "--allow-replace-running",
        is_flag=True,
        help="Allow replacing running jobs (discards their running work).",
    ),
]


_APPLYING = [
    click.option(
        "--create-via",
        type=click.Choice(["xml", "rest"]),
        default="xml",
        show_default=True,
        help="Create jobs with one job XML request, or by REST calls.",
    ),
    click.option(
        "--parallelism",
        type=click.IntRange(1, 64),
        default=8,
        show_default=True,
        help="Independent jobs applied at once.",
    ),
]


def applying_options(command: _F) -> _F:
    """Add `--create-via` and `--parallelism` (apply and reconcile)."""
    for option in reversed(_APPLYING):
        command = option(command)
    return command


def planning_options(command: _F) -> _F:
    """Add the job-selection options to a command."""
    for option in reversed(_SELECTION):
        command = option(command)
    return command


def plan_options(selection: Mapping[str, object]) -> PlanOptions:
    """The planner's options from the selection flags."""

    def keys(name: str) -> frozenset[str]:
        value = selection.get(name) or ()
        assert isinstance(value, tuple)
        return frozenset(str(v) for v in value)

    return PlanOptions(
        prune=bool(selection.get("prune")),
        targets=keys("targets"),
        excludes=keys("excludes"),
        rerun=keys("reruns"),
        allow_replace_running=bool(selection.get("allow_replace_running")),
    )


def load_stacks(manifests: Sequence[Path], overrides: Mapping[str, str]) -> list[ResolvedStack]:
    """Resolve every manifest (errors are located); two manifests may not share a stack."""
    stacks = [load_and_resolve(path, overrides) for path in manifests]
    seen: dict[str, str] = {}
    for stack in stacks:
        if stack.stack in seen:
            raise UsageError(  # an HpcspecError: a reconcile round says so and the loop goes on
                f"{stack.source} and {seen[stack.stack]} both declare stack {stack.stack!r}",
                code="usage",
                hint="give each stack's manifest once",
            )
        seen[stack.stack] = stack.source
    return stacks


def save_extra(
    manifest: Path, overrides: Mapping[str, str], selection: Mapping[str, object]
) -> dict[str, Any]:
    """What `apply PLAN.json` needs to rebuild the desired state (never secrets)."""
    return {
        "manifest": str(manifest),
        "manifest_absolute": str(manifest.resolve()),
        "vars": dict(overrides),
        "selection": {k: list(v) if isinstance(v, tuple) else v for k, v in selection.items()},
    }
