"""A saved plan is bound to the cluster and stack it was made against (DESIGN.md §6).

`hpcspec plan --out FILE` records the cluster's identity (`ClusterIdentity`: the configured
cluster's state key — `local` for the embedded local cluster, whose URL changes on every
start — its URL, the active head node's name and the HPC Pack version) in the plan's `extra`
envelope; `apply FILE` reads the same identity from the cluster it talks to now and
`check_binding` refuses another cluster, or another stack, with its own exit code
(`ExitCode.WRONG_CLUSTER`) before any request that changes anything. The identity costs two
requests (`GET /cluster/activeHeadNode`, `GET /cluster/version`).

`check_saved` binds each reviewed change to the live job it saw: a change whose manifest
digest or live job id, State or ChangeTime moved since gets a `stale-plan` block; so does one
whose Configuring job, read whole, no longer has the content the plan saw (`live_content`: a
task edited by hand does not move the job's ChangeTime).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol

from hpcspec.engine.discovery import LiveStack
from hpcspec.engine.drift import whole_digest
from hpcspec.engine.plan import Block, BlockCode, Change, Plan
from hpcspec.engine.planfile import PlanFileError
from hpcspec.engine.standing import seen_change_time
from hpcspec.errors import ExitCode
from hpcspec.hpcpack.live import LiveJob
from hpcspec.manifest.resolve import ResolvedStack

EXTRA_KEY = "cluster"  # where in a saved plan's `extra` the identity is recorded


class _ClusterFacts(Protocol):
    def active_head_node(self) -> str: ...
    def version(self) -> str: ...


@dataclass(frozen=True)
class ClusterIdentity:
    """Which cluster a plan talks to: the configured one's key and URL, and what its head
    node says it is."""

    key: str  # `ClusterConfig.state_key`: `local`, or the normalised URL
    url: str
    head_node: str
    version: str

    @classmethod
    def read(cls, cluster: _ClusterFacts, *, key: str, url: str) -> ClusterIdentity:
        """The identity of the cluster a client talks to (two requests)."""
        return cls(
            key=key, url=url, head_node=cluster.active_head_node(), version=cluster.version()
        )

    def record(self) -> dict[str, str]:
        """As a saved plan's `extra["cluster"]` holds it (JSON data, no secrets)."""
        return asdict(self)

    def describe(self) -> str:
        """`https://head/hpc (head node HEAD01, HPC Pack 5.3.6450.0)`."""
        return f"{self.url} (head node {self.head_node}, HPC Pack {self.version})"


def recorded_identity(extra: Mapping[str, Any]) -> ClusterIdentity | None:
    """The identity a saved plan recorded; None when it recorded none (or not readably)."""
    raw = extra.get(EXTRA_KEY)
    if not isinstance(raw, dict):
        return None
    fields = ("key", "url", "head_node", "version")
    if not all(isinstance(raw.get(name), str) for name in fields):
        return None
    return ClusterIdentity(**{name: str(raw[name]) for name in fields})


def check_binding(
    extra: Mapping[str, Any], *, plan_stack: str, here: ClusterIdentity, stacks: list[str]
) -> None:
    """Refuse to apply a saved plan to another cluster or another stack than it was made for:
    the one rule every `apply PLAN` goes through, before any request that changes anything."""
    saved = recorded_identity(extra)
    hint = "run hpcspec plan --out FILE against this cluster, review it, and apply that file"
    if saved is None:
        raise PlanFileError(
            "the saved plan does not record the cluster it was made against",
            code="plan-cluster-unknown",
            hint=hint,
            exit_code=ExitCode.WRONG_CLUSTER,
        )
    if (saved.key, saved.head_node, saved.version) != (here.key, here.head_node, here.version):
        raise PlanFileError(
            f"the saved plan was made against {saved.describe()}, not {here.describe()}",
            code="plan-other-cluster",
            hint=hint,
            exit_code=ExitCode.WRONG_CLUSTER,
        )
    if stacks != [plan_stack]:
        raise PlanFileError(
            f"the saved plan is for stack {plan_stack}, but its manifest now defines "
            f"{', '.join(stacks) or 'no stack'}",
            code="plan-other-stack",
            hint="run hpcspec plan --out FILE again, review it, and apply that file",
            exit_code=ExitCode.WRONG_CLUSTER,
        )


def check_saved(saved: Plan, stack: ResolvedStack, live: LiveStack) -> Plan:
    """The saved plan with a `stale-plan` block on every change that no longer holds."""
    changes: list[Change] = []
    for change in saved.changes:
        why = _stale(change, stack, live.current.get(change.key) or live.orphans.get(change.key))
        if why:
            block = Block(
                BlockCode.STALE_PLAN,
                f"the plan is stale for {change.key}: {why}",
                "run hpcspec plan again, review it, and apply the new plan",
            )
            change = replace(change, blocks=(*change.blocks, block))
        changes.append(change)
    return replace(saved, changes=tuple(changes))


def _stale(change: Change, stack: ResolvedStack, job: LiveJob | None) -> str | None:
    desired = stack.jobs.get(change.key)
    if desired is not None and change.desired_digest not in (None, desired.digest):
        return "the manifest changed since the plan was made"
    if desired is None and change.desired_digest is not None:
        return "the job is no longer in the manifest"
    live_id = job.id if job is not None else None
    if live_id != change.live_id:
        held = f"job {live_id}" if live_id is not None else "none"
        saw = f"job {change.live_id}" if change.live_id is not None else "none"
        return f"the key's live job is now {held}, the plan saw {saw}"
    if job is None:
        return None
    if job.state.name != change.live_state:
        return f"job {live_id} is {job.state.name} now, the plan saw {change.live_state}"
    if seen_change_time(job) != change.live_change_time:
        return f"job {live_id} changed at {seen_change_time(job)} after the plan"
    if change.live_content is not None:  # a Configuring job read whole: tasks' edits too
        now = whole_digest(job.definition) if job.definition is not None else None
        if now != change.live_content:
            return f"job {live_id} was edited after the plan (its tasks, env or properties)"
    return None
