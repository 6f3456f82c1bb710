"""The planner's last pass (pure): the jobs that wait on a job the plan cancels.

HPC Pack cancels a job whose parent job is canceled (`Execution_ParentJobCanceled`, "The job's
parent job has been canceled.": `reference/hpcpack/derived/error-codes.json`, the sdk-xmldoc's
ErrorCode; the emulator's clock does it when the child would start), and a queued job's
ParentJobIds cannot change (`derived/job-modify-rules.json`: not among the properties a
Queued job may set). So when a plan cancels a key's live job — a replace, `state: canceled` —
each job of a key that `dependsOn` it and still waits to start (Configuring or on its way to
the queue: not Running, not ended) would be lost, and no new parent could be given to it:

- a selected child is replaced too (`ReasonCode.PARENT_REPLACED`), after the new parent, whose
  id its new job carries in ParentJobIds; its own waiting children follow, down the chain;
- a child the plan leaves out (`--target`, `--exclude`), or refuses, blocks the parent's change
  (`BlockCode.CANCELS_CHILDREN`), and so does a parent the manifest wants canceled while a
  waiting child stays wanted (a new child would wait on a canceled parent again); every change
  up the chain that would reach such a job is refused with it.

A child that already runs or ran is left alone: it started, so its parents had finished.

`with_new_parents`: a job whose `dependsOn` changed is replaced, never updated (an update
cannot give it new parents). `repaired` mends what older versions left: a key whose job HPC
Pack canceled because its parent job was one hpcspec cancelled is created again, as a job
hpcspec cancelled is. docs/apply.md, *Jobs that wait on a replaced job*, says it for users.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from hpcspec.engine.discovery import LiveStack
from hpcspec.engine.drift import parent_diffs
from hpcspec.engine.lifecycle import cancelled_by_hpcspec
from hpcspec.engine.plan import Action, Block, BlockCode, Change, Reason, ReasonCode, Unmet
from hpcspec.engine.settling import ON_THE_WAY
from hpcspec.engine.standing import absent
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState
from hpcspec.manifest.resolve import ResolvedStack

# A job that has not started: HPC Pack cancels it when a parent job is canceled (a Configuring
# one once it is submitted: its ParentJobIds still name the canceled parent).
WAITING = frozenset({JobState.Configuring, JobState.Queued}) | ON_THE_WAY
# The words HPC Pack cancels a child with (`derived/error-codes.json`, 0x800409D4).
PARENT_CANCELED_MESSAGE = "The job's parent job has been canceled."


def dependencies_kept(changes: list[Change], stack: ResolvedStack, live: LiveStack) -> list[Change]:
    """The planner's last pass: `repaired`, then `with_new_parents`, then `with_dependents`."""
    changes = with_new_parents(repaired(changes, stack, live), stack, live)
    return with_dependents(changes, stack, live)


def with_dependents(changes: list[Change], stack: ResolvedStack, live: LiveStack) -> list[Change]:
    """`changes` with every waiting child of a cancelled parent replaced, or the parent's
    change refused where its children cannot follow (the module's rules)."""
    by_key = {c.key: c for c in changes}
    children = children_of({key: stack.jobs[key].depends_on for key in stack.job_order()})
    refused: dict[str, list[str]] = {}  # a root refused → the waiting keys it would lose
    while True:  # each refusal spares its root's children: look again until none is added
        roots = [k for k in stack.job_order() if k not in refused and _cancels(by_key.get(k))]
        reach = {root: waiting_below(root, children, live.current) for root in roots}
        lost = {
            root: [k for k in below if k in refused or not _follows(k, by_key, stack, roots)]
            for root, below in reach.items()
        }
        more = {root: keys for root, keys in lost.items() if keys}
        if not more:
            break
        refused.update(more)
    for root, keys in refused.items():
        by_key[root] = _refused(by_key[root], keys, by_key, stack, live.current)
    going = {*roots, *(k for below in reach.values() for k in below)}
    for key in stack.job_order():
        if key in going and key not in roots:
            parents = [p for p in stack.jobs[key].depends_on if p in going]
            by_key[key] = _replaced(by_key[key], parents, live.current)
    return [by_key[c.key] for c in changes]


def _cancels(change: Change | None) -> bool:
    """The change cancels a key's live job (a replace, `state: canceled`), unrefused."""
    return (
        change is not None
        and change.action in (Action.REPLACE, Action.CANCEL)
        and not change.blocks
        and change.live_id is not None
        and change.desired_digest is not None  # an orphan: no key of the manifest waits on it
    )


