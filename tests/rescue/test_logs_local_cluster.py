"""On the embedded local cluster (started on first use, as a user gets it): `hpcspec logs`
shows the quickstart's "Hello from quickstart", and a failed sweep instance's stderr from a
file named relative to the default working directory (the cluster's `work/`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hpcspec.engine import wait
from tests.conftest import ROOT, Runner

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell commands"),
]

FAILING_SWEEP = """apiVersion: hpcspec/v1
stack: local-logs
jobs:
  sweep:
    tasks:
      run:
        commandLine: "sh -c 'if [ * -eq 2 ]; then echo no license for case * >&2; exit 7; fi'"
        sweep: {start: 1, end: 3}
        properties: {StdErrFilePath: 'local-logs-***.err'}
"""


def test_logs_on_the_local_cluster_show_the_quickstart_and_a_failed_instances_stderr(
    run_cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wait, "POLL_SECONDS", 0.1)
    monkeypatch.chdir(tmp_path)
    quickstart = str(ROOT / "examples" / "quickstart.yaml")
    try:
        code, out, err = run_cli("apply", quickstart, "--auto-approve", "--wait")
        assert code == 0, out + err
        code, out, err = run_cli("logs", quickstart)
        assert code == 0, out + err
        assert "embedded local cluster" in err
        assert "==> hello/greet (job" in out and "\nHello from quickstart\n" in out
        (tmp_path / "sweep.yaml").write_text(FAILING_SWEEP, encoding="utf-8")
        code, out, err = run_cli("apply", "sweep.yaml", "--auto-approve", "--wait")
        assert code == 5, out + err
        code, out, err = run_cli("logs", "sweep.yaml", "--failed")
        assert code == 0, out + err
        assert "==> sweep/run[2] (job" in out and "Failed, exit code 7 <==" in out
        assert "local-logs-002.err ---\nno license for case 2\n" in out, out
    finally:
        run_cli("local", "down")
