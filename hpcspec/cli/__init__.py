"""The `hpcspec` command line: the single error boundary that maps outcomes to exit codes.

Each command lives in its own module and is registered in `COMMANDS`; a command module parses
options, calls the engine, picks a renderer and returns an exit code. Any `HpcspecError` that
escapes becomes one located error line, a hint and exit code 1 (or the error's own code); any
other exception becomes a one-line internal error unless `--debug` is given.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import click

from hpcspec import __version__
from hpcspec.cli import pydantic_plugins
from hpcspec.cli.argv import DEBUG, normalise, terraform_style
from hpcspec.errors import ExitCode, HpcspecError

# hpcspec's threads mostly wait on the network (apply's workers, the emulator's request
# threads). With Python's default 5 ms switch interval a thread whose answer has arrived is
# handed the GIL back and forth with threads rendering or parsing (the convoy effect); with
# 50 ms it runs until it waits again. Measured on bench_apply (4 A/B pairs): the apply's wall
# time 5% lower; in the emulator, CPU per job-file import 5.1 -> 3.8 ms.
THREAD_SWITCH_INTERVAL = 0.05


class Command(NamedTuple):
    """Where a command lives and its one-line help (shown by `hpcspec --help`)."""

    target: str  # "module:attribute"
    summary: str  # the first line of the command's docstring (tests/test_cli.py checks it)


# A command is listed here only once it really works. `--help` reads the summaries from this
# table, so listing the commands imports none of their modules (start-up, issue 17).
COMMANDS: dict[str, Command] = {
    "adopt": Command(
        "hpcspec.cli.adopt:adopt",
        "Bring existing jobs under MANIFEST: KEY=ID makes job ID the live job of KEY.",
    ),
    "apply": Command(
        "hpcspec.cli.apply:apply",
        "Create, update, submit, replace or requeue jobs so the cluster matches the manifests.",
    ),
    "cancel": Command(
        "hpcspec.cli.cancel:cancel",
        "Cancel a job of a stack, or one of its tasks (KEY/TASK, a sweep instance KEY/TASK[N]).",
    ),
    "cluster": Command("hpcspec.cli.cluster_cmd:cluster", "Inspect the HPC Pack cluster."),
    "completion": Command(
        "hpcspec.cli.completion:completion",
        "Print the shell completion script for bash, zsh, fish or powershell.",
    ),
    "config": Command(
        "hpcspec.cli.config_cmd:config",
        "Show and change which cluster hpcspec talks to (docs/configuration.md).",
    ),
    "destroy": Command(
        "hpcspec.cli.destroy:destroy",
        "Cancel every active job of a stack (finished jobs stay as they are).",
    ),
    "drift": Command(
        "hpcspec.cli.drift:drift",
        "Report user-owned fields changed on the cluster since the last apply (never writes).",
    ),
    "emulator": Command(
        "hpcspec.cli.emulator:emulator", "Run the HPC Pack REST API emulator (docs/emulator.md)."
    ),
    "forget": Command(
        "hpcspec.cli.forget:forget",
        "Stop managing the live jobs of keys removed from the manifest (they keep running).",
    ),
    "force-unlock": Command(
        "hpcspec.cli.lock_cmd:force_unlock_command",
        "Break a stack's lock held by an apply that is gone (cancels its lock job).",
    ),
    "import": Command(
        "hpcspec.cli.import_cmd:import_",
        "Print a manifest for jobs read from HPC Pack job XML files or from the cluster.",
    ),
    "local": Command(
        "hpcspec.cli.local:local",
        "Run your local HPC Pack emulator cluster (local executor; one per user).",
    ),
    "logs": Command(
        "hpcspec.cli.logs:logs",
        "Show what tasks printed: state, exit code, error, Output, and their stream files.",
    ),
    "plan": Command(
        "hpcspec.cli.plan:plan",
        "Show what apply would change on the cluster for each manifest's stack.",
    ),
    "reconcile": Command(
        "hpcspec.cli.reconcile:reconcile",
        "Plan and apply the manifests every --interval until SIGTERM/SIGINT (exit 0).",
    ),
    "requeue": Command(
        "hpcspec.cli.requeue:requeue",
        "Run a Failed or Canceled job again in place (--failed-only: only its failed tasks).",
    ),
    "render": Command(
        "hpcspec.cli.render_cmd:render", "Render a manifest's jobs as HPC Pack job XML files."
    ),
    "status": Command(
        "hpcspec.cli.status:status",
        "Show each job of a stack: id, state, tasks by state, runtime, failed tasks.",
    ),
    "validate": Command(
        "hpcspec.cli.validate:validate",
        "Check manifests: syntax, schema, properties, variables, dependencies, HPC Pack limits.",
    ),
}


class _LazyGroup(click.Group):
    """Imports a command's module only when that command runs (keeps `--help` and startup fast)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attribute = entry.target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table's summaries, importing no command module."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            (n, click.Command(n, help=COMMANDS[n].summary).get_short_help_str(limit)) for n in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="hpcspec", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show debug logs and full tracebacks.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Declarative job management for Microsoft HPC Pack clusters."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if debug:
        import logging  # only here: every command starts faster without it

        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")


