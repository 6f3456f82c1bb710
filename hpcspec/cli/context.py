"""From command-line flags to a connected client: `resolve_config` and `open_client`.

The one place the CLI turns `ClusterFlags` into a `ClusterConfig` (environment, contexts
file, stdin, a TTY prompt) and that into an `HpcPackClient`. With no cluster configured
anywhere it starts (or reuses) the embedded local cluster under `.hpcspec/local/` — the same
one `hpcspec local up` runs — and says so on stderr.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from hpcspec.config import ClusterConfig, ClusterFlags, Setting, resolve
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.transport import Transport


def _prompt(question: str, hide: bool) -> str:
    return str(click.prompt(question, hide_input=hide, err=True))


def resolve_config(flags: ClusterFlags, *, need_password: bool = True) -> ClusterConfig:
    """The effective configuration; prompts only when stdin is a terminal."""
    interactive = sys.stdin.isatty() and not flags.password_stdin
    return resolve(
        flags,
        env=os.environ,
        stdin=sys.stdin,
        prompt=_prompt if interactive else None,
        need_password=need_password,
    )


def open_client(
    flags: ClusterFlags, *, project_root: Path | None = None
) -> tuple[HpcPackClient, ClusterConfig]:
    """A client for the configured cluster (or the embedded local one) and its config."""
    config = resolve_config(flags)
    if config.is_local:
        from hpcspec.emulator import local  # only when needed: it may start a server

        running = local.ensure_up(project_root or Path.cwd())
        click.echo(
            f"hpcspec: no cluster configured; using the local cluster at {running.url}", err=True
        )
        origin = "embedded local cluster"
        config = replace(
            config,
            url=Setting(running.url, origin),
            username=Setting(running.username, origin),
            password=Setting(running.password, origin),
        )
    if config.insecure.value:
        click.echo(
            f"hpcspec: warning: TLS certificate verification is OFF ({config.insecure.origin})",
            err=True,
        )
    return HpcPackClient(Transport(config.transport_options())), config
