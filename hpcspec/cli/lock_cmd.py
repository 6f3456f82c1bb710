"""The stack lock on the command line: `--lock-timeout`/`--no-lock` of apply, reconcile and
destroy, and `hpcspec force-unlock LOCK_ID --stack NAME` (engine/lock.py, docs/apply.md).

Like `terraform force-unlock`, the command names the lock to break (the lock job's id, which
a waiting or timed-out apply prints) and asks for confirmation unless `--force` is given.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from hpcspec.cli.context import open_client
from hpcspec.cli.options import cluster_options, duration_seconds
from hpcspec.config import ClusterFlags
from hpcspec.engine.lock import DEFAULT_TIMEOUT, LockOptions, force_unlock
from hpcspec.errors import UsageError
from hpcspec.render import neutralise

_F = TypeVar("_F", bound=Callable[..., Any])


def lock_options(command: _F) -> _F:
    """Add `--lock/--no-lock` and `--lock-timeout` to a command that changes a stack."""
    command = click.option(
        "--lock-timeout",
        default=f"{DEFAULT_TIMEOUT:g}s",
        show_default=True,
        metavar="DURATION",
        help="Wait this long for another apply or destroy of the stack to finish "
        "(0s: fail at once if the stack is locked).",
    )(command)
    return click.option(
        "--lock/--no-lock",
        "lock",
        default=True,
        show_default=True,
        help="Hold the stack lock (a lock job on the cluster) while changing the stack.",
    )(command)


def lock_settings(lock: bool, lock_timeout: str) -> LockOptions:
    """The engine's lock options from the command line."""
    return LockOptions(enabled=lock, timeout=duration_seconds(lock_timeout, "--lock-timeout"))


@click.command("force-unlock")
@click.argument("lock_id", type=int)
@click.option("--stack", "stack_name", required=True, help="The stack the lock belongs to.")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@cluster_options
def force_unlock_command(
    lock_id: int, stack_name: str, force: bool, cluster_flags: ClusterFlags
) -> int:
    """Break a stack's lock held by an apply that is gone (cancels its lock job)."""
    if not force:
        if not sys.stdin.isatty():
            raise UsageError(
                "refusing to force-unlock without confirmation: stdin is not a terminal",
                code="confirmation-required",
                hint="pass --force in pipelines",
            )
        answer = click.prompt(
            f"Break lock {lock_id} of stack {stack_name!r}? An apply still holding it may "
            "then run alongside another. Only 'yes' is accepted",
            default="",
            show_default=False,
        )
        if answer.strip() != "yes":
            click.echo("force-unlock cancelled.", err=True)
            return 1
    client, _ = open_client(cluster_flags)
    try:
        job = force_unlock(client, stack_name, lock_id)
    finally:
        client.close()
    owner = neutralise(job.owner) or "unknown"  # the server's word
    click.echo(f"Lock {job.id} of stack {neutralise(repr(stack_name))} released (owner {owner}).")
    return 0
