"""`hpcspec adopt MANIFEST KEY=ID...`: existing jobs brought under a manifest's management.

Stages: the manifest resolved → `engine.adopt.adopt_jobs` (one listing of the stack, each job
read and judged by the planner's rule; identity written where HPC Pack allows) → a line per
job → the `adopt:` entries written into MANIFEST (`manifest.adopt_block`), where every later
plan and apply finds them (docs/logs-and-rescue.md, "Adopt").
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from hpcspec.cli.context import open_client
from hpcspec.cli.options import cluster_options
from hpcspec.cli.variables import collect_vars, var_options
from hpcspec.config import ClusterFlags
from hpcspec.engine.adopt import Adoption, adopt_jobs
from hpcspec.errors import ExitCode, UsageError
from hpcspec.manifest.adopt_block import record_adoptions
from hpcspec.manifest.load import load_and_resolve
from hpcspec.render import phrases
from hpcspec.render.neutralise import neutralise

_PAIR = re.compile(r"^(?P<key>[^=\s]+)=(?P<id>\d+)$")


@click.command()
@click.argument("manifest", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=ID...")
@var_options
@cluster_options
def adopt(
    manifest: Path,
    pairs: tuple[str, ...],
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
) -> int:
    """Bring existing jobs under MANIFEST: KEY=ID makes job ID the live job of KEY.

    Each job is read and compared with the manifest as plan compares: a job that matches
    gets hpcspec's identity where its state lets HPC Pack take it, and the next plan leaves
    it alone; one that differs is adopted too, and the next plan shows the update or new
    run. The pairs are written into MANIFEST's adopt: block (comments and order kept).
    """
    wanted: dict[str, int] = {}
    for text in pairs:
        found = _PAIR.match(text)
        if found is None:
            raise UsageError(f"{text!r}: expected KEY=ID (a job key and a job id)", code="usage")
        wanted[found["key"]] = int(found["id"])
    stack = load_and_resolve(manifest, collect_vars(var_pairs, var_files))
    client, _ = open_client(cluster_flags)
    try:
        adopted = adopt_jobs(client, stack, wanted)
    finally:
        client.close()
    for adoption in adopted:
        click.echo(_line(adoption))
    record_adoptions(manifest, wanted)
    click.echo(f"{manifest}: adopt: now names {', '.join(f'{k}={v}' for k, v in wanted.items())}")
    return int(ExitCode.OK)


def _line(adoption: Adoption) -> str:
    job = adoption.job
    head = f"{adoption.key}: job {job.id} ({job.state.name}) adopted"
    if adoption.matches:
        return f"{head}; it matches the manifest (identity written: {adoption.stamped.value})"
    word = phrases.action_word(adoption.change.action)
    fields = sorted({neutralise(d.name) for d in adoption.diffs})
    shown = ", ".join(fields[:5]) + (f" and {len(fields) - 5} more" if len(fields) > 5 else "")
    return f"{head}; it differs from the manifest ({shown}): the next plan: {word}"
