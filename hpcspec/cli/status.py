"""`hpcspec status [MANIFEST | --stack NAME]`: a row per job key; `--watch` and `--wait`."""

from __future__ import annotations

import time
from pathlib import Path

import click

from hpcspec.cli import ci
from hpcspec.cli.context import open_client
from hpcspec.cli.exit_codes import exit_code
from hpcspec.cli.failures import ExplainingObserver, explain_failures
from hpcspec.cli.logs import file_places
from hpcspec.cli.options import cluster_options, duration_seconds, output_option, wait_timeout
from hpcspec.cli.variables import say_if_no_jobs, stack_target, var_options
from hpcspec.cli.views import WaitView
from hpcspec.config import ClusterFlags
from hpcspec.engine.status import stack_status, with_sources
from hpcspec.engine.wait import wait_for_stacks
from hpcspec.errors import ExitCode, UsageError
from hpcspec.render.status import (
    render_status_json,
    render_status_markdown,
    render_status_text,
)

RENDERERS = {
    "text": render_status_text,
    "markdown": render_status_markdown,
    "json": render_status_json,
}


@click.command()
@click.argument("manifest", required=False, type=click.Path(path_type=Path))
@click.option("--stack", "stack_name", help="Show a stack by name instead of a manifest.")
@output_option(sorted(RENDERERS), "How to show the status.")
@click.option("--watch", is_flag=True, help="Show the status again every few seconds.")
@click.option(
    "--interval",
    default="5s",
    show_default=True,
    metavar="DURATION",
    help="How often --watch refreshes.",
)
@click.option("--wait", is_flag=True, help="Wait until every job ended (exit 0/5/6).")
@click.option("--timeout", default=None, metavar="DURATION", help="With --wait: give up after.")
@click.option(
    "--provenance/--no-provenance",
    default=False,
    show_default=True,
    help="Show where each job was applied from (one extra request per job, once).",
)
@var_options
@cluster_options
def status(
    manifest: Path | None,
    stack_name: str | None,
    output: str,
    watch: bool,
    interval: str,
    wait: bool,
    timeout: str | None,
    provenance: bool,
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
) -> int:
    """Show each job of a stack: id, state, tasks by state, runtime, failed tasks."""
    seconds = wait_timeout(wait, timeout)
    pause = duration_seconds(interval, "--interval", positive=True)
    if wait and manifest is None:  # said before any request, not after the first rows
        raise UsageError("--wait needs the MANIFEST (for each job's retries)", code="usage")
    stack_name, keys, resolved = stack_target(manifest, stack_name, var_pairs, var_files)
    stacks = [resolved] if resolved is not None else []
    adopted = resolved.adopted if resolved is not None else {}
    moved = resolved.moved if resolved is not None else {}
    client, config = open_client(cluster_flags)
    render = RENDERERS[output]
    view = WaitView()
    places = file_places(config)
    # A job's key and source never change: each read once per job across --watch refreshes.
    sources: dict[int, str] = {}
    orphans: dict[int, tuple[tuple[str, str], ...]] = {}
    try:
        while True:
            rows = stack_status(
                client, stack_name, keys, adopted=adopted, moved=moved, known=orphans
            )
            if provenance:
                rows = with_sources(client, rows, sources)
            if not watch:
                say_if_no_jobs(stack_name, len(rows), by_name=resolved is None)
            click.echo(render(stack_name, rows), nl=False)
            if not watch:
                ci.append_step_summary(render_status_markdown(stack_name, rows))
                if not wait:  # with --wait, the failures are explained when it ends
                    explain_failures(client, rows, stacks=[stack_name], places=places)
                break
            time.sleep(pause)
            click.echo()
        if wait:
            explaining = ExplainingObserver(view, client, stacks=[stack_name], places=places)
            waited = wait_for_stacks(client, stacks, timeout=seconds, observer=explaining)
            return exit_code(waited.verdict)
        return int(ExitCode.OK)
    finally:
        view.close()
        client.close()
