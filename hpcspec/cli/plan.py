"""`hpcspec plan MANIFEST...`: what apply would do, for terminals, pull requests and machines.

Stages: load manifests → open the cluster → plan each stack → render → exit code
(0; or with --detailed-exitcode 0 no changes / 2 changes / 1 nothing apply can change but
the cluster does not match — refused changes, jobs that need a person; 1 on any error).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from hpcspec.cli import ci
from hpcspec.cli.context import open_client
from hpcspec.cli.exit_codes import Detailed, exit_code
from hpcspec.cli.options import cluster_options, output_option
from hpcspec.cli.planning import (
    load_stacks,
    plan_options,
    planning_options,
    save_extra,
)
from hpcspec.cli.variables import collect_vars, var_options
from hpcspec.config import ClusterFlags
from hpcspec.engine.pipeline import plan_stack
from hpcspec.engine.plan import Plan
from hpcspec.engine.plan_binding import EXTRA_KEY as BINDING_KEY
from hpcspec.engine.plan_binding import ClusterIdentity
from hpcspec.engine.planfile import check_overwritable, plan_document, save_plan
from hpcspec.engine.preflight import note_xml_trims
from hpcspec.errors import UsageError
from hpcspec.render import render_json, render_markdown, render_text, use_color
from hpcspec.render.neutralise import inert_json


@click.command()
@click.argument("manifests", nargs=-1, required=True, type=click.Path(path_type=Path))
@output_option(("text", "json", "markdown"), "How to show the plan.")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Save the plan to FILE for `hpcspec apply FILE` (one manifest; only a file that "
    "holds a saved plan is overwritten).",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing would change, 2 when something would, 1 on error.",
)
@click.option(
    "--gitlab-report",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Also write GitLab's terraform report (create/update/delete counts) to FILE.",
)
@planning_options
@var_options
@cluster_options
def plan(
    manifests: tuple[Path, ...],
    output: str,
    out: Path | None,
    detailed_exitcode: bool,
    gitlab_report: Path | None,
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
    **selection: object,
) -> int:
    """Show what apply would change on the cluster for each manifest's stack."""
    if out is not None and len(manifests) != 1:
        raise UsageError("--out saves the plan of exactly one manifest", code="usage")
    if out is not None:
        check_overwritable(out)  # before any request: nothing is planned for nothing
    overrides = collect_vars(var_pairs, var_files)
    stacks = load_stacks(manifests, overrides)
    client, config = open_client(cluster_flags)
    options = plan_options(selection)
    try:
        identity = (
            ClusterIdentity.read(client, key=config.state_key, url=str(config.url.value))
            if out is not None
            else None
        )
        plans = [
            note_xml_trims(  # apply's default create path refuses them: say so in the plan
                plan_stack(
                    client,
                    stack,
                    cluster_name=str(config.url.value),
                    options=options,
                    insecure=bool(config.insecure.value),
                ),
                stack,
            )
            for stack in stacks
        ]
    finally:
        client.close()
    if out is not None and identity is not None:
        extra = save_extra(manifests[0], overrides, selection)
        save_plan(plans[0], out, extra={**extra, BINDING_KEY: identity.record()})
    with ci.group("hpcspec plan", ci.plan_lines(plans) if output == "text" else 0):
        emit(plans, output)
    ci.append_step_summary("\n\n".join(render_markdown(p) for p in plans))
    if gitlab_report is not None:
        ci.write_gitlab_report(plans, gitlab_report)
    if any(p.blocked for p in plans):
        click.echo(
            "hpcspec: some changes are refused; apply will skip them (see `!` above)", err=True
        )
    changed = any(p.has_changes for p in plans)
    attention = any(p.blocked or not p.matches for p in plans)
    return exit_code(Detailed.of(changed, asked=detailed_exitcode, attention=attention))


def emit(plans: list[Plan], output: str) -> None:
    """Print plans in the chosen format (several JSON plans form one array)."""
    if output == "json":
        if len(plans) == 1:
            click.echo(render_json(plans[0]), nl=False)
        else:
            click.echo(inert_json([plan_document(p) for p in plans]))
    elif output == "markdown":
        click.echo("\n\n".join(render_markdown(p) for p in plans))
    else:
        color = use_color(sys.stdout, dict(os.environ))
        click.echo("\n".join(render_text(p, color=color) for p in plans), nl=False)
