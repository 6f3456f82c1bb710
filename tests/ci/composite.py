"""Run a composite GitHub Action's shell steps the way the runner does, without GitHub.

For each `run:` step of `action.yml`: substitute `${{ … }}` in its `env:` and
`working-directory` (inputs with their defaults, earlier steps' outputs, `github.*`), write
the script to a file and run it with `bash --noprofile --norc -eo pipefail FILE` (GitHub's
`shell: bash`), with the runner's files ($GITHUB_OUTPUT, $GITHUB_PATH, $GITHUB_STEP_SUMMARY)
and variables. A failing step stops the run, as on GitHub. An expression this runner does
not know fails the test, so the action cannot quietly depend on something untested.
`uses:` steps are not run; the caller names the ones it expects to skip.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class StepRun:
    name: str
    code: int
    out: str
    err: str
    outputs: dict[str, str]


@dataclass
class ActionRun:
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> StepRun | None:
        return next((s for s in self.steps if s.code != 0), None)

    @property
    def log(self) -> str:
        return "\n".join(f"## {s.name} (exit {s.code})\n{s.out}{s.err}" for s in self.steps)


def load(path: Path) -> dict[str, Any]:
    document = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def read_output_file(path: Path) -> dict[str, str]:
    """`name=value` lines and `name<<DELIMITER` blocks, as the runner reads $GITHUB_OUTPUT."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            values[name] = "\n".join(lines[index + 1 : end])
            index = end + 1
            continue
        name, _, value = line.partition("=")
        values[name] = value
        index += 1
    return values


def run_action(
    action_path: Path,
    inputs: Mapping[str, str],
    *,
    workspace: Path,
    runner_temp: Path,
    env: Mapping[str, str],
    github: Mapping[str, str],
    skip_uses: tuple[str, ...] = (),
    preset_outputs: Mapping[str, Mapping[str, str]] | None = None,
    only: tuple[str, ...] | None = None,
) -> ActionRun:
    """Run the action's shell steps; `preset_outputs` stands in for steps left out by `only`."""
    action = load(action_path / "action.yml")
    declared = action.get("inputs", {})
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs the action does not declare: {sorted(unknown)}"
    missing = [k for k, v in declared.items() if v.get("required") and k not in inputs]
    assert not missing, f"required inputs not given: {missing}"
    step_outputs = {k: dict(v) for k, v in (preset_outputs or {}).items()}
    context = {"github.action_path": str(action_path)}
    context |= {f"github.{k}": v for k, v in github.items()}
    values: dict[str, str] = {}

    def evaluate(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("inputs."):
                return values[expression.removeprefix("inputs.")]
            step = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
            if step:
                return step_outputs.get(step.group(1), {}).get(step.group(2), "")
            if expression in context:
                return context[expression]
            raise AssertionError(f"expression this test runner does not know: {expression}")

        return EXPRESSION.sub(one, text)

    for name, spec in declared.items():
        values[name] = inputs[name] if name in inputs else evaluate(str(spec.get("default", "")))
    result = ActionRun()
    runner_temp.mkdir(parents=True, exist_ok=True)
    path_file = runner_temp / "github_path"
    summary = Path(env.get("GITHUB_STEP_SUMMARY") or runner_temp / "summary.md")
    for number, step in enumerate(action["runs"]["steps"]):
        step_id = step.get("id", f"step{number}")
        if only is not None and step_id not in only:
            continue
        if "uses" in step:
            assert step["uses"].split("@")[0] in skip_uses, f"unexpected uses: {step['uses']}"
            continue
        assert step.get("shell") == "bash", f"{step.get('name')}: every run step is bash"
        script = runner_temp / f"step{number}.sh"
        script.write_text(step["run"], encoding="utf-8")
        output_file = runner_temp / f"output{number}"
        output_file.write_text("", encoding="utf-8")
        step_env = {k: evaluate(str(v)) for k, v in step.get("env", {}).items()}
        full_env = (
            dict(env)
            | {
                "GITHUB_ACTIONS": "true",
                "CI": "true",
                "GITHUB_ACTION_PATH": str(action_path),
                "GITHUB_OUTPUT": str(output_file),
                "GITHUB_PATH": str(path_file),
                "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_WORKSPACE": str(workspace),
                "RUNNER_TEMP": str(runner_temp),
            }
            | step_env
        )
        cwd = workspace / evaluate(step.get("working-directory", "."))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        outputs = read_output_file(output_file)
        step_outputs[step_id] = outputs
        name = evaluate(str(step.get("name", step_id)))
        result.steps.append(StepRun(name, done.returncode, done.stdout, done.stderr, outputs))
        if done.returncode != 0:
            break
    result.outputs = {k: evaluate(str(v["value"])) for k, v in action.get("outputs", {}).items()}
    return result


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The test process's PATH and HOME only, plus `extra` (no CI variables leak in)."""
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    pip = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
    return keep | pip | dict(extra)
