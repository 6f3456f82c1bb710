"""Upgrading hpcspec must not replace a job whose spec did not change: jobs applied by an
earlier version carry the digest that version computed. End to end over HTTP against the
emulator; the earlier digests are golden values that version wrote."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tests.plan_cli.conftest import write_manifest
from tests.plan_cli.test_lifecycle import MATCHES, live_ids, wait_state

# c's dependsOn (the job's and t3's) in an order that is not sorted
JOBS = """\
  a:
    tasks: {t: {commandLine: 'sleep:60'}}
  b:
    tasks: {t: {commandLine: 'echo b'}}
  c:
    dependsOn: [b, a]
    tasks:
      t1: {commandLine: 'echo 1'}
      t2: {commandLine: 'echo 2'}
      t3: {commandLine: 'echo 3', dependsOn: [t2, t1]}
"""
# hpcspec.manifest re-exports a function named resolve: the module itself
resolve_module = importlib.import_module("hpcspec.manifest.resolve")
NOW = "22fa2fc14732cd54"  # c's digest now (dependsOn hashed sorted, since df72ab8)
BEFORE = "c0426c454528d3a2"  # c's digest as hpcspec 9fe7852 computed it (in manifest order)


def as_before(real: Callable[..., str]) -> Callable[..., str]:
    """`resolve.digest` as the earlier version answered for this manifest's job c."""

    def digest(*args: Any, **kwargs: Any) -> str:
        found = real(*args, **kwargs)
        return BEFORE if found == NOW else found

    return digest


def test_a_queued_job_applied_before_dependson_was_sorted_is_no_change(
    cli_env: Path, run_cli: Runner, cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the verification pass: the digest now hashes dependsOn sorted, so a job the
    previous version applied with `dependsOn: [b, a]` carried another digest, and the first
    plan after the upgrade replaced it — losing its queue position — "in fields that are not
    read back", though nothing in its spec changed."""
    manifest = write_manifest(cli_env, "upgrade-deps", JOBS)
    with monkeypatch.context() as earlier:
        earlier.setattr(resolve_module, "digest", as_before(resolve_module.digest))
        assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    ids = live_ids(cluster, "upgrade-deps", ["c"])
    assert ids["c"] is not None
    wait_state(cluster, ids["c"], "Queued")  # it waits for a
    code, out, err = run_cli("drift", str(manifest))
    assert "the manifest changed" not in out + err, out + err
    code, out, err = run_cli("plan", str(manifest))
    assert "replace" not in out and "loses its queue position" not in out, out + err
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    assert live_ids(cluster, "upgrade-deps", ["c"])["c"] == ids["c"]
    code, out, err = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0 and MATCHES in out, out + err
    assert run_cli("destroy", str(manifest), "--auto-approve")[0] == 0
