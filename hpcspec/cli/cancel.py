"""`hpcspec cancel MANIFEST|--stack S KEY[/TASK]`: cancel a job, or one task or sweep instance.

The plan (`cancel (job 7, Running)`, `cancel task run[3]`) is shown first and the same
confirmation rules as apply and destroy hold (`--auto-approve` in pipelines). A whole sweep
(`KEY/run`) is cancelled by its master in one request; `KEY/run[17]` cancels one instance.
Running tasks end Failed and waiting ones Canceled, as HPC Pack does; a job with a canceled
task ends Failed, and `hpcspec requeue --failed-only` runs such tasks again.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from hpcspec.cli.apply import confirm_or_refuse
from hpcspec.cli.context import open_client
from hpcspec.cli.event_stream import JsonLinesView, event_output, json_needs_approval
from hpcspec.cli.exit_codes import exit_code
from hpcspec.cli.options import cluster_options
from hpcspec.cli.variables import manifest_and_target, stack_target, var_options
from hpcspec.cli.views import RescueView
from hpcspec.config import ClusterFlags
from hpcspec.engine.rescue_plan import plan_cancel, run_rescue
from hpcspec.engine.task_target import TaskTarget
from hpcspec.render import use_color


@click.command()
@click.argument("arguments", nargs=-1, metavar="[MANIFEST] KEY[/TASK]")
@click.option("--stack", "stack_name", help="Name the stack instead of giving its manifest.")
@click.option("--auto-approve", is_flag=True, help="Cancel without asking (for CI).")
@event_output("cancel")
@var_options
@cluster_options
def cancel(
    arguments: tuple[str, ...],
    stack_name: str | None,
    auto_approve: bool,
    stream: JsonLinesView | None,
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
) -> int:
    """Cancel a job of a stack, or one of its tasks (KEY/TASK, a sweep instance KEY/TASK[N]).

    A matrix task goes by its name ('post[mesh=fine;re=1e5]', quoted for the shell); KEY/post
    cancels every task of the matrix post, or the whole sweep post.
    """
    json_needs_approval(stream, auto_approve)
    manifest, target_text = manifest_and_target(arguments, stack_name, needs_target=True)
    target = TaskTarget.parse(target_text)
    stack, keys, resolved = stack_target(manifest, stack_name, var_pairs, var_files)
    adopted = resolved.adopted if resolved is not None else {}
    moved = resolved.moved if resolved is not None else {}
    client, config = open_client(cluster_flags)
    view = stream or RescueView(
        color=use_color(sys.stdout, dict(os.environ)), nothing="Nothing to cancel."
    )
    try:
        cluster = str(config.url.value)
        dependents = {k: list(j.depends_on) for k, j in resolved.jobs.items()} if resolved else None
        plan = plan_cancel(
            client,
            stack,
            keys,
            target,
            cluster=cluster,
            adopted=adopted,
            moved=moved,
            dependents=dependents,
        )
        report = run_rescue(
            client,
            plan,
            observer=view,
            confirm=lambda _: confirm_or_refuse(auto_approve),
            state_key=config.state_key,
            keys=keys,
            adopted=adopted,
            moved=moved,
        )
    finally:
        view.close()
        client.close()
    return exit_code(report.verdict)
