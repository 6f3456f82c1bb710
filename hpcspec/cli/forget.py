"""`hpcspec forget MANIFEST KEY...`: stop managing removed keys' jobs (Terraform's `state rm`).

Stages: load the manifest (or take `--stack NAME`) → open the cluster → tag each key's live
jobs `hpcspec.forgotten` (`engine/forget.py`; a key the manifest moves is refused) → one line
per job. No job is cancelled.
"""

from __future__ import annotations

from pathlib import Path

import click

from hpcspec.cli.context import open_client
from hpcspec.cli.options import cluster_options
from hpcspec.cli.variables import stack_target, var_options
from hpcspec.config import ClusterFlags
from hpcspec.engine.forget import forget_keys
from hpcspec.errors import ExitCode, UsageError
from hpcspec.render import neutralise


@click.command()
@click.argument("arguments", nargs=-1, required=True, metavar="[MANIFEST] KEY...")
@click.option("--stack", "stack_name", help="Name the stack instead of giving its MANIFEST.")
@var_options
@cluster_options
def forget(
    arguments: tuple[str, ...],
    stack_name: str | None,
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
) -> int:
    """Stop managing the live jobs of keys removed from the manifest (they keep running)."""
    manifest = None if stack_name else Path(arguments[0])
    keys = list(arguments if stack_name else arguments[1:])
    if not keys:
        raise UsageError("name at least one KEY to forget", code="usage")
    name, managed, resolved = stack_target(manifest, stack_name, var_pairs, var_files)
    moved = resolved.moved if resolved is not None else {}
    client, _config = open_client(cluster_flags)
    try:
        done = forget_keys(client, name, keys, managed=managed, moved=moved)
    finally:
        client.close()
    for item in done:
        what = (
            "forgotten: hpcspec no longer manages it (it keeps running)"
            if item.forgotten
            else f"left as it is: it is {item.state} (a job that ended, or is being "
            "canceled, is not counted anyway)"
        )
        click.echo(f"{neutralise(item.key)} (job {item.job_id}): {what}")
    return int(ExitCode.OK)
