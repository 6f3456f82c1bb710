"""`hpcspec drift MANIFEST`: what someone changed on the cluster outside hpcspec (read-only).

Stages: load the manifest → open the cluster → detect drift (reads only) → render → exit code
(0; with --detailed-exitcode 0 no drift / 2 drift; 1 on any error). The engine function takes
only the reading protocol, so this command cannot write to the cluster.
"""

from __future__ import annotations

from pathlib import Path

import click

from hpcspec.cli import ci
from hpcspec.cli.context import open_client
from hpcspec.cli.exit_codes import Detailed, exit_code
from hpcspec.cli.options import cluster_options, output_option
from hpcspec.cli.variables import collect_vars, var_options
from hpcspec.config import ClusterFlags
from hpcspec.engine.drift import detect_drift
from hpcspec.manifest import load_and_resolve
from hpcspec.render.drift import render_drift_json, render_drift_markdown, render_drift_text

RENDERERS = {"text": render_drift_text, "markdown": render_drift_markdown}


@click.command()
@click.argument("manifest", type=click.Path(path_type=Path))
@output_option(("text", "json", "markdown"), "How to show the drift.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing drifted, 2 when something did, 1 on error.",
)
@click.option(
    "--ignore",
    "ignores",
    multiple=True,
    metavar="KEY.FIELD",
    help="Known drift to leave out this run, e.g. mesh.Priority or *.Priority (repeatable).",
)
@var_options
@cluster_options
def drift(
    manifest: Path,
    output: str,
    detailed_exitcode: bool,
    ignores: tuple[str, ...],
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
) -> int:
    """Report user-owned fields changed on the cluster since the last apply (never writes)."""
    stack = load_and_resolve(manifest, collect_vars(var_pairs, var_files))
    client, _ = open_client(cluster_flags)
    try:
        report = detect_drift(client, stack, ignore=ignores)
    finally:
        client.close()
    if output == "json":
        click.echo(render_drift_json(report))
    else:
        click.echo(RENDERERS[output](report), nl=False)
    ci.append_step_summary(render_drift_markdown(report))
    return exit_code(Detailed.of(report.drifted, asked=detailed_exitcode))
