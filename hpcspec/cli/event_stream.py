"""`--output json` of apply, destroy and reconcile: the engine's events as JSON lines on stdout.

`JsonLinesView` is the engine observer these commands use instead of their text views: it
writes a `version` record, then one record per event as it happens (the records are
`hpcspec.render.events_json`'s; docs/plan-format.md describes them), flushed line by line so
a pipe reads them live. Stdout carries nothing else: an error that ends the command is one
more record (`diagnostic`) and still goes to stderr as text, and these commands refuse to
prompt (`json_needs_approval`). Exit codes are those of the text output.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from hpcspec import __version__
from hpcspec.cli import ci
from hpcspec.cli.options import output_option
from hpcspec.engine.events import Applied, Event
from hpcspec.errors import HpcspecError, UsageError
from hpcspec.render.apply import apply_markdown
from hpcspec.render.events_json import (
    Record,
    diagnostic_record,
    event_records,
    json_line,
    log_record,
    version_record,
)

OUTPUT_FORMATS = ("text", "json")

F = TypeVar("F", bound=Callable[..., Any])


def _now() -> datetime:
    return datetime.now(UTC)


class JsonLinesView:
    """An observer that writes each event as JSON lines; `step_summary`: apply's CI summary."""

    def __init__(
        self, command: str, *, step_summary: bool = False, clock: Callable[[], datetime] = _now
    ) -> None:
        self.clock = clock
        self.step_summary = step_summary
        self._write(version_record(__version__, command))

    def notify(self, event: Event) -> None:
        for record in event_records(event):
            self._write(record)
        if self.step_summary and isinstance(event, Applied):
            ci.append_step_summary(apply_markdown(event.plans, event.results))

    def log(self, message: str) -> None:
        """A line of the command's own (reconcile's start and stop) as a `log` record."""
        self._write(log_record(message))

    def diagnostic(self, error: HpcspecError) -> None:
        """An error as a `diagnostic` record (reconcile's round goes on after it)."""
        self._write(diagnostic_record(error))

    def close(self) -> None:
        """Nothing to take down (the text view's progress bars have no counterpart here)."""

    def _write(self, record: Record) -> None:
        click.echo(json_line(record, self.clock()), nl=False)  # click.echo flushes

    @contextmanager
    def diagnostics(self) -> Iterator[None]:
        """An error escaping the block is written as a `diagnostic` record, then re-raised
        (the CLI's error boundary still prints it on stderr and picks the exit code)."""
        try:
            yield
        except HpcspecError as error:
            self.diagnostic(error)
            raise
        except Exception as error:
            message = f"internal error: {type(error).__name__}: {error}"
            self.diagnostic(HpcspecError(message, code="internal-error"))
            raise


def event_output(command: str, *, step_summary: bool = False) -> Callable[[F], F]:
    """Add the shared `--output [text|json]` to `command`; the function gets `stream`: the
    JSON view (which has written the `version` record) for json, else None. With json, an
    error that escapes the function is written as a `diagnostic` record too."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            json = kwargs.pop("output") == "json"
            stream = JsonLinesView(command, step_summary=step_summary) if json else None
            with stream.diagnostics() if stream is not None else nullcontext():
                return function(*args, stream=stream, **kwargs)

        help = "How to show the run: text, or JSON lines of its events (docs/plan-format.md)."
        return output_option(OUTPUT_FORMATS, help)(wrapper)  # type: ignore[return-value]

    return decorate


def json_needs_approval(stream: JsonLinesView | None, approved: bool) -> None:
    """`--output json` never prompts (the prompt would break the stream): it needs
    `--auto-approve` (or, for apply, a saved plan), as Terraform's `apply -json` does."""
    if stream is not None and not approved:
        raise UsageError(
            "--output json cannot ask for confirmation",
            code="confirmation-required",
            hint="pass --auto-approve (or apply a saved plan) with --output json",
        )
