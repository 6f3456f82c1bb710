"""The root of every error hpcspec reports to a user.

Each layer raises its own subclass carrying structured fields; the CLI (the single error
boundary) turns any `HpcspecError` into `file:line:col: error: message [code]`, a hint line
and an exit code, or into the same fields as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes. Documented in README.md; usage errors are never 2."""

    OK = 0
    ERROR = 1
    CHANGES = 2  # only with --detailed-exitcode
    PARTIAL = 3  # apply: some jobs done, some failed
    STALE_PLAN = 4  # apply PLAN.json: the cluster moved since the plan was made
    JOBS_FAILED = 5  # --wait: a job ended Failed, Canceled or with tasks canceled; or no job
    TIMED_OUT = 6  # --wait: the timeout passed before every job ended
    WRONG_CLUSTER = 7  # apply PLAN.json: the plan was made against another cluster or stack


@dataclass(frozen=True)
class Location:
    """Where in a user's file something is: any part may be unknown."""

    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    path: str | None = None  # key path such as jobs.mesh.tasks.solve.sweep.end

    def prefix(self) -> str:
        """`file:line:col` (as much of it as is known)."""
        parts = [p for p in (self.file, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts)


@dataclass
class HpcspecError(Exception):
    """An error meant for a user: a stable kebab-case code, what happened, what to do."""

    message: str
    code: str = "error"
    hint: str | None = None
    location: Location = field(default_factory=Location)
    exit_code: ExitCode = ExitCode.ERROR

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        """One line in the compiler style, `file:line:col: error: message [code]`."""
        where = self.location.prefix()
        head = f"{where}: error: " if where else "error: "
        path = f" (at {self.location.path})" if self.location.path else ""
        return f"{head}{self.message}{path} [{self.code}]"

    def as_dict(self) -> dict[str, object]:
        """The same fields for `--output json`."""
        return {
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "path": self.location.path,
        }


class UsageError(HpcspecError):
    """The command line itself is wrong (never exit code 2)."""
