"""Release hygiene: one version number, a Keep a Changelog file, sdist rules that cover the repo."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

from hpcspec import __version__

ROOT = Path(__file__).parents[1]
SECTIONS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
RELEASED = re.compile(r"^## \[(\d+)\.(\d+)\.(\d+)\] - \d{4}-\d{2}-\d{2}$")


def test_the_version_comes_from_hpcspec_dunder_version_only() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "hpcspec.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_changelog_keeps_the_keep_a_changelog_form() -> None:
    lines = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# Changelog"
    headings = [line for line in lines if line.startswith("## ")]
    assert headings[0] == "## [Unreleased]"
    versions = []
    for heading in headings[1:]:
        match = RELEASED.match(heading)
        assert match, f"not `## [X.Y.Z] - YYYY-MM-DD`: {heading}"
        versions.append(tuple(int(part) for part in match.groups()))
    assert versions == sorted(versions, reverse=True), "newest release first"
    current = tuple(int(part) for part in __version__.split("."))
    assert all(v <= current for v in versions), "a release newer than hpcspec.__version__"
    for line in lines:
        if line.startswith("### "):
            assert line[4:] in SECTIONS, line


def test_manifest_in_takes_every_tracked_top_level_entry_into_the_sdist() -> None:
    rules = (ROOT / "MANIFEST.in").read_text(encoding="utf-8")
    taken = set(re.findall(r"^graft (\S+)$", rules, re.M))
    taken |= {name for line in re.findall(r"^include (.+)$", rules, re.M) for name in line.split()}
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    top = {name.split("/")[0] for name in listed}
    # the package itself, setuptools' own files and CI plumbing are not MANIFEST.in's job
    top -= {"hpcspec", "pyproject.toml", ".ci", ".gitignore", "MANIFEST.in"}
    assert top <= taken, sorted(top - taken)
