"""Each pipeline in examples/ci/ runs its hpcspec commands, in order, against an emulator."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.ci.conftest import CI_VARIABLES

ROOT = Path(__file__).parents[2]
PIPELINES = {
    "github-actions.yml": {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_RUN_ID": "42",
    },
    "azure-pipelines.yml": {
        "TF_BUILD": "True",
        "SYSTEM_COLLECTIONURI": "https://dev.azure.com/org/",
        "SYSTEM_TEAMPROJECT": "p",
        "BUILD_BUILDID": "7",
    },
    "gitlab-ci.yml": {"GITLAB_CI": "true", "CI_PIPELINE_URL": "https://gitlab.example/p/-/9"},
}


def _scripts(node: Any) -> Iterator[str]:
    """Every shell script in a pipeline file (`run:` and `script:` values), in file order."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script") and isinstance(value, str):
                yield value
            elif key == "script" and isinstance(value, list):
                yield from (str(v) for v in value)
            else:
                yield from _scripts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _scripts(item)


def hpcspec_commands(path: Path) -> list[str]:
    """The hpcspec command lines of a pipeline, continuation lines joined."""
    document = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    commands = []
    for script in _scripts(document):
        for line in re.sub(r"\\\n\s*", " ", script).splitlines():
            if line.strip().startswith("hpcspec "):
                commands.append(line.strip())
    return commands


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_pipeline_example_commands_run_against_the_emulator(
    name: str, start_emulator: Callable[..., Any], tmp_path: Path
) -> None:
    commands = hpcspec_commands(ROOT / "examples" / "ci" / name)
    verbs = [c.split()[1] for c in commands]
    assert verbs == ["validate", "plan", "apply", "drift"][: len(verbs)] and len(verbs) >= 3
    running = start_emulator()
    work = tmp_path / "repo"
    (work / "examples").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "quickstart.yaml", work / "examples")
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES}
    env |= PIPELINES[name] | {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "MANIFEST": "examples/quickstart.yaml",
        "HPCSPEC_CONFIG": str(tmp_path / "config.yaml"),
        "HPCSPEC_CLUSTER": running.url,
        "HPCSPEC_USERNAME": running.admin[0],
        "HPCSPEC_PASSWORD": running.admin[1],
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")
        if "GITHUB_ACTIONS" in PIPELINES[name]
        else "",
    }
    for command in commands:
        done = subprocess.run(
            ["bash", "-ec", command], cwd=work, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    saved = json.loads((work / "plan.json").read_text())
    assert saved["format_version"] and saved["stack"] == "quickstart"
    status = subprocess.run(
        [sys.executable, "-m", "hpcspec", "status", "--output", "json", "examples/quickstart.yaml"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    (row,) = json.loads(status.stdout)["jobs"]
    assert row["state"] == "Finished"
    assert row["source"].startswith("examples/quickstart.yaml")
    if name == "gitlab-ci.yml":
        report = json.loads((work / "plan.gitlab.json").read_text())
        assert report == {"create": 1, "update": 0, "delete": 0}
        assert row["source"].endswith("https://gitlab.example/p/-/9")
    if name == "github-actions.yml":
        assert "<!-- hpcspec-plan stack=quickstart" in (work / "plan.md").read_text()
        assert "**hpcspec apply:** 1 done" in (tmp_path / "summary.md").read_text()
        assert row["source"].endswith("/o/r/actions/runs/42")
    if name == "azure-pipelines.yml":
        assert row["source"].endswith("_build/results?buildId=7")
