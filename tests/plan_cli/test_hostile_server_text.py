"""A head node (or a proxy in front of it) that answers with hostile text: every command that
shows the cluster's words still runs, prints them inert, and keeps its JSON valid.

`Inject` rewrites each answer of the real emulator, putting `PAYLOAD` wherever the job's Name
and command line hold a marker: terminal escapes, a forged line, runner commands, a bidi
override, a zero-width space, markup, and a lone UTF-16 surrogate (a .NET string cut between
the two halves of a pair, sent as the JSON escape `\\ud83d`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tests.plan_cli.conftest import job, write_manifest
from tests.render.ci import runner_commands

MARK = b"ZZMARKZZ"
PAYLOAD = (
    "x\x1b[2J\x1b]0;owned\x07\r::error::forged\n##vso[task.complete]\u202eevil\u200b"
    " </details> <img src=https://t.example/p.png> @octocat ``` | cut \ud83d"
)


class Inject:
    """WSGI middleware: `MARK` in a JSON answer becomes `PAYLOAD` (as JSON escapes)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        answer: dict[str, Any] = {}

        def hold(status: str, headers: list[tuple[str, str]], *_: Any) -> Callable[..., None]:
            answer.update(status=status, headers=headers)
            return lambda _data: None

        body = b"".join(self.app(environ, hold))
        headers = [(k, v) for k, v in answer["headers"] if k.lower() != "content-length"]
        if "json" in dict((k.lower(), v) for k, v in headers).get("content-type", ""):
            body = body.replace(MARK, json.dumps(PAYLOAD)[1:-1].encode("ascii"))
        start(answer["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]


@pytest.fixture
def hostile(cluster: Any, cli_env: Path, run_cli: Runner) -> Iterator[Path]:
    """A job applied with the marker in its Name and command line, then the server turned."""
    # Held in Configuring: nothing runs in the emulator while other tests of the worker do.
    marked = job("a", "echo ZZMARKZZ", "    state: configuring\n    properties: {Name: ZZMARKZZ}\n")
    manifest = write_manifest(cli_env, "hostile-text", marked)
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    clean = cluster.emulator.server.app
    cluster.emulator.server.app = Inject(clean)
    try:
        yield manifest
    finally:
        cluster.emulator.server.app = clean


def _inert(output: str) -> None:
    assert runner_commands(output) == []
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", output)
    output.encode("utf-8")  # no lone surrogate: it could not be written


@pytest.mark.parametrize(
    "command",
    [("plan",), ("status",), ("drift",), ("logs",)],
    ids=lambda c: " ".join(c),
)
def test_a_hostile_servers_text_is_shown_inert_on_a_terminal(
    hostile: Path, run_cli: Runner, command: tuple[str, ...]
) -> None:
    code, out, err = run_cli(*command, str(hostile))
    assert "internal-error" not in err and code in (0, 2), err
    _inert(out)
    _inert(err)


def test_a_hostile_servers_text_in_a_plan_shows_where_it_differs(
    hostile: Path, run_cli: Runner
) -> None:
    code, out, err = run_cli("plan", str(hostile))
    assert code == 0, err
    name = next(line for line in out.splitlines() if "Name:" in line)
    # Every hidden character is written out; the cut pair is the replacement character.
    for shown in ("\\x1b[2J", "\\x1b]0;owned\\x07", "\\r::error::forged\\n", "\\u202eevil\\u200b"):
        assert shown in name
    assert name.endswith('cut \ufffd" → "ZZMARKZZ"'), name


def test_a_hostile_servers_text_in_markdown_is_text_not_markup(
    hostile: Path, run_cli: Runner
) -> None:
    code, out, err = run_cli("plan", str(hostile), "-o", "markdown")
    assert code == 0, err
    _inert(out)
    for markup in ("<img", "@octocat", "```", "| cut"):
        assert markup not in out
    assert out.count("</details>") == out.count("<details>") == 1  # only the plan's own fold
    assert "&#60;/details&#62;" in out


@pytest.mark.parametrize("command", [("plan",), ("status",), ("drift",), ("logs",)])
def test_a_hostile_servers_text_keeps_json_output_valid(
    hostile: Path, run_cli: Runner, command: tuple[str, ...]
) -> None:
    code, out, err = run_cli(*command, str(hostile), "-o", "json")
    assert "internal-error" not in err and code in (0, 2), err
    assert runner_commands(out) == []
    out.encode("utf-8")
    document = json.loads(out)
    assert "\ufffd" in json.dumps(document, ensure_ascii=False) or command != ("plan",)
