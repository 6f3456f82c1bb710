"""`hpcspec destroy MANIFEST | --stack NAME`: cancel every active job of a stack.

The plan (every live job of the stack to cancel) is shown first; the same confirmation rules
as apply hold (`--auto-approve` in pipelines; never without a terminal otherwise).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from hpcspec.cli.apply import confirm_or_refuse
from hpcspec.cli.context import open_client
from hpcspec.cli.options import cluster_options
from hpcspec.cli.variables import stack_target, var_options
from hpcspec.config import ClusterFlags
from hpcspec.engine.discovery import list_stack
from hpcspec.engine.plan import Action, Change, Plan, Reason, ReasonCode
from hpcspec.errors import ExitCode, HpcspecError
from hpcspec.hpcpack.states import JobState
from hpcspec.render import render_text, use_color


@click.command()
@click.argument("manifest", required=False, type=click.Path(path_type=Path))
@click.option("--stack", "stack_name", help="Destroy a stack by name instead of a manifest.")
@click.option("--auto-approve", is_flag=True, help="Cancel without asking (for CI).")
@var_options
@cluster_options
def destroy(
    manifest: Path | None,
    stack_name: str | None,
    auto_approve: bool,
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
) -> int:
    """Cancel every active job of a stack (finished jobs stay as they are)."""
    stack_name, keys, _ = stack_target(manifest, stack_name, var_pairs, var_files)
    client, config = open_client(cluster_flags)
    try:
        listed = list_stack(client, stack_name, keys).by_key
        changes = []
        for key, jobs in sorted(listed.items()):
            for job in jobs:
                if job.state is not JobState.Canceling and (
                    job.state is JobState.Configuring or job.state.is_active
                ):
                    changes.append(
                        Change(
                            key=key,
                            action=Action.CANCEL,
                            live_id=job.id,
                            live_state=job.state.name,
                            reasons=(
                                Reason(ReasonCode.DESTROY, f"job {job.id} is {job.state.name}"),
                            ),
                        )
                    )
        plan = Plan(stack=stack_name, cluster=str(config.url.value), changes=tuple(changes))
        click.echo(render_text(plan, color=use_color(sys.stdout, dict(os.environ))), nl=False)
        if not changes:
            click.echo("Nothing to cancel.")
            return int(ExitCode.OK)
        if not confirm_or_refuse(auto_approve):
            return int(ExitCode.ERROR)
        failed = 0
        for change in changes:
            assert change.live_id is not None
            try:
                client.cancel_job(change.live_id, "hpcspec destroy")
                click.echo(f"{change.key} (job {change.live_id}): cancelled")
            except HpcspecError as error:
                failed += 1
                click.echo(f"{change.key} (job {change.live_id}): {error.message}", err=True)
        return int(
            ExitCode.OK
            if not failed
            else ExitCode.PARTIAL
            if failed < len(changes)
            else ExitCode.ERROR
        )
    finally:
        client.close()
