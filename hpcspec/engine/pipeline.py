"""The pipelines the commands run, each on one screen (DESIGN.md §3–§4).

    plan     preflight → discover → plan                                      plan_stack
    apply    lock every stack (its listing) → per stack: journal → recover → discover
             → plan (or re-check a saved plan); confirm → steps → execute → unlock
             → (wait)                                                         apply_stacks
    reconcile  apply_stacks per stack, with no confirmation, a failing stack
             reported and the others applied                                 reconcile_round
    destroy  lock (its listing) → destroy plan → confirm → steps → execute
             → unlock                                                         destroy_stack

Every stage is a function of the one before; everything that happens is told to the
observer as typed events (`events.py`); the result is a report whose verdict the CLI maps to
an exit code. A stack is listed once to take its lock and recover it, once to plan it (with
the drift columns), and once per race-checking batch while applying; its journal is opened
once. The lock (`lock.py`) is held from before recovery until the last step ran, and never
while waiting for jobs to end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from hpcspec.engine.destroy import check_done, plan_destroy, still_there
from hpcspec.engine.diff import managed_properties
from hpcspec.engine.discovery import LiveStack, StackJobs, discover, list_stack
from hpcspec.engine.events import Applied, Observer, Planned, Resumed, RoundEnded, StackFailed
from hpcspec.engine.executor import execute
from hpcspec.engine.journal import Journal, stack_journal
from hpcspec.engine.lock import LockOptions, StackLock
from hpcspec.engine.outcomes import ApplyResult, ApplyVerdict, WaitVerdict, apply_verdict
from hpcspec.engine.plan import BlockCode, Plan, PlanOptions
from hpcspec.engine.plan_binding import check_saved
from hpcspec.engine.planner import make_plan
from hpcspec.engine.preflight import block_missing, block_xml_only, block_xml_trims, preflight
from hpcspec.engine.protocols import ClusterFacts, ClusterReader, ClusterWriter
from hpcspec.engine.recovery import recover, unlocked_listing
from hpcspec.engine.secrets import require_secrets, resolve_secret
from hpcspec.engine.step_generator import destroy_steps, generate_steps
from hpcspec.engine.steps import ApplyOptions, CreateMethod, JobSteps
from hpcspec.engine.wait import wait_for_stacks
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.jobxml import SecretResolver
from hpcspec.manifest.resolve import ResolvedStack

Confirm = Callable[[Sequence[Plan]], bool]


class Cluster(ClusterFacts, ClusterWriter, Protocol):
    """Everything the pipelines ask of a cluster (the REST client)."""


def plan_stack(
    cluster: ClusterFacts,
    stack: ResolvedStack,
    *,
    cluster_name: str,
    options: PlanOptions | None = None,
    owner: str | None = None,
    insecure: bool = False,
) -> Plan:
    """Preflight, discover the stack's live jobs, and plan every selected job key."""
    plan, _ = _plan(cluster, stack, cluster_name, options or PlanOptions(), owner, insecure)
    return plan


def _plan(
    cluster: ClusterFacts,
    stack: ResolvedStack,
    cluster_name: str,
    options: PlanOptions,
    owner: str | None,
    insecure: bool,
) -> tuple[Plan, LiveStack]:
    missing = preflight(cluster, stack)
    live = discover_stack(cluster, stack, owner=owner)
    plan = make_plan(stack, live, cluster=cluster_name, options=options, insecure=insecure)
    return block_missing(plan, missing), live


def discover_stack(cluster: ClusterReader, stack: ResolvedStack, *, owner: str | None) -> LiveStack:
    """Discovery of one stack as the planner needs it: the managed job properties read in the
    same listing (drift), `moved:` renames and `adopt:` jobs followed."""
    return discover(
        cluster,
        stack.stack,
        {k: j.digests or {j.digest} for k, j in stack.jobs.items()},
        owner=owner,
        adopted=stack.adopted,
        properties=managed_properties(stack),
        moved=stack.moved,
    )


@dataclass(frozen=True)
class ApplyRequest:
    """What the user asked apply (or reconcile) to do."""

    cluster_name: str
    insecure: bool = False
    plan_options: PlanOptions = field(default_factory=PlanOptions)
    options: ApplyOptions = field(default_factory=ApplyOptions)
    saved: Plan | None = None  # apply exactly this reviewed plan, if it still holds
    wait: bool = False
    timeout: float | None = None  # seconds, with `wait`
    provenance: Callable[[ResolvedStack], str] | None = None  # what hpcspec.source says
    lock: LockOptions = field(default_factory=LockOptions)
    state_key: str = ""  # whose per-user state (journals) this is: `ClusterConfig.state_key`
    journal_root: Path | None = None  # journals here (`<stack>.jsonl`) instead (tests)

    def journal(self, stack: str) -> Journal:
        """The stack's journal: in its per-user state directory, keyed by cluster and stack."""
        return stack_journal(self.state_key or self.cluster_name, stack, self.journal_root)


