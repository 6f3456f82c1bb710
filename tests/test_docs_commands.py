"""Every shell command of README.md and docs/getting-started.md runs as written.

The fenced ```bash, ```sh and ```console blocks of a page (in a console block, the `$ ` lines)
run in order, as one bash script (`set -euo pipefail`), in a fresh copy of the checkout — a
reader pasting them into one terminal. A block that must not run here is marked in the page
with `<!-- not-run: REASON -->` on the line before it; there are few of them, and each says why.
A line that runs `pytest` is left out of the script: it is this test suite, which would run this
test inside itself (README's Quickstart ends with that line).

The environment is a newcomer's: no cluster configured and not CI (so commands use the embedded
local cluster, in a state directory of this test's own), an empty HOME, `python3` is the Python
running this suite, and no `hpcspec` on PATH until the page puts it there.

Install lines run for real, offline: `python3 -m venv .venv` makes a real virtual environment
and `pip install -e .` really builds and installs the copied checkout into it (the page's
`hpcspec` is the copy's, which the test checks); what pip would download comes from this
suite's own environment (tests/offline_pip.py says how and what that still proves).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hpcspec.config import CI_VARIABLES
from hpcspec.emulator import local
from tests.offline_pip import offline_pip_env

ROOT = Path(__file__).parents[1]
PAGES = ("README.md", "docs/getting-started.md")
SHELLS = ("bash", "sh", "console")
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(\S[^\n]*?)\s*-->")
RUNS_TESTS = re.compile(r"\bpytest\b")  # this suite: never run inside itself
MAX_NOT_RUN = 2  # per page: a page whose commands mostly cannot run here needs another test


@dataclass(frozen=True)
class Block:
    """One fenced shell block: where it is, the commands it holds, why it is not run."""

    page: str
    line: int
    commands: str
    not_run: str | None


def console_commands(text: str) -> str:
    """The commands of a console transcript: `$ ` lines and their `\\` continuations."""
    commands: list[str] = []
    continued = False
    for line in text.splitlines():
        if continued or line.startswith("$ "):
            commands.append(line if continued else line[2:])
            continued = line.endswith("\\")
    return "\n".join(commands) + "\n"


def shell_blocks(page: str, text: str) -> list[Block]:
    """The shell blocks of a markdown page, in order."""
    blocks = []
    for match in FENCE.finditer(text):
        language, body = match.group(1), match.group(2)
        if language not in SHELLS:
            continue
        before = text[: match.start()].rstrip().splitlines()
        marker = NOT_RUN.fullmatch(before[-1].strip()) if before else None
        commands = console_commands(body) if language == "console" else body
        line = text.count("\n", 0, match.start()) + 1
        blocks.append(Block(page, line, commands, marker.group(1) if marker else None))
    return blocks


def page_blocks(page: str) -> list[Block]:
    return shell_blocks(page, (ROOT / page).read_text(encoding="utf-8"))


def script(blocks: list[Block]) -> str:
    """One bash script of the blocks to run, each announced so a failure names its block."""
    parts = [
        "set -euo pipefail",
        "trap 'echo \"docs test: exit $? from: $BASH_COMMAND\" >&2' ERR",
    ]
    for block in blocks:
        if block.not_run is None:
            commands = "\n".join(
                line for line in block.commands.splitlines() if not RUNS_TESTS.search(line)
            )
            parts += [f"echo '### {block.page}:{block.line}' >&2", commands]
    return "\n".join(parts) + "\n"


# --- the extraction itself ------------------------------------------------------------------


def test_shell_blocks_keep_order_markers_and_console_commands() -> None:
    text = (
        "intro\n\n```bash\necho one\n```\n\n<!-- not-run: needs a real head node -->\n"
        "```sh\nhpcspec apply --cluster https://head/hpc m.yaml\n```\n\n"
        "```yaml\nkey: value\n```\n\n```console\n$ hpcspec plan \\\n    m.yaml\n"
        "1 to create\n$ echo two\ntwo\n```\n"
    )
    blocks = shell_blocks("p.md", text)
    assert [(b.line, b.not_run) for b in blocks] == [
        (3, None),
        (8, "needs a real head node"),
        (16, None),
    ]
    assert blocks[2].commands == "hpcspec plan \\\n    m.yaml\necho two\n"
    assert "hpcspec apply" not in script(blocks) and "echo one" in script(blocks)


def test_a_marker_without_a_reason_does_not_stop_a_block_from_running() -> None:
    (block,) = shell_blocks("p.md", "<!-- not-run: -->\n```bash\nfalse\n```\n")
    assert block.not_run is None


@pytest.mark.parametrize("page", PAGES)
def test_each_page_has_commands_and_few_blocks_marked_not_run(page: str) -> None:
    blocks = page_blocks(page)
    assert any(b.not_run is None and "hpcspec" in b.commands for b in blocks)
    assert sum(b.not_run is not None for b in blocks) <= MAX_NOT_RUN


def test_every_not_run_marker_in_the_docs_names_a_reason_and_sits_on_a_shell_block() -> None:
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        marked = [b for b in shell_blocks(path.name, text) if b.not_run is not None]
        assert text.count("<!-- not-run") == len(marked), path.name


# --- running the pages ----------------------------------------------------------------------


def newcomer_env(tmp_path: Path, suite_packages: Path) -> dict[str, str]:
    """A shell without hpcspec, cluster settings, CI variables or pip configuration."""
    python = tmp_path / "python-bin"
    python.mkdir()
    (python / "python3").symlink_to(getattr(sys, "_base_executable", sys.executable))
    path = [
        entry
        for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and shutil.which("hpcspec", path=entry) is None
    ]
    dropped = ("HPCSPEC_", "PIP_", "XDG_", "PYTHON", "VIRTUAL_ENV")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(dropped) and k not in CI_VARIABLES
    }
    home = tmp_path / "home"
    home.mkdir()
    return env | {
        "HOME": str(home),
        "PATH": os.pathsep.join([str(python), *path]),
        **offline_pip_env(suite_packages),
        "HPCSPEC_CONFIG": str(tmp_path / "no-contexts.yaml"),  # nothing configured: local
        "HPCSPEC_STATE_DIR": str(tmp_path / "state"),  # this test's own local cluster
        "HPCSPEC_LOCAL_IDLE_SECONDS": "120",  # a safety net if the test dies half-way
    }


@dataclass
class PageRun:
    checkout: Path
    env: dict[str, str]
    code: int
    out: str
    err: str

    def __repr__(self) -> str:  # what an assertion shows: out and err are in its message
        return f"PageRun({self.checkout})"


def run_page(page: str, tmp_path: Path, suite_packages: Path) -> PageRun:
    """The page's blocks in a fresh copy of the checkout; the local cluster is stopped after."""
    checkout = tmp_path / "hpcspec"
    shutil.copytree(
        ROOT,
        checkout,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", ".hpcspec", "__pycache__", "*.egg-info", ".*_cache", "build", "dist"
        ),
    )
    env = newcomer_env(tmp_path, suite_packages)
    try:
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-c", script(page_blocks(page))],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    finally:
        local.down(Path(env["HPCSPEC_STATE_DIR"]) / "local")
    return PageRun(checkout, env, done.returncode, done.stdout, done.stderr)


