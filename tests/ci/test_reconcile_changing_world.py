"""`hpcspec reconcile` while the world changes under it: a manifest rewritten while a round
reads and plans it (a `git pull` writing the file in place), a manifest that becomes invalid
between rounds. A round never applies a file it did not read whole, and the loop goes on."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.cli import reconcile as reconcile_cmd
from tests.ci.conftest import Run, unique_stack, write_manifest

TWO_JOBS = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  first:
    tasks:
      step: {{commandLine: "sleep:300"}}
  second:
    tasks:
      step: {{commandLine: "sleep:300"}}
"""


def alive_jobs(hpcspec: Callable[..., Run], manifest: Path) -> dict[str, int]:
    """Each key's job id, while its job is alive (the scheduler moves their states on)."""
    status = json.loads(hpcspec("status", "--output", "json", str(manifest)).out)
    alive = ("Configuring", "Submitted", "Validating", "Queued", "Running")
    return {row["key"]: row["job_id"] for row in status["jobs"] if row["state"] in alive}


def test_a_manifest_rewritten_while_a_round_reads_it_is_not_applied_that_round(
    cli_env: pytest.MonkeyPatch, hpcspec: Callable[..., Run], tmp_path: Path
) -> None:
    """The round read the first half of a file being written in place (one job and the first
    bytes of the other's command line); the rest arrives while it plans. Applying what it read
    would replace `first` (`sleep:3`) and, with --prune, cancel `second`."""
    stack = unique_stack("halfwritten")
    whole = TWO_JOBS.format(stack=stack)
    manifest = write_manifest(tmp_path, whole)
    assert hpcspec("reconcile", "--once", str(manifest)).code == 0
    before = alive_jobs(hpcspec, manifest)
    assert set(before) == {"first", "second"}
    half = whole[: whole.index('sleep:300"}\n  second') + len("sleep:3")] + '"}\n'
    manifest.write_text(half, encoding="utf-8")
    original = reconcile_cmd.reconcile_round

    def writer_finishes(*args: Any, **kwargs: Any) -> Any:
        manifest.write_text(whole, encoding="utf-8")  # the writer's last bytes land
        return original(*args, **kwargs)

    cli_env.setattr(reconcile_cmd, "reconcile_round", writer_finishes)
    skipped = hpcspec("reconcile", "--once", "--prune", str(manifest))
    assert skipped.code == 1, skipped.out + skipped.err
    assert "changed while this round read" in skipped.out + skipped.err
    assert alive_jobs(hpcspec, manifest) == before  # nothing replaced, nothing pruned
    cli_env.setattr(reconcile_cmd, "reconcile_round", original)
    again = hpcspec("reconcile", "--once", "--prune", str(manifest))
    assert again.code == 0 and again.out == "", again.out + again.err  # the whole file: no change
    assert hpcspec("plan", "--detailed-exitcode", str(manifest)).code == 0


@pytest.mark.slow  # three rounds, a second apart
def test_a_manifest_that_declares_another_manifests_stack_mid_loop_skips_rounds_not_the_loop(
    cli_env: pytest.MonkeyPatch, hpcspec: Callable[..., Run], tmp_path: Path
) -> None:
    """Two manifests; a push makes the second declare the first's stack. The rounds that read
    it say so and apply nothing; the loop goes on and stops on SIGTERM with exit 0."""
    one, two = unique_stack("one"), unique_stack("two")
    first = write_manifest(tmp_path, TWO_JOBS.format(stack=one), "one.yaml")
    second = write_manifest(tmp_path, TWO_JOBS.format(stack=two), "two.yaml")
    original = reconcile_cmd.load_stacks
    calls: list[int] = []

    def pushes(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:  # after the start check and one good round
            second.write_text(TWO_JOBS.format(stack=one), encoding="utf-8")
        if len(calls) == 4:
            second.write_text(TWO_JOBS.format(stack=two), encoding="utf-8")
            signal.raise_signal(signal.SIGTERM)  # stop after this round
        return original(*args, **kwargs)

    cli_env.setattr(reconcile_cmd, "load_stacks", pushes)
    run = hpcspec("reconcile", "--interval", "1", str(first), str(second))
    assert run.code == 0, run.out + run.err
    assert len(calls) == 4, "the loop stopped at the manifest that declared a taken stack"
    assert f"both declare stack {one!r}" in run.out
    assert "reconcile: stopped" in run.out