@dataclass(frozen=True)
class ApplyReport:
    """Everything a run did: the plans, each applied plan's results, the verdicts."""

    plans: tuple[Plan, ...]
    results: tuple[ApplyResult, ...]
    verdict: ApplyVerdict
    waited: WaitVerdict | None = None  # None: no wait

    @property
    def outcome(self) -> ApplyVerdict | WaitVerdict:
        """The verdict the exit code reports: the wait's, when there was one."""
        return self.waited if self.waited is not None else self.verdict


@dataclass(frozen=True)
class _Planned:
    stack: ResolvedStack
    journal: Journal
    plan: Plan
    live: LiveStack


def apply_stacks(
    cluster: Cluster,
    stacks: Sequence[ResolvedStack],
    request: ApplyRequest,
    *,
    observer: Observer,
    confirm: Confirm,
    secret: SecretResolver = resolve_secret,
) -> ApplyReport:
    """Lock, recover and plan every stack, confirm, apply what each plan needs, unlock, then
    wait."""
    with _locked(cluster, [(s.stack, list(s.jobs)) for s in stacks], request, observer) as held:
        planned = [_prepare(cluster, stack, request, observer, held) for stack in stacks]
        plans = tuple(p.plan for p in planned)
        observer.notify(Planned(plans))
        due = [p for p in planned if p.plan.needs_apply]
        if any(p.plan.has_changes for p in due) and not confirm(plans):
            return ApplyReport(plans, (), ApplyVerdict.DECLINED)
        for p in due:  # every secret readable before the first request that changes anything
            require_secrets(p.stack, p.plan, secret)
        results = tuple(_apply(cluster, p, request, observer, secret) for p in due)
    stale = any(b.code is BlockCode.STALE_PLAN for p in plans for c in p.changes for b in c.blocks)
    verdict = apply_verdict(results, stale=stale)
    observer.notify(Applied(plans, results, verdict))
    if not request.wait or verdict is not ApplyVerdict.APPLIED:
        return ApplyReport(plans, results, verdict)
    waited = wait_for_stacks(
        cluster,
        stacks,
        timeout=request.timeout,
        observer=observer,
        selects=request.plan_options.selects,
    )
    return ApplyReport(plans, results, verdict, waited.verdict)


@contextmanager
def _locked(
    cluster: Cluster,
    stacks: Sequence[tuple[str, list[str]]],
    request: ApplyRequest,
    observer: Observer,
) -> Iterator[dict[str, StackLock]]:
    """Hold the lock of every stack (taken in name order, so two multi-stack applies never
    wait for each other in a circle); released on the way out, whatever happened."""
    if not request.lock.enabled:
        yield {}
        return
    with ExitStack() as held:
        locks: dict[str, StackLock] = {}
        for name, keys in sorted(stacks):
            lock = StackLock(cluster, name, keys, request.lock, observer)
            locks[name] = lock
            lock.acquire()
            held.callback(lock.release)
        yield locks


def _prepare(
    cluster: Cluster,
    stack: ResolvedStack,
    request: ApplyRequest,
    observer: Observer,
    held: Mapping[str, StackLock],
) -> _Planned:
    journal = request.journal(stack.stack)
    lock = held.get(stack.stack)
    listed = lock.listed if lock is not None else None
    if listed is None:
        listed = unlocked_listing(cluster, stack, journal)
    recovered = recover(cluster, stack, journal, listed, every_pending=lock is not None)
    if recovered.changed:
        observer.notify(Resumed(stack.stack, recovered.adopted, recovered.cancelled))
    if request.saved is None:
        plan, live = _plan(
            cluster,
            stack,
            request.cluster_name,
            request.plan_options,
            None,
            request.insecure,
        )
    else:
        live = discover_stack(cluster, stack, owner=None)
        plan = check_saved(request.saved, stack, live)
    if request.options.via is CreateMethod.REST:
        plan = block_xml_only(plan, stack)
    else:
        plan = block_xml_trims(plan, stack)
    return _Planned(stack, journal, plan, live)


def _apply(
    cluster: Cluster,
    planned: _Planned,
    request: ApplyRequest,
    observer: Observer,
    secret: SecretResolver,
) -> ApplyResult:
    source = request.provenance(planned.stack) if request.provenance is not None else ""
    return apply_plan(
        cluster,
        planned.stack,
        planned.plan,
        planned.journal,
        options=replace(request.options, source=source),
        observer=observer,
        secret=secret,
        known_ids=planned.live.current_ids(),
        floors=planned.live.ended_floors(),
    )


