"""`hpcspec apply MANIFEST... | PLAN.json`: make the cluster match, once; optionally wait.

Stages: load (manifests, or a saved plan and its manifest) → open the cluster → recover open
creates from the journal → plan (or check the saved plan) → show → confirm → apply → report →
wait → exit code (0 ok, 1 error, 3 partial, 4 stale plan, 5 a job failed, 6 timed out).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from hpcspec.cli import ci
from hpcspec.cli.context import open_client
from hpcspec.cli.follow import follow
from hpcspec.cli.options import cluster_options
from hpcspec.cli.planning import applying_options, load_stacks, plan_options, planning_options
from hpcspec.cli.variables import collect_vars, var_options
from hpcspec.config import ClusterFlags
from hpcspec.engine.apply import ApplyOptions, ApplyResult, JobResult, Outcome, apply_plan
from hpcspec.engine.journal import Journal
from hpcspec.engine.plan import BlockCode, Plan
from hpcspec.engine.planfile import SavedPlan, read_saved_plan
from hpcspec.engine.recover import recover
from hpcspec.engine.saved import check_saved
from hpcspec.engine.workflow import plan_stack
from hpcspec.errors import ExitCode, UsageError
from hpcspec.manifest.resolve import ResolvedStack
from hpcspec.render import neutralise, render_text, use_color


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
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
    **selection: object,
) -> int:
    """Create, update, submit, replace or requeue jobs so the cluster matches the manifests."""
    saved = _saved_plan(inputs)
    if saved is not None:
        manifests: tuple[Path, ...] = (_saved_manifest(saved.extra),)
        overrides = {str(k): str(v) for k, v in dict(saved.extra.get("vars") or {}).items()}
    else:
        manifests, overrides = inputs, collect_vars(var_pairs, var_files)
    wait_seconds = _seconds(timeout) if timeout else None
    stacks = load_stacks(manifests, overrides)
    client, config = open_client(cluster_flags)
    cluster_name = str(config.url.value)
    color = use_color(sys.stdout, dict(os.environ))
    try:
        plans: list[tuple[ResolvedStack, Plan]] = []
        for stack in stacks:
            journal = Journal(stack.stack)
            recovered = recover(client, stack, journal, via=create_via)
            if recovered:
                click.echo(
                    f"hpcspec: resumed an interrupted apply: job(s) "
                    f"{', '.join(map(str, recovered))} adopted",
                    err=True,
                )
            if saved is not None:
                plan = check_saved(client, saved.plan, stack)
            else:
                plan = plan_stack(
                    client,
                    stack,
                    cluster_name=cluster_name,
                    options=plan_options(selection),
                    insecure=bool(config.insecure.value),
                )
            plans.append((stack, plan))
        with ci.group("hpcspec apply: the plan", ci.plan_lines([p for _, p in plans])):
            for _, plan in plans:
                click.echo(render_text(plan, color=color), nl=False)
        if not any(p.has_changes for _, p in plans):
            click.echo("No changes. The cluster matches the manifest.")
        elif not confirm_or_refuse(auto_approve or saved is not None):  # reviewed: no prompt
            return int(ExitCode.ERROR)
        results: list[ApplyResult] = []
        for stack, plan in plans:
            if plan.has_changes:
                results.append(
                    apply_plan(
                        client,
                        stack,
                        plan,
                        Journal(stack.stack),
                        options=ApplyOptions(
                            via=create_via,
                            parallelism=parallelism,
                            source=ci.provenance(stack.source, os.environ),
                        ),
                        report=_report,
                    )
                )
        code = _summary(results, [p for _, p in plans])
        ci.append_step_summary(ci.apply_markdown([p for _, p in plans], results))
        if wait and code is ExitCode.OK:
            code = follow(client, stacks, timeout=wait_seconds)
        return int(code)
    finally:
        client.close()


def _saved_manifest(extra: dict[str, object]) -> Path:
    """The manifest a saved plan was made from: as typed (relative to where apply runs, as
    in a CI checkout), else where it was when the plan was saved."""
    given = Path(str(extra.get("manifest", "")))
    absolute = Path(str(extra.get("manifest_absolute", "")))
    return given if given.exists() or not absolute.exists() else absolute


def _saved_plan(inputs: tuple[Path, ...]) -> SavedPlan | None:
    if len(inputs) == 1 and inputs[0].suffix == ".json":
        return read_saved_plan(inputs[0])
    if any(p.suffix == ".json" for p in inputs):
        raise UsageError("apply takes manifests, or one saved plan (PLAN.json)", code="usage")
    return None


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


def _report(result: JobResult) -> None:
    if result.outcome is Outcome.UNCHANGED:
        return
    job = f" (job {result.job_id})" if result.job_id is not None else ""
    note = f": {neutralise(result.message)}" if result.message else ""
    click.echo(f"{result.key}{job}: {result.action.value} {result.outcome.value}{note}")


def _summary(results: list[ApplyResult], plans: list[Plan]) -> ExitCode:
    flat = [r for result in results for r in result.results]
    counts = {o: sum(1 for r in flat if r.outcome is o) for o in Outcome}
    click.echo(
        f"Apply: {counts[Outcome.DONE]} done, {counts[Outcome.FAILED]} failed, "
        f"{counts[Outcome.NOT_STARTED]} not started, {counts[Outcome.REFUSED]} refused, "
        f"{counts[Outcome.UNCHANGED]} unchanged."
    )
    stale = any(b.code is BlockCode.STALE_PLAN for p in plans for c in p.changes for b in c.blocks)
    codes = [r.exit_code for r in results]
    if stale:
        return ExitCode.STALE_PLAN
    if ExitCode.PARTIAL in codes or (codes.count(ExitCode.ERROR) and counts[Outcome.DONE]):
        return ExitCode.PARTIAL
    if ExitCode.ERROR in codes:
        return ExitCode.ERROR
    return ExitCode.OK


def _seconds(text: str) -> float:
    from hpcspec.hpcpack.values import parse_duration

    try:
        return float(parse_duration(text))
    except ValueError as bad:
        raise UsageError(f"--timeout {text!r}: {bad}", code="usage") from None
