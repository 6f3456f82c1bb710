"""What `hpcspec cluster check` finds: one `Finding` per assumption, and the run's throwaway jobs.

Part of the check (`hpcpack.check`): the probes (`cluster_probes.py`, `job_probes.py`) each
return findings and the profile facts they measured; `battery.py` runs them and cleans up.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from hpcspec.hpcpack.client import HpcPackClient

JOB_PREFIX = "hpcspec-check-"
# Every throwaway job that is submitted is held this long first, so it cannot start even if
# the check dies before its clean-up (HPC Pack refuses a hold over a year,
# Operation_JobHoldUntilTooLong); the clean-up cancels it long before.
HOLD = timedelta(days=300)
COMMAND = "echo hpcspec-check"  # never runs: every job is held, or never submitted


class Outcome(Enum):
    """Whether an assumption held on this cluster."""

    HOLDS = "holds"
    DIFFERS = "differs"  # the cluster does something else (hpcspec adapts, or says how)
    UNKNOWN = "unknown"  # the probe could not tell (it failed, or was not safe to run)


@dataclass(frozen=True)
class Finding:
    """One assumption, what was found and the evidence for it."""

    probe: str  # a stable id, e.g. "client-source.rest-create"
    assumption: str
    outcome: Outcome
    evidence: str

    def as_dict(self) -> dict[str, str]:
        """The finding as JSON-ready values."""
        return {
            "probe": self.probe,
            "assumption": self.assumption,
            "result": self.outcome.value,
            "evidence": self.evidence,
        }


@dataclass
class ProbeResult:
    """What one probe returns: its findings and the profile facts it measured."""

    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, probe: str, assumption: str, holds: bool | None, evidence: str) -> None:
        """Record a finding (`holds` None: unknown)."""
        outcome = Outcome.UNKNOWN if holds is None else Outcome.HOLDS if holds else Outcome.DIFFERS
        self.findings.append(Finding(probe, assumption, outcome, evidence))


class CheckRun:
    """The state probes share: the client, the run's name prefix and the jobs made so far."""

    def __init__(
        self, client: HpcPackClient, *, prefix: str | None = None, now: datetime | None = None
    ) -> None:
        self.client = client
        self.prefix = prefix or f"{JOB_PREFIX}{secrets.token_hex(3)}-"
        self.started = now or datetime.now(UTC)
        self._lock = threading.Lock()
        self.jobs: list[int] = []  # every job made, in order (for clean-up and the report)

    @property
    def hold_until(self) -> datetime:
        """The HoldUntil every submitted throwaway job gets before its submit."""
        return (self.started + HOLD).replace(microsecond=0)

    def made(self, job_id: int) -> int:
        """Note a job the check created (it is cleaned up at the end); returns its id."""
        with self._lock:
            self.jobs.append(job_id)
        return job_id

    def name(self, probe: str) -> str:
        """The name of a throwaway job of `probe`."""
        return f"{self.prefix}{probe}"