def apply_plan(
    cluster: ClusterWriter,
    stack: ResolvedStack,
    plan: Plan,
    journal: Journal,
    *,
    options: ApplyOptions,
    observer: Observer,
    secret: SecretResolver = resolve_secret,
    known_ids: Mapping[str, int] | None = None,
    floors: Mapping[str, int] | None = None,
) -> ApplyResult:
    """Carry one plan out: its steps, run by the executor (`known_ids`: the live job of each
    key discovery found, for parents outside the plan; `floors`: `LiveStack.ended_floors`)."""
    return execute(
        cluster,
        plan,
        generate_steps(plan, stack, options),
        journal,
        keys=list(stack.jobs),
        options=options,
        secret=secret,
        observer=observer,
        known_ids=known_ids or {},
        floors=floors,
    )


_yes: Confirm = lambda plans: True  # noqa: E731  (reconcile confirms every plan)


def reconcile_round(
    cluster: Cluster,
    stacks: Sequence[ResolvedStack],
    request: ApplyRequest,
    *,
    observer: Observer,
    secret: SecretResolver = resolve_secret,
    confirm: Confirm | None = None,
) -> ApplyVerdict:
    """One reconcile round: each stack applied as `apply --auto-approve` would (`confirm`,
    when given, may still raise to stop a stack's plan before it changes anything); a stack
    that fails is reported (`StackFailed`) and the others go on."""
    results: list[ApplyResult] = []
    failed = 0
    for stack in stacks:
        if request.lock.stop is not None and request.lock.stop.is_set():
            break  # stopped (SIGTERM): the stack in progress ended, no other one starts
        try:
            report = apply_stacks(
                cluster, [stack], request, observer=observer, confirm=confirm or _yes, secret=secret
            )
        except HpcspecError as error:
            observer.notify(StackFailed(stack.stack, error.render()))
            failed += 1
        except Exception as error:  # a service keeps going; the next round tries again
            message = f"internal error: {type(error).__name__}: {error} [internal-error]"
            observer.notify(StackFailed(stack.stack, message))
            failed += 1
        else:
            results += report.results
    verdict = apply_verdict(results, failed_stacks=failed)
    observer.notify(RoundEnded(verdict, len(stacks), failed))
    return verdict


def destroy_stack(
    cluster: Cluster,
    stack: str,
    keys: Sequence[str],
    *,
    cluster_name: str,
    observer: Observer,
    confirm: Confirm,
    parallelism: int = ApplyOptions().parallelism,
    journal_root: Path | None = None,
    lock: LockOptions | None = None,
    state_key: str = "",
    adopted: Mapping[str, int] | None = None,
    moved: Mapping[str, str] | None = None,
) -> ApplyReport:
    """Cancel every alive job of `stack`, pending ones included (keys from the manifest, its
    `adopt:` and `moved:` followed as by plan; with none, every key the stack's jobs name),
    holding the stack lock."""
    request = ApplyRequest(
        cluster_name, lock=lock or LockOptions(), state_key=state_key, journal_root=journal_root
    )
    adopted = still_there(cluster, adopted or {})  # a purged adopt: job is nothing to cancel

    def listing(read_orphans: bool = True) -> StackJobs:
        return list_stack(
            cluster, stack, keys, adopted=adopted, moved=moved, read_orphans=read_orphans
        )

    with _locked(cluster, [(stack, list(keys))], request, observer) as held:
        listed = held[stack].listed if stack in held and not (adopted or moved) else None
        plan = plan_destroy(listed or listing(), stack=stack, cluster=cluster_name)
        report = run_plan(
            cluster,
            plan,
            destroy_steps(plan),
            request.journal(stack),
            keys=keys,
            options=ApplyOptions(parallelism=parallelism),
            observer=observer,
            confirm=confirm,
        )
        if report.verdict is ApplyVerdict.APPLIED:  # done only if a new listing agrees
            check_done(plan, listing)
        return report


def run_plan(
    cluster: ClusterWriter,
    plan: Plan,
    steps: Sequence[JobSteps],
    journal: Journal,
    *,
    keys: Sequence[str],
    options: ApplyOptions,
    observer: Observer,
    confirm: Confirm,
) -> ApplyReport:
    """One stack's plan outside apply (destroy, requeue, cancel): show it, ask, run its steps
    through the executor and report the verdict."""
    observer.notify(Planned((plan,)))
    if not plan.has_changes:
        return ApplyReport((plan,), (), ApplyVerdict.APPLIED)
    if not confirm((plan,)):
        return ApplyReport((plan,), (), ApplyVerdict.DECLINED)
    result = execute(
        cluster,
        plan,
        steps,
        journal,
        keys=keys,
        options=options,
        secret=resolve_secret,
        observer=observer,
        known_ids={},
    )
    verdict = apply_verdict([result])
    observer.notify(Applied((plan,), (result,), verdict))
    return ApplyReport((plan,), (result,), verdict)
