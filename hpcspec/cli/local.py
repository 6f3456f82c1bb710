"""`hpcspec local up|down|status`: the user's embedded local cluster (an emulator in the
background), in the per-user state directory — the same cluster from any working directory."""

from __future__ import annotations

import os

import click

from hpcspec.config import local_cluster_dir
from hpcspec.emulator import local as cluster


@click.group()
def local() -> None:
    """Run your local HPC Pack emulator cluster (local executor; one per user)."""


@local.command()
def up() -> int:
    """Start the local cluster (or show the running one)."""
    directory = local_cluster_dir(os.environ, create=True)
    running = cluster.ensure_up(directory)
    click.echo(f"local cluster running at {running.url} (user {running.username})")
    click.echo(f"state: {directory}")
    return 0


@local.command()
def down() -> int:
    """Stop the local cluster; its jobs stay for the next `local up`."""
    stopped = cluster.down(local_cluster_dir(os.environ))
    click.echo("local cluster stopped" if stopped else "local cluster was not running")
    return 0


@local.command()
def status() -> int:
    """Show whether the local cluster runs (exit code 1 when it does not)."""
    directory = local_cluster_dir(os.environ)
    running = cluster.status(directory)
    if running is None:
        click.echo("local cluster is not running")
        click.echo(f"state: {directory}")
        return 1
    click.echo(f"local cluster running at {running.url} (user {running.username})")
    click.echo(f"state: {directory}")
    return 0
