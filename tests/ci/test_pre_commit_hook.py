"""`.pre-commit-hooks.yaml` offers `hpcspec validate` on manifests, and its entry works."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).parents[2]


def test_pre_commit_hook_runs_hpcspec_validate_on_manifest_files(tmp_path: Path) -> None:
    (hook,) = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "hpcspec-validate" and hook["language"] == "python"
    files = re.compile(hook["files"])
    assert files.search("jobs/cfd.hpcspec.yaml") and files.search("hpcspec/nightly.yml")
    assert not files.search("docker-compose.yaml")
    good = tmp_path / "ok.hpcspec.yaml"
    shutil.copy(ROOT / "examples" / "quickstart.yaml", good)
    bad = tmp_path / "bad.hpcspec.yaml"
    bad.write_text("apiVersion: hpcspec/v1\nstack: s\njobs: {}\n")
    program, *args = hook["entry"].split()
    assert program == "hpcspec"
    command = [sys.executable, "-m", "hpcspec", *args]
    assert subprocess.run([*command, str(good)], capture_output=True).returncode == 0
    failed = subprocess.run([*command, str(good), str(bad)], capture_output=True, text=True)
    assert failed.returncode == 1 and "bad.hpcspec.yaml:3" in failed.stderr