def installed_from(run: PageRun) -> Path:
    """Where the page's `.venv` imports hpcspec from (asked from outside the checkout)."""
    where = subprocess.run(
        [run.checkout / ".venv/bin/python", "-c", "import hpcspec; print(hpcspec.__file__)"],
        cwd=run.env["HOME"],
        env=run.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(where.stdout.strip())


@pytest.mark.slow
def test_readme_commands_install_run_the_quickstart_job_and_set_up_completion(
    tmp_path: Path, suite_packages: Path
) -> None:
    run = run_page("README.md", tmp_path, suite_packages)
    assert run.code == 0, run.out + run.err
    assert installed_from(run).is_relative_to(run.checkout)
    assert "All 1 job(s) finished." in run.out
    assert re.search(r"hello\s+\d+\s+Finished\s+2 finished of 2", run.out)
    assert "local cluster stopped" in run.out
    completion = Path(run.env["HOME"]) / ".local/share/bash-completion/completions/hpcspec"
    assert "_hpcspec_completion" in completion.read_text(encoding="utf-8")


@pytest.mark.slow
def test_getting_started_commands_reach_a_finished_job_and_a_markdown_plan(
    tmp_path: Path, suite_packages: Path
) -> None:
    run = run_page("docs/getting-started.md", tmp_path, suite_packages)
    assert run.code == 0, run.out + run.err
    assert installed_from(run).is_relative_to(run.checkout)
    assert "All 1 job(s) finished." in run.out
    assert re.search(r"hello\s+\d+\s+Finished\s+2 finished of 2", run.out)
    plan = (run.checkout / "plan.md").read_text(encoding="utf-8")
    assert plan.startswith("<!-- hpcspec-plan stack=my-stack digest=sha256:")
    assert "1 to rerun" in plan and "AboveNormal" in plan and "bye" in plan
    assert "local cluster stopped" in run.out
