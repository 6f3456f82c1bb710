"""Recorded traces as tests (issue 15 part 6).

- The emulator's own trace of `cluster check` (one probe at a time, on a fresh emulator,
  normalised: times, the run's name, continuation tokens, waits) is kept in
  `golden/emulator-trace.json`: any change to emulator behaviour shows up as a diff there.
- Every recorded run under `traces/<name>/` (`trace.json` + `report.json`, exactly what
  `hpcspec cluster check --record DIR` writes — a user's head node's included) is replayed
  to the client offline and must reach the same findings.

Regenerate both emulator files after an intended change (then read the diff):

    UPDATE_GOLDEN=1 pytest tests/check/test_trace.py -p no:cacheprovider
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hpcspec.hpcpack.check import run_check
from hpcspec.hpcpack.check.trace import RecordingSession, ReplaySession, normalised
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import ClusterProfile, ErrorStyle
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions, basic_token

HERE = Path(__file__).parent
GOLDEN = HERE / "golden" / "emulator-trace.json"
TRACES = HERE / "traces"
EMULATOR_TRACE = TRACES / "emulator-stamped-aspnet"  # a profiled emulator, recorded here
STAMPED = ClusterProfile(
    client_source_kept=False, client_source_stamp="HPC", error_style=ErrorStyle.ASPNET
)


def _recorded(running: Any, *, parallel: int, prefix: str | None = None) -> tuple[Any, dict]:
    user, password = running.admin
    session = RecordingSession(running.url, (password, basic_token(user, password)))
    options = TransportOptions(running.url, credentials=Credentials(user, password))
    client = HpcPackClient(Transport(options, session=session), profile=ClusterProfile())
    try:
        report = run_check(client, parallel=parallel, prefix=prefix, observe=session.probe)
    finally:
        client.close()
    return report, session.trace(prefix=report.prefix, started=report.started)


@pytest.mark.slow
def test_the_emulators_trace_of_cluster_check_is_unchanged(start_emulator: Any) -> None:
    report, trace = _recorded(start_emulator(), parallel=1)
    assert report.all_hold
    got = json.dumps(normalised(trace), indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(got)
    assert GOLDEN.exists(), f"missing {GOLDEN.name}: run with UPDATE_GOLDEN=1"
    assert got == GOLDEN.read_text(), "the emulator answers differently: see the module doc"


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("UPDATE_GOLDEN"), reason="regenerates a fixture")
def test_record_the_profiled_emulators_trace(start_emulator: Any) -> None:
    report, trace = _recorded(start_emulator(profile=STAMPED), parallel=4)
    EMULATOR_TRACE.mkdir(parents=True, exist_ok=True)
    (EMULATOR_TRACE / "trace.json").write_text(json.dumps(trace, indent=1, sort_keys=True) + "\n")
    (EMULATOR_TRACE / "report.json").write_text(json.dumps(report.as_dict(), indent=1) + "\n")


def _replay(directory: Path) -> tuple[list[dict[str, str]], list[dict[str, str]], list[str]]:
    trace = json.loads((directory / "trace.json").read_text())
    recorded = json.loads((directory / "report.json").read_text())
    url = "https://replay.invalid/hpc"
    session = ReplaySession(trace, url)
    options = TransportOptions(url, credentials=Credentials("HPC\\replay", "not-used"))
    client = HpcPackClient(Transport(options, session=session), profile=ClusterProfile())
    try:
        started = datetime.fromisoformat(trace["started"])
        report = run_check(client, parallel=1, prefix=trace["prefix"], now=started)
    finally:
        client.close()
    return recorded["findings"], [f.as_dict() for f in report.findings], session.unmatched


@pytest.mark.parametrize(
    "directory", sorted(p for p in TRACES.iterdir() if p.is_dir()), ids=lambda p: p.name
)
def test_a_recorded_run_replays_to_the_same_findings(directory: Path) -> None:
    recorded, replayed, unmatched = _replay(directory)
    assert not unmatched
    assert replayed == recorded


def test_the_replayed_emulator_trace_shows_what_differs() -> None:
    recorded, _, _ = _replay(EMULATOR_TRACE)
    results = {f["probe"]: f["result"] for f in recorded}
    assert results["client-source.rest-create"] == "differs"
    assert results["errors.not-found"] == "holds"
