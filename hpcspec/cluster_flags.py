"""The global cluster options of a command line as given (`hpcspec.cli.options`), before
`hpcspec.config` resolves them into a `ClusterConfig`.

A module of its own, below config: every command takes these options, and one that never
reaches a cluster (`hpcspec import --xml`) then loads none of config's machinery.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClusterFlags:
    """The global cluster options of a command line (`hpcspec.cli.options`)."""

    cluster: str | None = None
    username: str | None = None
    password_stdin: bool = False
    as_user: str | None = None
    ca_bundle: str | None = None
    insecure: bool = False
    timeout: float | None = None