def children_of(depends_on: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Each key's children: the keys whose `dependsOn` names it, in `depends_on`'s order."""
    children: dict[str, list[str]] = {}
    for key, parents in depends_on.items():
        for parent in parents:
            children.setdefault(parent, []).append(key)
    return children


def waiting_below(
    root: str, children: Mapping[str, list[str]], current: Mapping[str, LiveJob]
) -> list[str]:
    """The keys whose waiting job HPC Pack cancels once `root`'s job is canceled, down the
    chain (a child that runs or ran, or has no job, is not touched)."""
    out: list[str] = []
    todo = list(children.get(root, ()))
    while todo:
        key = todo.pop(0)
        job = current.get(key)
        if key in out or job is None or job.state not in WAITING:
            continue
        out.append(key)
        todo += children.get(key, ())
    return out


def _follows(
    key: str, by_key: Mapping[str, Change], stack: ResolvedStack, roots: list[str]
) -> bool:
    """A waiting job that goes with its parent's is made good by this plan: the key is in the
    plan, unrefused, and either cancelled as wanted or replaced after parents that stay."""
    change = by_key.get(key)
    if change is None or change.blocks:
        return False
    if change.action is Action.CANCEL:
        return True
    return not any(_canceled_parent(p, by_key, roots) for p in stack.jobs[key].depends_on)


def _canceled_parent(parent: str, by_key: Mapping[str, Change], roots: list[str]) -> bool:
    change = by_key.get(parent)
    return parent in roots and change is not None and change.action is Action.CANCEL


def _replaced(change: Change, parents: list[str], current: Mapping[str, LiveJob]) -> Change:
    # After the change the key's job is a new one (or none): its old job's fate is its own.
    if change.action.makes_job or change.action is Action.CANCEL:
        return change  # a replace of its own (or a cancel): nothing to add
    job = current[change.key]
    names = " and ".join(parents)
    reason = Reason(
        ReasonCode.PARENT_REPLACED,
        f"its parent {names} is replaced: HPC Pack cancels job {job.id} ({job.state.name}) "
        "once its parent job is canceled and cannot re-point it, so a new job replaces it, "
        f"created after the new {names}",
    )
    kept = () if change.action is Action.NO_OP else change.reasons
    return replace(change, action=Action.REPLACE, reasons=(*kept, reason), unmet=None)


def _refused(
    change: Change,
    keys: list[str],
    by_key: Mapping[str, Change],
    stack: ResolvedStack,
    current: Mapping[str, LiveJob],
) -> Change:
    jobs = ", ".join(f"{k} (job {current[k].id}, {current[k].state.name})" for k in keys)
    verb = "cancelling" if change.action is Action.CANCEL else "replacing"
    first = keys[0]
    if first not in by_key:
        hint = f"add --target {first}, or drop --exclude {first}: a child in the plan is "
        hint += "replaced after its new parent"
    elif by_key[first].blocks:
        hint = f"resolve what refuses {first} first"
    else:
        parents = [p for p in stack.jobs[first].depends_on if p in by_key]
        hint = f"set state: canceled on {first} too, or drop {', '.join(parents)} from its "
        hint += "dependsOn"
    block = Block(
        BlockCode.CANCELS_CHILDREN,
        f"{verb} job {change.live_id} of {change.key} makes HPC Pack cancel waiting job(s) "
        f"this plan cannot make good: {jobs}",
        hint,
    )
    return replace(change, blocks=(*change.blocks, block))


def with_new_parents(changes: list[Change], stack: ResolvedStack, live: LiveStack) -> list[Change]:
    """`changes` where an in-place update of a job whose `dependsOn` changed becomes a replace:
    a job's parents are given when it is created (ParentJobIds holds job ids, known only as
    apply goes; a Queued job cannot change them at all), so a new job carries the new ones."""
    listed = {
        k: (*live.history.get(k, ()), *filter(None, [live.current.get(k)])) for k in stack.jobs
    }
    out = []
    for change in changes:
        job, desired = live.current.get(change.key), stack.jobs.get(change.key)
        spec_changed = any(r.code is ReasonCode.SPEC_CHANGED for r in change.reasons)
        if change.action is not Action.UPDATE or not spec_changed or job is None:
            out.append(change)  # a drift update's job is as created: its parents too
            continue
        assert desired is not None and job.definition is not None  # read: its spec changed
        moved = parent_diffs(desired.depends_on, job.definition.parent_job_ids, listed)
        if not moved:
            out.append(change)
            continue
        why = Reason(
            ReasonCode.NOT_SETTABLE,
            f"dependsOn changed: job {job.id}'s parent jobs are given when a job is created, "
            "so a new job replaces it",
        )
        kept = tuple(r for r in change.reasons if r.code is ReasonCode.SPEC_CHANGED)
        out.append(
            replace(
                change, action=Action.REPLACE, reasons=(*kept, why), diffs=(*change.diffs, *moved)
            )
        )
    return out


def repaired(changes: Iterable[Change], stack: ResolvedStack, live: LiveStack) -> list[Change]:
    """`changes` where a key's job that HPC Pack canceled because hpcspec cancelled its parent
    job (a replace of older versions, a destroy), or a parent job canceled so in turn, is
    created again instead of left unmet."""
    by_key = {c.key: c for c in changes}
    back: set[str] = set()  # keys whose canceled child comes back with them
    for key in stack.job_order():
        change, job = by_key.get(key), live.current.get(key)
        if change is None or job is None or change.unmet is not Unmet.CANCELED_OUTSIDE:
            continue
        parent = _parent_back(job, stack.jobs[key].depends_on, live, back)
        if parent is None or PARENT_CANCELED_MESSAGE not in job.error_message:
            continue
        why = Reason(
            ReasonCode.PARENT_CANCELED,
            f"job {job.id} was canceled by HPC Pack because its parent job was, and {parent} "
            "is created again: so is this key",
        )
        by_key[key] = replace(absent(stack.jobs[key], job, None), reasons=(why,))
        back.add(key)
    return [by_key[c.key] for c in changes]


def _parent_back(
    job: LiveJob, parents: Iterable[str], live: LiveStack, back: set[str]
) -> str | None:
    """The parent key that hpcspec cancelled before `job` and creates again (or that comes
    back as a canceled child itself); None if there is none."""
    for parent in parents:
        if parent in back:
            return parent
        jobs = [*live.history.get(parent, ()), *filter(None, [live.current.get(parent)])]
        for earlier in (j for j in jobs if j.id < job.id):
            gone = cancelled_by_hpcspec(earlier)
            if gone is not None and gone.recreates:
                return parent
    return None
