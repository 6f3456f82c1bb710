"""Run the Azure Pipelines steps template and the GitLab component the way their agents do.

- Azure (`ci/azure/hpcspec.yml`): `${{ parameters.X }}` filled in at compile time (booleans
  as `True`/`False`), `$(name)` macros in `env:` at run time (an undefined one stays as its
  own text, as on Azure), each `bash:` step run with `bash --noprofile --norc FILE`, logging
  commands on stdout read back (`task.setvariable`, `task.uploadsummary`, `task.logissue`,
  `task.complete`); a variable set by a step is in the next steps' environment, upper-cased.
- GitLab (`templates/hpcspec.yml`): `$[[ inputs.X ]]` interpolated into the component's job,
  the including pipeline's overrides merged on top, `variables:` exported, the script run
  with bash `-eo pipefail`, the `dotenv` report read back.

`task:` steps are not run; the caller names the ones it expects to skip.
"""

from __future__ import annotations

import os
import re
import string
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.ci.composite import StepRun

ROOT = Path(__file__).parents[2]
TEMPLATE = re.compile(r"\$\{\{\s*parameters\.([\w-]+)\s*\}\}")
MACRO = re.compile(r"\$\(([\w.]+)\)")
VSO = re.compile(r"^##vso\[([\w.]+)([^\]]*)\](.*)$")


@dataclass
class AzureRun:
    steps: list[StepRun] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    summaries: list[Path] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    result: str = "Succeeded"

    @property
    def failed(self) -> StepRun | None:
        return next((s for s in self.steps if s.code != 0), None)

    @property
    def log(self) -> str:
        return "\n".join(f"## {s.name} (exit {s.code})\n{s.out}{s.err}" for s in self.steps)


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def run_azure_template(
    parameters: Mapping[str, Any],
    *,
    workspace: Path,
    agent_temp: Path,
    env: Mapping[str, str],
    variables: Mapping[str, str],
    skip_tasks: tuple[str, ...] = ("UsePythonVersion@0",),
) -> AzureRun:
    """Run `ci/azure/hpcspec.yml` with `parameters`; `variables` are the pipeline's."""
    template = YAML(typ="safe").load((ROOT / "ci/azure/hpcspec.yml").read_text(encoding="utf-8"))
    declared = {p["name"]: p for p in template["parameters"]}
    assert set(parameters) <= set(declared), set(parameters) - set(declared)
    missing = [n for n, p in declared.items() if "default" not in p and n not in parameters]
    assert not missing, f"required parameters not given: {missing}"
    values = {n: _render(parameters.get(n, p.get("default"))) for n, p in declared.items()}
    for name, spec in declared.items():
        if "values" in spec:
            assert values[name] in spec["values"], f"{name}: {values[name]!r}"
    known = {"System.DefaultWorkingDirectory": str(workspace)} | dict(variables)
    result = AzureRun()
    agent_temp.mkdir(parents=True, exist_ok=True)

    def compile_time(text: str) -> str:
        return TEMPLATE.sub(lambda m: values[m.group(1)], text)

    def run_time(text: str) -> str:
        return MACRO.sub(lambda m: known.get(m.group(1), m.group(0)), compile_time(text))

    for number, step in enumerate(template["steps"]):
        if "task" in step:
            assert step["task"] in skip_tasks, f"unexpected task {step['task']}"
            continue
        script = agent_temp / f"step{number}.sh"
        script.write_text(step["bash"], encoding="utf-8")
        as_env = {k.upper().replace(".", "_"): v for k, v in known.items()}
        step_env = {k: run_time(str(v)) for k, v in step.get("env", {}).items()}
        full_env = dict(env) | as_env | {"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": str(agent_temp)}
        cwd = Path(run_time(step.get("workingDirectory", str(workspace))))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", str(script)],
            cwd=cwd,
            env=full_env | step_env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        outputs: dict[str, str] = {}
        for line in done.stdout.splitlines():
            command = VSO.match(line)
            if not command:
                continue
            area, properties, message = command.groups()
            if area == "task.setvariable":
                name = re.search(r"variable=([\w.]+)", properties)
                assert name
                key = name.group(1)
                if "isOutput=true" in properties:
                    outputs[key] = message
                    key = f"{step['name']}.{key}"
                known[key] = message
            elif area == "task.uploadsummary":
                result.summaries.append(Path(message))
            elif area == "task.logissue":
                result.issues.append(f"{properties.strip()}: {message}")
            elif area == "task.complete":
                result.result = properties.split("result=")[1].strip(";")
        name = compile_time(str(step.get("displayName", step.get("name"))))
        result.steps.append(StepRun(name, done.returncode, done.stdout, done.stderr, outputs))
        if done.returncode != 0:
            result.result = "Failed"
            break
    result.variables = {k: v for k, v in known.items() if k not in variables}
    return result


