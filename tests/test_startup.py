"""Start-up cost: `hpcspec --help` imports no command, `validate` imports only what it uses.

The figures live in benchmarks (docs/performance.md); these tests hold the structure that
makes them possible: the command table carries each command's one-line help, and the
validate path never loads the HTTP stack.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hpcspec.cli import COMMANDS, _LazyGroup, cli

ROOT = Path(__file__).parents[1]


def _modules_after(*args: str) -> set[str]:
    """Every module imported by running `hpcspec ARGS` in a fresh interpreter."""
    script = (
        "import json, sys\n"
        "from hpcspec.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=False
    )
    line = done.stderr.rsplit("MODULES ", 1)[1]
    return set(json.loads(line))


def test_each_command_summary_is_the_first_line_of_its_help() -> None:
    group = cli
    assert isinstance(group, _LazyGroup)
    for name, entry in COMMANDS.items():
        command = group.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None
        assert (command.help or "").strip().splitlines()[0] == entry.summary, name


def test_help_imports_no_command_module() -> None:
    modules = _modules_after("--help")
    commands = {entry.target.split(":")[0] for entry in COMMANDS.values()}
    assert not modules & commands
    assert not {"requests", "pydantic", "ruamel.yaml", "lxml"} & modules


@pytest.mark.parametrize("manifest", ["examples/quickstart.yaml"])
def test_validate_does_not_import_the_http_stack(manifest: str) -> None:
    modules = _modules_after("validate", manifest)
    assert "hpcspec.manifest" in modules
    assert "requests" not in modules
    assert "urllib3" not in modules
    assert "hpcspec.hpcpack.transport" not in modules
