"""Runs every probe of `hpcspec cluster check`, cleans up its jobs, and builds the profile.

Part of the check (`hpcpack.check`): independent probes run in parallel (a real head node
answers in tens of milliseconds to seconds, so the battery stays near a minute); the paging
probe runs last, when the check's own jobs guarantee more than one row. Every job the check made
and left unfinished is cancelled at the end unless `keep` (none of them ever ran: see
`job_probes.py`). The measured facts become a `ClusterProfile`; facts no probe established are
listed in its `unverified`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hpcspec.hpcpack import errors
from hpcspec.hpcpack.check import cluster_probes, job_probes
from hpcspec.hpcpack.check.job_probes import SETTLE
from hpcspec.hpcpack.check.model import CheckRun, Finding, Outcome, ProbeResult
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import UNKNOWN, ClusterProfile
from hpcspec.hpcpack.states import JobState

Probe = Callable[[CheckRun], ProbeResult]
PROBES: tuple[tuple[str, Probe], ...] = (
    ("version-and-auth", cluster_probes.version_and_auth),
    ("date-time-format", cluster_probes.date_time_format),
    ("node-endpoints", cluster_probes.node_endpoints),
    ("errors", cluster_probes.error_contract),
    ("client-source", job_probes.client_source),
    ("writes", job_probes.writes_by_state),
    ("sweep-expansion", job_probes.sweep_expansion),
    ("dependent-after-failure", job_probes.dependent_after_failure),
    ("job-xml", job_probes.job_xml_import),
    ("listing-lag", cluster_probes.listing_lag),
)
LAST: tuple[tuple[str, Probe], ...] = (("paging", cluster_probes.paging),)
_ENDED = (JobState.Canceled, JobState.Finished, JobState.Failed)


@dataclass
class CheckReport:
    """Every finding, the profile they make, and what became of the check's jobs."""

    url: str
    findings: list[Finding]
    profile: ClusterProfile
    jobs: dict[int, str] = field(default_factory=dict)  # job id → its state at the end
    cleanup_errors: list[str] = field(default_factory=list)
    prefix: str = ""  # the run's job name prefix
    started: str = ""  # when the run started (ISO 8601, UTC)

    @property
    def all_hold(self) -> bool:
        return all(f.outcome is Outcome.HOLDS for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values."""
        return {
            "cluster": self.url,
            "findings": [f.as_dict() for f in self.findings],
            "jobs": [{"id": i, "state": s} for i, s in sorted(self.jobs.items())],
            "cleanup_errors": list(self.cleanup_errors),
            "profile": self.profile.to_dict(),
        }


def run_check(
    client: HpcPackClient,
    *,
    keep: bool = False,
    parallel: int = 4,
    probes: Sequence[tuple[str, Probe]] = PROBES + LAST,
    observe: Callable[[str | None], None] | None = None,
    prefix: str | None = None,
    now: datetime | None = None,
) -> CheckReport:
    """Run `probes` against the cluster (in parallel, then `LAST`) and clean up; `observe` is
    told which probe each thread works for; `prefix`/`now` repeat a recorded run (replay)."""
    run = CheckRun(client, prefix=prefix, now=now)
    first = [p for p in probes if p not in LAST]
    last = [p for p in probes if p in LAST]
    results: dict[str, ProbeResult] = {}

    def one(named: tuple[str, Probe]) -> tuple[str, ProbeResult]:
        name, probe = named
        if observe is not None:
            observe(name)  # which probe this thread's requests belong to (for --record)
        try:
            return name, probe(run)
        except Exception as failed:  # one probe's failure (an HTTP error, an answer it cannot
            # read) is its finding; the other probes and the clean-up still run
            found = ProbeResult()
            why = failed if isinstance(failed, errors.ApiError) else repr(failed)
            found.add(name, "The probe could run", None, f"it failed: {why}")
            return name, found

    report = CheckReport(
        url=client.transport.base_url,
        findings=[],
        profile=UNKNOWN,
        prefix=run.prefix,
        started=run.started.isoformat(),
    )
    try:
        workers = max(1, min(parallel, len(first) or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results.update(pool.map(one, first))
        results.update(one(p) for p in last)
    finally:  # interrupted or not, every job made so far is cancelled
        if observe is not None:
            observe("clean-up")
        _clean_up(run, report, keep=keep)
    report.findings = [f for name, _ in probes for f in results[name].findings]
    report.profile = _profile(client, results.values())
    return report


def _profile(client: HpcPackClient, results: Any) -> ClusterProfile:
    facts: dict[str, Any] = {}
    for result in results:
        facts.update(result.facts)
    checked = datetime.now(UTC).replace(microsecond=0).isoformat()
    base = UNKNOWN.with_changes(source=client.transport.base_url, checked_at=checked)
    return base.learned(**facts)


def _clean_up(run: CheckRun, report: CheckReport, *, keep: bool) -> None:
    """Cancel every job of the check that has not ended (unless `keep`), then note each one's
    end state (waiting out Canceling for up to `SETTLE` seconds)."""
    for job_id in run.jobs:
        try:
            if not keep and run.client.job_state(job_id) not in _ENDED:
                run.client.cancel_job(job_id, "hpcspec cluster check: clean-up")
        except errors.ApiError as failed:
            report.cleanup_errors.append(f"job {job_id}: {failed}")
    deadline = time.monotonic() + SETTLE
    for job_id in run.jobs:
        try:
            state = run.client.job_state(job_id)
            while state is JobState.Canceling and time.monotonic() < deadline:
                time.sleep(0.1)
                state = run.client.job_state(job_id)
            report.jobs[job_id] = str(state.name)
        except errors.ApiError as failed:
            report.cleanup_errors.append(f"job {job_id}: {failed}")