@dataclass
class GitLabRun:
    code: int
    out: str
    err: str
    job: dict[str, Any]
    dotenv: dict[str, str]


def gitlab_component(inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The component's job (name, body) with `$[[ inputs.X ]]` filled in."""
    header, body = (ROOT / "templates/hpcspec.yml").read_text(encoding="utf-8").split("\n---\n")
    spec = YAML(typ="safe").load(header)["spec"]["inputs"]
    assert set(inputs) <= set(spec), set(inputs) - set(spec)
    missing = [n for n, s in spec.items() if "default" not in s and n not in inputs]
    assert not missing, f"required inputs not given: {missing}"
    values = {n: inputs.get(n, s.get("default")) for n, s in spec.items()}
    for name, value in values.items():
        if "options" in spec[name]:
            assert value in spec[name]["options"], f"{name}: {value!r}"
        if spec[name].get("type") == "boolean":
            assert isinstance(value, bool), f"{name} is a boolean input"

    def text(value: Any) -> str:
        return ("true" if value else "false") if isinstance(value, bool) else str(value)

    filled = re.sub(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", lambda m: text(values[m.group(1)]), body)
    ((name, job),) = YAML(typ="safe").load(filled).items()
    return name, job


def run_gitlab_job(job: Mapping[str, Any], *, workspace: Path, env: Mapping[str, str]) -> GitLabRun:
    """Run a job's script in `workspace` with its variables, as the runner's bash shell does."""
    assert None not in job.get("variables", {}).values(), "an empty variable is null in YAML"
    # the runner expands $NAME / ${NAME} of the environment inside variable values
    variables = {
        k: string.Template(str(v)).safe_substitute(env) for k, v in job.get("variables", {}).items()
    }
    script = "\n".join(str(line) for line in job["script"])
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=workspace,
        env=dict(env) | {"GITLAB_CI": "true", "CI": "true"} | variables,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    dotenv: dict[str, str] = {}
    report = job.get("artifacts", {}).get("reports", {}).get("dotenv")
    if report and (workspace / report).exists():
        lines = (workspace / report).read_text(encoding="utf-8").splitlines()
        dotenv = dict(line.split("=", 1) for line in lines if "=" in line)
    return GitLabRun(done.returncode, done.stdout, done.stderr, dict(job), dotenv)


def standin_venv(directory: Path, source: str, bin_dir: Path) -> Path:
    """A venv directory the integrations take as 'already installed from `source`'.

    Its `python` and `hpcspec` run this test run's own, so the steps after the install run the
    code under test without a 30-second pip install per test (the install itself is covered
    by tests/ci/test_github_action.py).
    """
    bin_path = directory / "bin"
    bin_path.mkdir(parents=True)
    for name in ("python", "hpcspec"):
        wrapper = bin_path / name
        wrapper.write_text(f'#!/bin/sh\nexec "{bin_dir / name}" "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)
    (directory / ".hpcspec-source").write_text(source, encoding="utf-8")
    return bin_path


def fake_hpcspec(directory: Path) -> Path:
    """A bin directory whose `hpcspec` logs its arguments (and cluster); *drifted* exits 2."""
    directory.mkdir()
    os.symlink(sys.executable, directory / "python")
    script = directory / "hpcspec"
    script.write_text(
        "#!/usr/bin/env bash\n"
        'if [ "$1" = --version ]; then echo "hpcspec (test stand-in)"; exit 0; fi\n'
        'for a in "$@"; do printf "[%s]" "$a"; done >> "$FAKE_LOG"; echo >> "$FAKE_LOG"\n'
        'echo "${HPCSPEC_CLUSTER-}" > "$FAKE_LOG.cluster"\n'
        'case "${*: -1}" in *drifted*) exit 2 ;; *broken*) exit 1 ;; esac\n'
    )
    script.chmod(0o755)
    return directory