def report(error: HpcspecError) -> None:
    """Print an error as `file:line:col: error: message [code]` plus its hint, on stderr."""
    from hpcspec.cli import ci
    from hpcspec.render import neutralise

    click.echo(neutralise(error.render(), multiline=True), err=True)
    if error.hint:
        click.echo(f"  hint: {neutralise(error.hint, multiline=True)}", err=True)
    ci.annotate(error)


INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C
# Signals that end a command as Ctrl-C does, and what is said; the exit code is 128 + their
# number, as a shell reports a process they killed: SIGTERM (143: a cancelled CI job, `kill`,
# a container stopped), SIGHUP (129: the terminal or the ssh session went away).
STOPPING = {"SIGTERM": "Terminated.", "SIGHUP": "Hung up."}


class Terminated(KeyboardInterrupt):
    """A stopping signal, raised in the main thread as Ctrl-C is: the same way out (the stack
    lock released once the keys in flight reach their race check, the advice printed)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """While a command runs, the `STOPPING` signals end it as Ctrl-C does (`Terminated`),
    unless whoever started us chose another disposition (ignored, as `nohup` does SIGHUP):
    that choice is kept. Commands that stop gracefully on their own (`reconcile`, `emulator
    serve`) install their handlers over these while they run. The previous handlers come back
    afterwards (in-process callers)."""
    if threading.current_thread() is not threading.main_thread():  # signal.signal's rule
        yield
        return
    kept = {}
    for name in STOPPING:
        number = getattr(signal, name, None)  # Windows has no SIGHUP
        if number is not None and signal.getsignal(number) is signal.SIG_DFL:
            kept[number] = signal.signal(number, _raise_terminated)
    try:
        yield
    finally:
        for number, previous in kept.items():
            signal.signal(number, previous)


def interrupted(args: Sequence[str], stop: BaseException | None = None) -> int:
    """Ctrl-C (or a `STOPPING` signal): say what keeps running and how to follow it; exit
    128 + the signal's number (130 for Ctrl-C)."""
    signum = stop.signum if isinstance(stop, Terminated) else int(signal.SIGINT)
    manifests = [a for a in args if a.endswith((".yaml", ".yml"))]
    target = " ".join(manifests) or "MANIFEST"
    with contextlib.suppress(OSError):  # a terminal that hung up: nobody left to tell
        click.echo(STOPPING.get(signal.Signals(signum).name, "Interrupted."), err=True)
        if any(a in ("apply", "reconcile", "destroy") for a in args):
            click.echo(
                "  jobs already created or submitted keep running on the cluster (a cancel or "
                f"create in flight may have taken effect); follow them with `hpcspec status "
                f"{target} --wait`, and `hpcspec apply {target}` resumes an interrupted apply",
                err=True,
            )
    return 128 + signum


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI and turn every outcome into an exit code."""
    args = normalise(argv if argv is not None else sys.argv[1:], os.environ)
    debug = args[:1] == [DEBUG]
    sys.setswitchinterval(THREAD_SWITCH_INTERVAL)
    pydantic_plugins.install()
    try:
        with stop_on_signals():
            code = cli.main(args=args, prog_name="hpcspec", standalone_mode=False)
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.exceptions.Abort as abort:
        if isinstance(abort.__context__, KeyboardInterrupt):  # click's wrapping of Ctrl-C
            code = interrupted(args, abort.__context__)
        else:  # end of input at a prompt
            click.echo("Aborted.", err=True)
            code = ExitCode.ERROR
    except click.ClickException as usage:
        # click exits 2 on usage errors; 2 means "changes present" for --detailed-exitcode.
        terraform_style(usage, args).show()
        code = ExitCode.ERROR
    except HpcspecError as error:
        report(error)
        code = error.exit_code
    except KeyboardInterrupt as stop:
        code = interrupted(args, stop)
    except OSError as error:  # the machine's doing: a full disk under `> log`, a closed pipe
        if debug:
            raise
        if isinstance(error.__context__, KeyboardInterrupt):  # a stop that could not be said
            code = interrupted(args, error.__context__)  # (a hung-up terminal: EIO)
        else:
            where = f": {error.filename}" if error.filename else ""
            with contextlib.suppress(OSError):  # the terminal itself may be gone
                click.echo(f"error: {error.strerror or error}{where} [os-error]", err=True)
            code = ExitCode.ERROR
    except Exception as error:
        if debug:
            raise
        click.echo(
            f"error: internal error: {type(error).__name__}: {error} "
            "[internal-error]\n  hint: run again with --debug for the traceback",
            err=True,
        )
        code = ExitCode.ERROR
    sys.exit(int(code or 0))
