"""A newcomer pasting the commands of docs/getting-started.md reaches a finished job on the
local cluster and a markdown plan for a changed manifest."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.ci.conftest import CI_VARIABLES

ROOT = Path(__file__).parents[2]
PAGE = ROOT / "docs" / "getting-started.md"
SETUP = "<!-- setup:"


def runnable_blocks(text: str) -> list[str]:
    """The ```bash blocks a reader pastes, except the install block (marked `setup`)."""
    blocks = []
    for match in re.finditer(r"```bash\n(.*?)```", text, re.S):
        before = text[: match.start()].rstrip().splitlines()[-1]
        if not before.startswith(SETUP):
            blocks.append(match.group(1))
    return blocks


def test_the_page_has_an_install_block_and_runnable_steps() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert SETUP in text and "pip install -e ." in text
    blocks = runnable_blocks(text)
    assert any("hpcspec apply" in b for b in blocks)
    assert any("--output markdown" in b for b in blocks)
    assert "local down" in blocks[-1]


def test_getting_started_commands_reach_a_finished_job_and_a_markdown_plan(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "hpcspec"
    shutil.copytree(
        ROOT,
        repo,
        ignore=shutil.ignore_patterns(".git", ".hpcspec", ".venv", "__pycache__", "*.egg-info"),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPCSPEC_")}
    env = {k: v for k, v in env.items() if k not in CI_VARIABLES}
    env |= {
        # `source .venv/bin/activate` from the install block, with this test's interpreter
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "HPCSPEC_CONFIG": str(tmp_path / "no-contexts.yaml"),  # nothing configured: local
        "HPCSPEC_STATE_DIR": str(tmp_path / "state"),  # this test's own local cluster
        "HPCSPEC_LOCAL_IDLE_SECONDS": "120",  # a safety net if the test dies half-way
    }
    script = "set -euo pipefail\n" + "\n".join(runnable_blocks(PAGE.read_text("utf-8")))
    try:
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        subprocess.run(
            [sys.executable, "-m", "hpcspec", "local", "down"],
            cwd=repo,
            env=env,
            capture_output=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All 1 job(s) finished." in done.stdout
    assert re.search(r"hello\s+\d+\s+Finished\s+2 finished of 2", done.stdout)
    plan = (repo / "plan.md").read_text(encoding="utf-8")
    assert plan.startswith("<!-- hpcspec-plan stack=my-stack digest=sha256:")
    assert "1 to rerun" in plan and "AboveNormal" in plan and "bye" in plan
    assert "local cluster stopped" in done.stdout
