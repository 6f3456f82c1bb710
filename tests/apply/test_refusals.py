"""A change apply refuses is never a silent success: apply reports it and exits 1.

A Finished job whose spec changed under `onSpecChange: error` has no change to make, only a
refusal; apply used to print "No changes" and exit 0 for it while `reconcile --once` exited 1
for the same plan (issue 12: one pipeline for both).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hpcspec.engine import wait
from tests.conftest import Runner

MANIFEST = """\
apiVersion: hpcspec/v1
stack: refusals
jobs:
  done:
    onSpecChange: error
    properties: {{Name: {name}}}
    tasks: {{t: {{commandLine: 'echo quick'}}}}
"""


def test_a_refused_spec_change_exits_1_and_says_why(
    cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wait, "POLL_SECONDS", 0.1)
    (cli_env / "m.yaml").write_text(MANIFEST.format(name="first"), encoding="utf-8")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--wait")
    assert code == 0, out + err
    (cli_env / "m.yaml").write_text(MANIFEST.format(name="second"), encoding="utf-8")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 1, out + err
    assert "no-op refused" in out and "onSpecChange: error" in out
    assert "No changes. The cluster matches the manifest." not in out
    code, out, err = run_cli("reconcile", "m.yaml", "--once")
    assert code == 1 and "no-op refused" in out, out + err
