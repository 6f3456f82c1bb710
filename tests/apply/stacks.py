"""Helpers for apply's end-to-end tests: generated stacks, a CLI-like converge loop, counts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpcspec.engine import identity
from hpcspec.engine.events import Recorder
from hpcspec.engine.outcomes import ApplyResult
from hpcspec.engine.pipeline import ApplyRequest, apply_stacks
from hpcspec.engine.steps import ApplyOptions, CreateMethod
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.transport import Credentials, RetryPolicy, Transport, TransportOptions
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.resolve import ResolvedStack


def patient_client(running: Any) -> HpcPackClient:
    """A client with the default number of tries (5) and short waits, as admin."""
    name, password = running.admin
    retry = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05, total=10)
    return HpcPackClient(
        Transport(TransportOptions(running.url, Credentials(name, password), retry=retry))
    )


def stack_text(stack: str, jobs: int, *, tasks: int = 2, state: str = "submitted") -> str:
    """A stack of `jobs` jobs named `<stack>-jN`; every fifth job depends on the one before."""
    lines = ["apiVersion: hpcspec/v1", f"stack: {stack}", "jobs:"]
    for n in range(jobs):
        lines += [f"  j{n}:", f"    state: {state}"]
        if n % 5 == 4:
            lines.append(f"    dependsOn: [j{n - 1}]")
        lines += [f"    properties: {{Name: {stack}-j{n}}}", "    tasks:"]
        lines += [f"      t{t}: {{commandLine: 'echo {n}.{t}'}}" for t in range(tasks)]
    return "\n".join(lines) + "\n"


def make_stack(stack: str, jobs: int, **options: object) -> ResolvedStack:
    return resolve(parse_manifest(stack_text(stack, jobs, **options), file="m.yaml"))  # type: ignore[arg-type]


def apply_once(
    client: HpcPackClient, stack: ResolvedStack, root: Path, *, via: str = "xml"
) -> tuple[bool, ApplyResult | None]:
    """What `hpcspec apply --auto-approve` does: recover, plan, apply. (changes?, result).

    A run that fails outright (an error before apply starts) counts as a run with changes."""
    request = ApplyRequest(
        cluster_name="emulator", options=ApplyOptions(via=CreateMethod(via)), journal_root=root
    )
    try:
        report = apply_stacks(client, [stack], request, observer=Recorder(), confirm=lambda _: True)
    except HpcspecError:
        return True, None
    if not report.plans[0].has_changes:
        return False, None
    return True, report.results[0]


def live_by_name(client: HpcPackClient, prefix: str) -> dict[str, list[tuple[int, str, int]]]:
    """Every job whose Name starts with `prefix` and is not cancelled: name → (id, state, tasks).

    Counted by name, not by marker, so an unmarked leftover of a lost create counts too."""
    out: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
    for row in client.iter_jobs(properties=("Id", "Name", "State", "TaskCount")):
        name = row.get("Name") or ""
        state = row.get("State") or ""
        if name.startswith(prefix) and state not in ("Canceled", "Canceling"):
            out[name].append((int(row["Id"]), state, int(row.get("TaskCount") or 0)))
    return out


@dataclass
class Audit:
    """Every job of one stack on the cluster, found by identity (pending Names included), and
    what exactly-once forbids: keys submitted twice, keys with two alive jobs, jobs with the
    wrong number of tasks, jobs left Configuring, lock jobs left alive."""

    jobs: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    locks_alive: list[int] = field(default_factory=list)

    def submitted_twice(self) -> list[str]:
        return [k for k, jobs in self.jobs.items() if sum(bool(j["submitted"]) for j in jobs) > 1]

    def two_alive(self) -> list[str]:
        return [k for k, jobs in self.jobs.items() if sum(j["alive"] for j in jobs) > 1]

    def survivors(self) -> dict[str, int]:
        """Each key's one job that was not cancelled."""
        return {
            k: j["id"] for k, jobs in self.jobs.items() for j in jobs if j["state"] != "Canceled"
        }

    def wrong_tasks(self, tasks: int) -> list[int]:
        return [
            j["id"]
            for jobs in self.jobs.values()
            for j in jobs
            if j["state"] != "Canceled" and j["tasks"] != tasks
        ]

    def configuring(self) -> list[int]:
        return [j["id"] for jobs in self.jobs.values() for j in jobs if j["state"] == "Configuring"]


def audit(client: HpcPackClient, stack: str, keys: list[str], *, tagged: bool = False) -> Audit:
    """Read every job of `stack` by its identity (not by Name: a pending job has none yet);
    `tagged`: a job whose Name and ClientSource carry no identity (a cluster that replaces
    ClientSource) is known by its custom properties' stack and key tags instead."""
    by_hash = {identity.key_hash(stack, key): key for key in keys}
    found = Audit()
    columns = ("Id", "Name", "State", "ClientSource", "TaskCount", "SubmitTime")
    for row in client.iter_jobs(properties=columns):
        ident = identity.read_identity(row.get("Name") or "", row.get("ClientSource") or "")
        state = row.get("State") or ""
        if ident is None and tagged:
            tags = {
                k.lower(): v for k, v in dict(client.job_custom_properties(int(row["Id"]))).items()
            }
            if tags.get(identity.STACK_TAG) != stack:
                continue
            key = tags.get(identity.KEY_TAG) or "<untagged>"
        elif ident is None or ident.stack_hash != identity.stack_hash(stack):
            continue
        elif ident.kind is identity.IdentityKind.LOCK:
            if state == "Configuring":
                found.locks_alive.append(int(row["Id"]))
            continue
        else:
            key = by_hash.get(ident.key_hash, f"<{ident.key_hash}>")
        found.jobs[key].append(
            {
                "id": int(row["Id"]),
                "state": state,
                "alive": state not in ("Canceled", "Canceling", "Finished", "Failed"),
                "submitted": bool(row.get("SubmitTime")),
                "tasks": int(row.get("TaskCount") or 0),
            }
        )
    return found
