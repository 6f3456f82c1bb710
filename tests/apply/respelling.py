"""A server that answers reads with its own spelling of what was written, as a head node, an
IIS front end or a proxy might, for the tests that hold plan and apply to the promise "apply,
then plan shows no changes" and its converse "plan never says the cluster matches when it
does not" (tests/apply/test_respelling_server.py).

`Respelling` rewrites every `{"Name","Value"}` pair of the `GET /hpc/jobs…` answers (job and
task rows, details, env and custom properties) through one habit, `(where, name, value) →
(name, value)`, `where` being `job`, `task`, `env` or `custom`. The identity columns of a job
row (a `hpcspec:` Name, ClientSource) and the ids are never given to a habit: a listing that
loses identities is another attack (tests/apply/paging.py). It also records every write
(`PUT`/`POST`) but the stack lock's own (a job create `POST /hpc/jobs` and a `…/cancel`, the
lock's two requests; with `--create-via xml` no other write takes those paths except a cancel).
"""

from __future__ import annotations

import io
import json
import threading
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[..., Iterable[bytes]]
Habit = Callable[[str, str, str], tuple[str, str] | None]  # None: the pair left out

# Never handed to a habit: what identifies a row.
_IDENTITY = frozenset({"id", "jobtaskid", "taskid", "instanceid", "clientsource", "state"})


class Respelling:
    """WSGI middleware: each `{"Name","Value"}` pair of a read goes through `habit`;
    `reverse` also answers every list of pairs in reverse order."""

    def __init__(self, app: WsgiApp, habit: Habit, *, reverse: bool = False) -> None:
        self.app, self.habit, self.reverse = app, habit, reverse
        self.writes: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        if method != "GET":
            if path != "/hpc/jobs" and not path.endswith("/cancel"):
                with self._lock:
                    self.writes.append(f"{method} {path}")
            return self.app(environ, start)
        if not path.startswith("/hpc/jobs"):
            return self.app(environ, start)
        where = (
            "env"
            if path.endswith("/envVariables")
            else "custom"
            if path.endswith("/customProperties")
            else "task"
            if "/tasks" in path
            else "job"
        )
        answer: list[Any] = []
        body = b"".join(self.app(environ, lambda *a: answer.extend(a)))
        status, headers = answer[0], answer[1]
        if not status.startswith("200") or not body.lstrip().startswith(b"["):
            start(status, headers)
            return [body]
        rows = json.loads(body)
        if rows and isinstance(rows[0], dict) and "Properties" in rows[0]:
            rows = [{**row, "Properties": self._pairs(where, row["Properties"])} for row in rows]
        elif rows and isinstance(rows[0], dict) and "Name" in rows[0]:
            rows = self._pairs(where, rows)
        data = json.dumps(rows).encode()
        kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start(status, [*kept, ("Content-Length", str(len(data)))])
        return io.BytesIO(data)

    def _pairs(self, where: str, pairs: list[dict[str, str]]) -> list[dict[str, str]]:
        out = []
        for pair in pairs:
            name, value = pair["Name"], pair["Value"]
            if name.lower() not in _IDENTITY and not value.startswith("hpcspec:"):
                kept = self.habit(where, name, value)
                if kept is None:
                    continue
                name, value = kept
            out.append({"Name": name, "Value": value})
        return out[::-1] if self.reverse else out


def on(names: set[str], change: Callable[[str], str]) -> Habit:
    """A habit that re-spells the values of the properties named (any case) in `names`."""
    folded = {n.lower() for n in names}

    def habit(where: str, name: str, value: str) -> tuple[str, str]:
        return name, change(value) if name.lower() in folded else value

    return habit


def names_in_other_case(where: str, name: str, value: str) -> tuple[str, str] | None:
    """Property names lower-cased; env and custom property names upper-cased."""
    return (name.upper() if where in ("env", "custom") else name.lower()), value


# The same value, spelled as HPC Pack documents it may be (the references each one cites).
HARMLESS: dict[str, tuple[Habit, bool]] = {
    # .NET writes True/False; the job XML importer reads any case (job-xml-import-export.json)
    "booleans capitalised": (
        on({"IsExclusive", "IsRerunnable"}, lambda v: v.capitalize()),
        False,
    ),
    # enums by name in any case, or by number (ground truth §3.1: "numeric enum strings")
    "enums lower-cased": (on({"UnitType", "NodeGroupOp", "Type"}, str.lower), False),
    "enums as numbers": (
        on(
            {"UnitType", "NodeGroupOp", "Type"},
            lambda v: {"Core": "0", "Uniform": "1", "ParametricSweep": "1"}.get(v, v),
        ),
        False,
    ),
    # ExpandedPriority written as the export writes Priority (`Normal+5`)
    "priority as its name": (on({"ExpandedPriority"}, lambda v: "Normal+5"), False),
    # int.Parse reads leading zeros and a sign
    "numbers with leading zeros": (
        on(
            {"MaxCores", "RuntimeSeconds", "StartValue", "EndValue", "IncrementValue"}, "+0".__add__
        ),
        False,
    ),
    # the job schema's "semicolon-delimited" lists (msdocs/jobschema-*-complextype.md)
    "lists semicolon-delimited": (
        on(
            {"NodeGroups", "RequestedNodes", "RequiredNodes"},
            lambda v: v.replace(",", ";"),
        ),
        False,
    ),
    "lists spaced and reversed": (
        on(
            {"NodeGroups", "RequiredNodes", "DependsOn"},
            lambda v: ", ".join(reversed(v.split(","))),
        ),
        False,
    ),
    # the template the cluster has, in its own case (preflight finds `default` as `Default`)
    "template in the cluster's case": (on({"JobTemplate"}, str.capitalize), False),
    # min/max are words (msdocs/ischedulertask-validexitcodes.md)
    "exit codes lower-cased": (on({"JobValidExitCodes", "TaskValidExitCodes"}, str.lower), False),
    # names compared in any case, pairs in any order
    "names in other case, pairs reversed": (names_in_other_case, True),
    # an empty value left out rather than answered "" (identity columns are never left out:
    # a listing without them is refused, tests/apply/test_paging_habits.py)
    "empty values left out": (
        lambda where, name, value: None if value == "" else (name, value),
        False,
    ),
}


def _tail(value: str) -> str:
    return value + " " if value else value


# Another value than the one written: plan must show it (never "the cluster matches").
CHANGED: dict[str, Habit] = {
    "a space appended": on({"Project", "V", "team", "CommandLine"}, _tail),
    "decomposed (NFD)": on(
        {"Project", "V", "team", "CommandLine"}, lambda v: unicodedata.normalize("NFD", v)
    ),
    "CRLF as LF": on({"V", "CommandLine"}, lambda v: v.replace("\r\n", "\n")),
    "cut at 5 characters": on({"Project", "V", "team", "CommandLine"}, lambda v: v[:5]),
    "a list item dropped": on({"NodeGroups"}, lambda v: v.split(",")[0].split(";")[0]),
    # the job schema's semicolons, but a task name may hold `;` (a matrix's `post[a=1;b=2]`):
    # `t1;t0` may be one task's name
    "dependsOn semicolon-delimited": on({"DependsOn"}, lambda v: v.replace(",", ";")),
}
