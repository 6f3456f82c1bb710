"""A task that prints a `{secret: …}` value it was given: `apply --wait`, `status` (and its
GitHub step summary) and `logs` show `(sensitive)`, never the value (docs/security.md;
red-team finding: all three printed it)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import Runner

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell commands"),
]

CANARY = "LocalSecret_CANARY7"
MANIFEST = """apiVersion: hpcspec/v1
stack: secret-output
jobs:
  leak:
    env:
      LIC: {secret: env:CANARY_ENV}
    tasks:
      t:
        commandLine: "sh -c 'echo lic=$LIC; echo lic=$LIC >&2; exit 1'"
        workDirectory: '%s'
"""


def test_a_task_printing_its_secret_shows_it_masked_everywhere(
    cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARY_ENV", CANARY)
    work = cli_env / "work"
    work.mkdir()
    (cli_env / "m.yaml").write_text(MANIFEST % work, encoding="utf-8")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--wait", "--timeout", "60s")
    assert code == 5, out + err
    assert "lic=(sensitive)" in out + err and CANARY not in out + err, out + err

    summary = cli_env / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, err = run_cli("status", "m.yaml")
    assert "lic=(sensitive)" in out + err and CANARY not in out + err, out + err
    assert summary.exists() and CANARY not in summary.read_text(encoding="utf-8")
    monkeypatch.delenv("GITHUB_ACTIONS")

    code, out, err = run_cli("logs", "m.yaml", "leak")
    assert "lic=(sensitive)" in out and CANARY not in out + err, out + err
    code, out, err = run_cli("status", "m.yaml", "-o", "json")
    assert CANARY not in out + err, out
    assert run_cli("destroy", "m.yaml", "--auto-approve")[0] == 0
