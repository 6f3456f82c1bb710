"""`hpcspec apply MANIFEST... | PLAN.json`: make the cluster match, once; optionally wait.

Stages: load (manifests, or a saved plan and its manifest) → open the cluster → the engine's
apply pipeline (recover, plan or re-check the saved plan, confirm, apply, wait), shown by
`ApplyView` as it goes → exit code (0 ok, 1 error, 3 partial, 4 stale plan, 5 a job failed,
6 timed out with no job ended badly; `cli/exit_codes.py`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from hpcspec.cli import ci
from hpcspec.cli.context import open_client
from hpcspec.cli.event_stream import JsonLinesView, event_output, json_needs_approval
from hpcspec.cli.exit_codes import exit_code
from hpcspec.cli.failures import ExplainingObserver
from hpcspec.cli.lock_cmd import lock_options, lock_settings
from hpcspec.cli.logs import file_places
from hpcspec.cli.options import cluster_options, wait_timeout
from hpcspec.cli.planning import applying_options, load_stacks, plan_options, planning_options
from hpcspec.cli.variables import collect_vars, var_options
from hpcspec.cli.views import ApplyView
from hpcspec.config import ClusterFlags
from hpcspec.engine.pipeline import ApplyRequest, apply_stacks
from hpcspec.engine.plan_binding import ClusterIdentity, check_binding
from hpcspec.engine.planfile import PlanFileError, SavedPlan, read_saved_plan
from hpcspec.engine.secrets import remember_secrets
from hpcspec.engine.steps import ApplyOptions, CreateMethod
from hpcspec.errors import UsageError
from hpcspec.render import use_color


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI).")
@applying_options
@click.option("--wait", is_flag=True, help="Follow the stack's jobs until they end.")
@click.option(
    "--timeout",
    type=str,
    default=None,
    metavar="DURATION",
    help="With --wait: give up after this long (e.g. 30m, 2h).",
)
@event_output("apply", step_summary=True)
@lock_options
@planning_options
@var_options
@cluster_options
def apply(
    inputs: tuple[Path, ...],
    auto_approve: bool,
    create_via: str,
    parallelism: int,
    wait: bool,
    timeout: str | None,
    stream: JsonLinesView | None,
    lock: bool,
    lock_timeout: str,
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
    **selection: object,
) -> int:
    """Create, update, submit, replace or requeue jobs so the cluster matches the manifests."""
    wait_seconds = wait_timeout(wait, timeout)
    saved = _saved_plan(inputs)
    if saved is not None:
        _refuse_plan_flags(selection, var_pairs, var_files)
    reviewed = auto_approve or saved is not None  # a saved plan was reviewed: no prompt
    json_needs_approval(stream, reviewed)
    if saved is not None:
        manifest, overrides = _saved_inputs(saved.extra, inputs[0])
        manifests: tuple[Path, ...] = (manifest,)
    else:
        manifests, overrides = inputs, collect_vars(var_pairs, var_files)
    locking = lock_settings(lock, lock_timeout)
    stacks = load_stacks(manifests, overrides)
    for stack in stacks:  # masked in the task output `--wait` shows (`masking.py`)
        remember_secrets(stack)
    client, config = open_client(cluster_flags)
    if saved is not None:  # before any request that changes anything
        try:
            here = ClusterIdentity.read(client, key=config.state_key, url=str(config.url.value))
            check_binding(
                saved.extra,
                plan_stack=saved.plan.stack,
                here=here,
                stacks=[s.stack for s in stacks],
            )
        except BaseException:
            client.close()
            raise
    request = ApplyRequest(
        cluster_name=str(config.url.value),
        insecure=bool(config.insecure.value),
        plan_options=plan_options(selection),
        options=ApplyOptions(via=CreateMethod(create_via), parallelism=parallelism),
        saved=saved.plan if saved is not None else None,
        wait=wait,
        timeout=wait_seconds,
        provenance=lambda stack: ci.provenance(stack.source, os.environ),
        lock=locking,
        state_key=config.state_key,
    )
    view = stream or ApplyView(color=use_color(sys.stdout, dict(os.environ)))
    # in CI, a wait that ends with failed tasks shows what they printed (text only: JSON
    # records carry each failed task's first lines, and stdout must stay JSON)
    observer = stream or ExplainingObserver(
        view, client, stacks=[s.stack for s in stacks], places=file_places(config)
    )
    try:
        report = apply_stacks(
            client,
            stacks,
            request,
            observer=observer,
            confirm=lambda _: confirm_or_refuse(reviewed),
        )
    finally:
        view.close()
        client.close()
    return exit_code(report.outcome)


def _saved_inputs(extra: dict[str, object], plan: Path) -> tuple[Path, dict[str, str]]:
    """The manifest a saved plan was made from — as typed (relative to where apply runs, as
    in a CI checkout), else where it was when the plan was saved — and its `--var`s. An
    envelope `save_extra` did not write (`plan --output json`, an edit) is refused."""
    given, absolute = extra.get("manifest"), extra.get("manifest_absolute", "")
    variables = extra.get("vars", {})
    if not isinstance(given, str) or not given:
        raise _bad_envelope(plan, "manifest", given, "the manifest's file name")
    if not isinstance(absolute, str):
        raise _bad_envelope(plan, "manifest_absolute", absolute, "a file name")
    if not isinstance(variables, dict):
        raise _bad_envelope(plan, "vars", variables, "a mapping of --var names to values")
    manifest = Path(given)
    if not manifest.exists() and absolute and Path(absolute).exists():
        manifest = Path(absolute)
    return manifest, {str(k): str(v) for k, v in variables.items()}


def _bad_envelope(plan: Path, key: str, found: object, expected: str) -> PlanFileError:
    said = "missing" if found is None else json.dumps(found)
    said = said if len(said) <= 60 else said[:57] + "..."
    return PlanFileError(
        f"{plan} is not a saved hpcspec plan: extra.{key} must be {expected}, not {said}",
        code="plan-file-invalid",
        hint="a plan printed with --output json cannot be applied; save one with "
        "hpcspec plan --out FILE",
    )


def _saved_plan(inputs: tuple[Path, ...]) -> SavedPlan | None:
    if len(inputs) == 1 and inputs[0].suffix == ".json":
        return read_saved_plan(inputs[0])
    if any(p.suffix == ".json" for p in inputs):
        raise UsageError("apply takes manifests, or one saved plan (PLAN.json)", code="usage")
    return None


# The options that shape a plan: `apply PLAN.json` applies the plan as it was reviewed.
_PLAN_FLAGS = {
    "targets": "--target",
    "excludes": "--exclude",
    "reruns": "--rerun",
    "prune": "--prune",
    "allow_replace_running": "--allow-replace-running",
}


def _refuse_plan_flags(
    selection: dict[str, object], var_pairs: tuple[str, ...], var_files: tuple[Path, ...]
) -> None:
    """A saved plan is applied as reviewed: a flag that would change it is a usage error, not
    silently dropped (`apply plan.json --target a` applied every change of the plan)."""
    given = [flag for name, flag in _PLAN_FLAGS.items() if selection.get(name)]
    given += ["--var"] * bool(var_pairs) + ["--var-file"] * bool(var_files)
    if given:
        raise UsageError(
            f"{', '.join(given)} cannot change a saved plan: apply PLAN.json carries out "
            "exactly the plan that was reviewed",
            code="usage",
            hint=f"pass {given[0]} to hpcspec plan --out FILE, review that plan, and apply it",
        )


def confirm_or_refuse(auto_approve: bool) -> bool:
    """True to go ahead: --auto-approve, or 'yes' typed at a terminal; never without one."""
    if auto_approve:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            "refusing to apply without confirmation: stdin is not a terminal",
            code="confirmation-required",
            hint="pass --auto-approve in pipelines",
        )
    answer = click.prompt(
        "Apply these changes? Only 'yes' is accepted", default="", show_default=False
    )
    if answer.strip() != "yes":
        click.echo("Apply cancelled.", err=True)
        return False
    return True
