"""`hpcspec destroy MANIFEST | --stack NAME`: cancel every active job of a stack.

The plan (every live job of the stack to cancel) is shown first; the same confirmation rules
as apply hold (`--auto-approve` in pipelines; never without a terminal otherwise). The
engine's destroy pipeline plans and cancels; the exit code says whether every cancel took
(0), some did (3) or none (1).
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
from hpcspec.cli.lock_cmd import lock_options, lock_settings
from hpcspec.cli.options import cluster_options
from hpcspec.cli.variables import stack_target, var_options
from hpcspec.cli.views import DestroyView
from hpcspec.config import ClusterFlags
from hpcspec.engine.pipeline import destroy_stack
from hpcspec.render import use_color


@click.command()
@click.argument("manifest", required=False, type=click.Path(path_type=Path))
@click.option("--stack", "stack_name", help="Destroy a stack by name instead of a manifest.")
@click.option("--auto-approve", is_flag=True, help="Cancel without asking (for CI).")
@event_output("destroy")
@lock_options
@var_options
@cluster_options
def destroy(
    manifest: Path | None,
    stack_name: str | None,
    auto_approve: bool,
    stream: JsonLinesView | None,
    lock: bool,
    lock_timeout: str,
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
) -> int:
    """Cancel every active job of a stack (finished jobs stay as they are)."""
    json_needs_approval(stream, auto_approve)
    stack_name, keys, resolved = stack_target(manifest, stack_name, var_pairs, var_files)
    locking = lock_settings(lock, lock_timeout)
    client, config = open_client(cluster_flags)
    view = stream or DestroyView(color=use_color(sys.stdout, dict(os.environ)))
    try:
        report = destroy_stack(
            client,
            stack_name,
            keys,
            cluster_name=str(config.url.value),
            observer=view,
            confirm=lambda _: confirm_or_refuse(auto_approve),
            lock=locking,
            state_key=config.state_key,
            adopted=resolved.adopted if resolved is not None else None,
            moved=resolved.moved if resolved is not None else None,
        )
    finally:
        client.close()
    return exit_code(report.outcome)
