"""Cluster choice at the command line: never a false green from an unconfigured cluster
(issue 14 item 2), and one local cluster per user whatever the directory (item 12)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hpcspec.config import local_cluster_dir
from hpcspec.emulator import local
from tests.conftest import ROOT, Runner

QUICKSTART = ROOT / "examples" / "quickstart.yaml"


@pytest.fixture
def local_cluster_stopped_after() -> Iterator[Path]:
    """This test's local cluster directory; whatever a test starts there is stopped after."""
    directory = local_cluster_dir(os.environ)
    try:
        yield directory
    finally:
        local.down(directory)


def test_an_empty_cluster_variable_fails_plan_instead_of_using_a_throwaway_cluster(
    run_cli: Runner, monkeypatch: pytest.MonkeyPatch, local_cluster_stopped_after: Path
) -> None:
    """Issue 14 item 2: `HPCSPEC_CLUSTER= plan --detailed-exitcode` exited 0 on an emulator."""
    ci_job = {"CI": "true", "GITHUB_ACTIONS": "true", "HPCSPEC_USERNAME": "HPC\\ci"}
    for name, value in {"HPCSPEC_CLUSTER": "", "HPCSPEC_PASSWORD": "pw", **ci_job}.items():
        monkeypatch.setenv(name, value)
    code, out, err = run_cli("plan", "--detailed-exitcode", str(QUICKSTART))
    assert code == 1, (out, err)
    assert "HPCSPEC_CLUSTER is set but empty [config-error]" in err
    assert not local_cluster_stopped_after.exists()  # no local cluster was started


def test_nothing_configured_in_ci_fails_plan_with_how_to_configure(
    run_cli: Runner, monkeypatch: pytest.MonkeyPatch, local_cluster_stopped_after: Path
) -> None:
    monkeypatch.setenv("CI", "true")
    code, out, err = run_cli("plan", "--detailed-exitcode", str(QUICKSTART))
    assert code == 1, (out, err)
    assert "no cluster is configured, and this run is in CI (CI=true)" in err
    assert "hint: set HPCSPEC_CLUSTER" in err and "--cluster local" in err
    assert out == ""
    assert not local_cluster_stopped_after.exists()


@pytest.mark.slow
def test_cluster_local_selects_the_local_cluster_in_ci(
    run_cli: Runner, monkeypatch: pytest.MonkeyPatch, local_cluster_stopped_after: Path
) -> None:
    monkeypatch.setenv("CI", "true")
    code, out, err = run_cli("plan", "--cluster", "local", str(QUICKSTART))
    assert code == 0, (out, err)
    running = local.status(local_cluster_stopped_after)
    assert running is not None
    assert f"hpcspec: cluster {running.url} (embedded local cluster: flag --cluster local)" in err


@pytest.mark.slow
def test_a_subdirectory_sees_the_same_local_cluster_and_its_jobs(
    run_cli: Runner,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    local_cluster_stopped_after: Path,
) -> None:
    """Issue 14 item 12: `cd examples && hpcspec status quickstart.yaml` found nothing."""
    (tmp_path / "examples").mkdir()
    shutil.copy(QUICKSTART, tmp_path / "examples" / "quickstart.yaml")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("apply", "--auto-approve", "examples/quickstart.yaml")
    assert code == 0, (out, err)
    first = local.status(local_cluster_stopped_after)
    assert first is not None
    monkeypatch.chdir(tmp_path / "examples")
    code, out, err = run_cli("status", "--output", "json", "quickstart.yaml")
    assert code == 0, (out, err)
    assert f"hpcspec: cluster {first.url} " in err
    assert local.status(local_cluster_stopped_after) == first  # not a second cluster
    assert not (tmp_path / "examples" / ".hpcspec" / "local").exists()
    (row,) = json.loads(out)["jobs"]
    assert isinstance(row["job_id"], int) and row["state"] not in ("absent", "", None)
