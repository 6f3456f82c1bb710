"""Global options anywhere on the command line, as kubectl accepts them (before `main` parses).

click wants a group's options before the subcommand and a command's after it. People type
`hpcspec plan m.yaml --debug` and `hpcspec --cluster prod plan m.yaml` anyway, so `normalise`
moves `--debug` (wherever it is, before a `--`) to the front — and turns `HPCSPEC_DEBUG=1` into
it — and moves the cluster options given before the subcommand (`--cluster`, `--insecure`, …)
to the end, where every command that talks to a cluster reads them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import click

DEBUG = "--debug"
# The cluster options (`cli/options.py`): those that take a value, and flags.
_VALUED = frozenset({"--cluster", "--username", "--as-user", "--ca-bundle", "--request-timeout"})
_FLAGS = frozenset({"--password-stdin", "--insecure"})
_TRUE = frozenset({"1", "true", "yes", "on"})


def debug_from_env(env: Mapping[str, str]) -> bool:
    """`HPCSPEC_DEBUG=1` (or true/yes/on) asks for `--debug`."""
    return env.get("HPCSPEC_DEBUG", "").strip().lower() in _TRUE


def terraform_style(error: click.ClickException, args: Sequence[str]) -> click.ClickException:
    """A usage error where a word was typed with Terraform's one dash (`-auto-approve`,
    `-out=plan.json`): click reads it as short options ("No such option '-a'", or `-o` given
    "ut=plan.json"). Name the word typed and the long option it means instead."""
    ctx = getattr(error, "ctx", None)
    if not isinstance(error, click.UsageError) or ctx is None:
        return error
    known = {o for p in ctx.command.params for o in getattr(p, "opts", ())}
    for arg in args:
        word = arg.split("=", 1)[0]
        if len(word) > 2 and word[0] == "-" and word[1] != "-" and f"-{word}" in known:
            return click.NoSuchOption(word, possibilities=[f"-{word}"], ctx=ctx)
    return error


def normalise(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """`argv` with `--debug` first (from anywhere, or from HPCSPEC_DEBUG) and leading cluster
    options after the subcommand's own arguments."""
    args = list(argv)
    end = args.index("--") if "--" in args else len(args)
    debug = DEBUG in args[:end] or debug_from_env(env)
    args = [a for n, a in enumerate(args) if not (n < end and a == DEBUG)]
    moved: list[str] = []
    while args:
        head = args[0]
        name = head.split("=", 1)[0]
        if name in _VALUED:
            take = 1 if "=" in head else 2
            moved += args[:take]
            args = args[take:]
        elif head in _FLAGS:
            moved.append(head)
            args = args[1:]
        else:
            break
    if moved:
        if "--" in args:
            cut = args.index("--")
            args = [*args[:cut], *moved, *args[cut:]]
        else:
            args += moved
    return ([DEBUG] if debug else []) + args
