"""From command-line flags to a connected client: `resolve_config` and `open_client`.

The one place the CLI turns `ClusterFlags` into a `ClusterConfig` (environment, contexts
file, stdin, a TTY prompt) and that into an `HpcPackClient`. The choice of cluster is
`hpcspec.config`'s (DESIGN.md §6): when it is the embedded local cluster, this starts (or
reuses) the user's one local cluster — the same one `hpcspec local up` runs, whatever the
working directory. Every command that talks to a cluster prints one line on stderr naming
the cluster it really talks to and where that choice came from.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace

import click

from hpcspec.config import ClusterConfig, ClusterFlags, Setting, local_cluster_dir, resolve
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.transport import Transport

LOCAL_ORIGIN = "embedded local cluster"


def _prompt(question: str, hide: bool) -> str:
    return str(click.prompt(question, hide_input=hide, err=True))


def resolve_config(
    flags: ClusterFlags, *, need_password: bool = True, need_cluster: bool = True
) -> ClusterConfig:
    """The effective configuration; prompts only when stdin is a terminal."""
    interactive = sys.stdin.isatty() and not flags.password_stdin
    return resolve(
        flags,
        env=os.environ,
        stdin=sys.stdin,
        prompt=_prompt if interactive else None,
        need_password=need_password,
        need_cluster=need_cluster,
    )


def open_client(flags: ClusterFlags) -> tuple[HpcPackClient, ClusterConfig]:
    """A client for the chosen cluster (starting the local one if that is it) and its config."""
    config = resolve_config(flags)
    origin = config.url.origin
    if config.is_local:
        from hpcspec.emulator import local  # only when needed: it may start a server

        running = local.ensure_up(local_cluster_dir(os.environ, create=True))
        origin = f"{LOCAL_ORIGIN}: {config.url.origin}"
        config = replace(
            config,
            url=Setting(running.url, origin),
            username=Setting(running.username, LOCAL_ORIGIN),
            password=Setting(running.password, LOCAL_ORIGIN),
        )
    client = HpcPackClient(Transport(config.transport_options()))
    click.echo(f"hpcspec: cluster {config.url.value} ({origin})", err=True)
    if config.insecure.value:
        click.echo(
            f"hpcspec: warning: TLS certificate verification is OFF ({config.insecure.origin})",
            err=True,
        )
    return client, config
