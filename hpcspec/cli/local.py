"""`hpcspec local up|down|status`: the embedded local cluster (an emulator in the background)."""

from __future__ import annotations

from pathlib import Path

import click

from hpcspec.emulator import local as cluster


@click.group()
def local() -> None:
    """Run a local HPC Pack emulator cluster under .hpcspec/local/ (local executor)."""


@local.command()
def up() -> int:
    """Start the local cluster (or show the running one)."""
    running = cluster.ensure_up(Path.cwd())
    click.echo(f"local cluster running at {running.url} (user {running.username})")
    return 0


@local.command()
def down() -> int:
    """Stop the local cluster; its jobs stay in .hpcspec/local/emulator.db."""
    stopped = cluster.down(Path.cwd())
    click.echo("local cluster stopped" if stopped else "local cluster was not running")
    return 0


@local.command()
def status() -> int:
    """Show whether the local cluster runs (exit code 1 when it does not)."""
    running = cluster.status(Path.cwd())
    if running is None:
        click.echo("local cluster is not running")
        return 1
    click.echo(f"local cluster running at {running.url} (user {running.username})")
    return 0
