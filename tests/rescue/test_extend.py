"""`onSpecChange: extend` against the emulator running tasks as processes: a finished sweep
that grows runs only its new instances (each run leaves a line in a file), in a new job of
the same key, and the next plan shows no changes; a second growth extends again. A matrix
that gains a value runs only its new row."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tests.rescue.test_requeue_cancel_cli import manifest, runs

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell commands"),
]

SWEEP = """apiVersion: hpcspec/v1
stack: {stack}
jobs:
  sweep:
    onSpecChange: extend
    tasks:
      run:
        commandLine: sh -c 'echo * >> runs.txt'
        sweep: {{start: 1, end: END}}
        workDirectory: '{work}'
"""


def grow(path: Path, old: int, new: int) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(f"end: {old}}}", f"end: {new}}}"), encoding="utf-8")


def test_a_finished_sweep_of_twenty_grown_to_twenty_five_runs_exactly_the_five_new_points(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    work = manifest(cli_env, SWEEP.replace("END", "20"), "extend-e2e")
    apply = ("apply", "m.yaml", "--auto-approve", "--wait", "--timeout", "60s")
    code, out, err = run_cli(*apply)
    assert code == 0, out + err
    assert sorted(runs(work)) == list(range(1, 21))
    grow(cli_env / "m.yaml", 20, 25)
    code, out, err = run_cli("plan", "m.yaml")
    assert "sweep: extend (new points only: 5 of 25)" in out, out + err
    code, out, err = run_cli(*apply)
    assert code == 0, out + err
    assert sorted(runs(work)[20:]) == [21, 22, 23, 24, 25], runs(work)
    code, out, err = run_cli("plan", "m.yaml", "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out + err
    # Extending the extension: checked against all 25 points run so far, not its 5.
    grow(cli_env / "m.yaml", 25, 27)
    code, out, err = run_cli(*apply)
    assert code == 0 and "extend (new points only: 2 of 27)" in out, out + err
    assert sorted(runs(work)[25:]) == [26, 27], runs(work)
    code, out, err = run_cli("plan", "m.yaml", "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out + err


MATRIX = """apiVersion: hpcspec/v1
stack: {stack}
jobs:
  grid:
    onSpecChange: extend
    tasks:
      post:
        commandLine: sh -c 'echo ${{matrix.n}} >> runs.txt'
        matrix: {{n: [1, 2]}}
        workDirectory: '{work}'
"""


def test_a_finished_matrix_that_gains_a_value_runs_only_its_new_row(
    cli_env: Path, run_cli: Runner
) -> None:
    work = manifest(cli_env, MATRIX, "extend-matrix")
    apply = ("apply", "m.yaml", "--auto-approve", "--wait", "--timeout", "60s")
    code, out, err = run_cli(*apply)
    assert code == 0 and sorted(runs(work)) == [1, 2], out + err
    path = cli_env / "m.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("[1, 2]", "[1, 2, 3]"), "utf-8")
    code, out, err = run_cli(*apply)
    assert code == 0 and "grid: extend (new points only: 1 of 3)" in out, out + err
    assert runs(work)[2:] == [3], runs(work)
    code, out, err = run_cli("plan", "m.yaml", "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out + err
