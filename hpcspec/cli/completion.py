"""`hpcspec completion SHELL`: print the tab-completion script for bash, zsh, fish or PowerShell.

The scripts are click's own (click >= 8.5 ships PowerShell beside bash, zsh and fish): each
calls `hpcspec` back with `_HPCSPEC_COMPLETE=<shell>_complete` and the words typed so far, and
click answers from the same commands and options that parse the real command line, so
completion never disagrees with `--help`. Install lines: README, "Shell completion".
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from hpcspec.errors import ExitCode

SHELLS = ("bash", "zsh", "fish", "powershell")
COMPLETE_VAR = "_HPCSPEC_COMPLETE"  # what click derives from the program name


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> int:
    """Print the shell completion script for bash, zsh, fish or powershell."""
    script_class = get_completion_class(shell)
    assert script_class is not None, shell  # every name in SHELLS is one of click's
    script = script_class(ctx.find_root().command, {}, "hpcspec", COMPLETE_VAR).source()
    # bytes: on Windows a text stdout would turn LF into CRLF, which bash cannot read
    click.echo(script.encode("utf-8"), nl=False)
    return ExitCode.OK
