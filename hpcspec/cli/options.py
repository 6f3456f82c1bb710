"""Options several commands share: the cluster options (`@cluster_options`), `-o/--output`,
and the one reading of DURATION options (`duration_seconds`, `wait_timeout`).

The decorator adds `--cluster`, `--username`, `--password-stdin`, `--as-user`, `--ca-bundle`,
`--insecure` and `--request-timeout` and hands the command one `cluster_flags: ClusterFlags`
argument; `hpcspec.cli.context.open_client(cluster_flags)` turns it into a client. There is
deliberately no `--password` option (DESIGN.md §6): a password on a command line ends up in
shell history and process listings.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from hpcspec.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = [
    click.option(
        "--cluster",
        "cluster_url",
        metavar="URL|CONTEXT",
        help="REST API URL (https://headnode/hpc) or context name [env HPCSPEC_CLUSTER].",
    ),
    click.option(
        "--username", "cluster_username", help="User, as DOMAIN\\user [env HPCSPEC_USERNAME]."
    ),
    click.option(
        "--password-stdin",
        "cluster_password_stdin",
        is_flag=True,
        help="Read the password from the first line of standard input [env HPCSPEC_PASSWORD].",
    ),
    click.option(
        "--as-user",
        "cluster_as_user",
        metavar="USER",
        help="Act as this user (x-ms-as-user; needs an administrator) [env HPCSPEC_AS_USER].",
    ),
    click.option(
        "--ca-bundle",
        "cluster_ca_bundle",
        type=click.Path(exists=True, dir_okay=True),
        help="CA certificates to verify the cluster's TLS certificate [env HPCSPEC_CA_BUNDLE].",
    ),
    click.option(
        "--insecure",
        "cluster_insecure",
        is_flag=True,
        help="Do not verify the cluster's TLS certificate (not recommended; always reported).",
    ),
    click.option(
        "--request-timeout",
        "cluster_timeout",
        type=click.FloatRange(min=1),
        metavar="SECONDS",
        help="Read timeout per request (default 60; connecting waits at most 10).",
    ),
]


def cluster_options(command: F) -> F:
    """Add the cluster options to a click command; it receives `cluster_flags`."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from hpcspec.cluster_flags import ClusterFlags  # not config: `import --xml` needs none

        kwargs["cluster_flags"] = ClusterFlags(
            cluster=kwargs.pop("cluster_url"),
            username=kwargs.pop("cluster_username"),
            password_stdin=kwargs.pop("cluster_password_stdin"),
            as_user=kwargs.pop("cluster_as_user"),
            ca_bundle=kwargs.pop("cluster_ca_bundle"),
            insecure=kwargs.pop("cluster_insecure"),
            timeout=kwargs.pop("cluster_timeout"),
        )
        return command(*args, **kwargs)

    decorated: Any = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


def output_option(formats: Sequence[str], help: str) -> Callable[[F], F]:
    """`-o/--output`: one of `formats`, text by default — the format option of every command,
    as in kubectl (a file to write is always a long option, such as `plan --out FILE`)."""
    return click.option(
        "-o",
        "--output",
        "output",
        type=click.Choice(list(formats)),
        default="text",
        show_default=True,
        help=help,
    )


def duration_seconds(text: str, option: str, *, positive: bool = False) -> float:
    """A DURATION option's seconds, or a usage error naming the option: every duration option
    is read here, before the command sends any request (`positive`: 0s refused too)."""
    from hpcspec.hpcpack.values import parse_duration

    try:
        seconds = float(parse_duration(text))
    except ValueError as bad:
        raise UsageError(f"{option} {text!r}: {bad}", code="usage") from None
    if positive and seconds <= 0:
        raise UsageError(f"{option} must be longer than 0s", code="usage")
    return seconds


def wait_timeout(wait: bool, timeout: str | None) -> float | None:
    """`--timeout`'s seconds: it limits `--wait`, so without `--wait` it is a usage error
    (the one rule of every command with both)."""
    if timeout is None:
        return None
    if not wait:
        raise UsageError(
            "--timeout limits --wait, which was not given", code="usage", hint="add --wait"
        )
    return duration_seconds(timeout, "--timeout")
