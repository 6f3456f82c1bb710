"""`hpcspec adopt` on a cluster that replaces ClientSource: the job it tags is found by its
tags from then on, whether or not the identity cache (`custom_identity.py`: job id → stack and
key, or "not hpcspec's") was kept. The cache is only a cache: deleting it changes no plan."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from hpcspec.config import load_identities
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import ClusterProfile
from hpcspec.hpcpack.states import JobState
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions
from hpcspec.manifest.load import load_and_resolve
from tests.conftest import Runner

STAMPING = ClusterProfile(client_source_kept=False, client_source_stamp="HPC Job Manager")
MANIFEST = """\
apiVersion: hpcspec/v1
stack: adopting
jobs:
  long:
    properties: {Name: long}
    tasks: {t: {commandLine: 'sleep:60'}}
"""


def _plan(run_cli: Runner) -> dict[str, Any]:
    code, out, err = run_cli("plan", "m.yaml", "--output", "json")
    assert code == 0, out + err
    summary: dict[str, Any] = json.loads(out)["summary"]
    return summary


@pytest.mark.slow  # an adopt and two plans against a private emulator: ~1.5 s
def test_a_job_adopt_tags_is_not_cached_as_not_hpcspecs(
    start_emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run_cli: Runner
) -> None:
    running = start_emulator(profile=STAMPING)
    for name, value in {
        "HPCSPEC_CLUSTER": running.url,
        "HPCSPEC_USERNAME": running.user[0],
        "HPCSPEC_PASSWORD": running.user[1],
        "HPCSPEC_CONFIG": str(tmp_path / "config" / "config.yaml"),
        "HPCSPEC_STATE_DIR": str(tmp_path / "state"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    desired = load_and_resolve(tmp_path / "m.yaml").jobs["long"].definition
    options = TransportOptions(running.url, credentials=Credentials(*running.user))
    other_tool = HpcPackClient(Transport(options), profile=STAMPING)
    try:  # a job made by another tool, running when it is adopted (custom properties only)
        job_id = other_tool.create_job_xml(desired)
        other_tool.submit_job(job_id)
        deadline = time.monotonic() + 10
        while other_tool.job_state(job_id) is not JobState.Running:
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
    finally:
        other_tool.close()
    code, out, err = run_cli("adopt", "m.yaml", f"long={job_id}")
    assert code == 0 and "identity tags" in out, out + err
    assert load_identities(running.url).get(str(job_id)) != [], "cached as not hpcspec's"
    # Without its adopt: entry, the job is found by its tags: with the cache or without it.
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    with_cache = _plan(run_cli)
    for cache in (tmp_path / "state").rglob("identities.json"):
        cache.unlink()
    assert _plan(run_cli) == with_cache
    assert with_cache["create"] == 0, with_cache
