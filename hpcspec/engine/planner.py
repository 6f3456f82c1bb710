"""Desired jobs + live jobs → a `Plan`: the action for each job key, with reasons (pure).

The action follows DESIGN.md §3's table, using the live state and the modify-by-state rules
(`hpcspec.hpcpack.modify_rules`, from `reference/hpcpack/derived/job-modify-rules.json`).
A spec is "changed" when the live job's digest tag differs from the desired digest (an adopted
job: when fields differ); the field diffs then decide whether it can change in place. A key
whose job hpcspec cancelled (destroy, --prune, a replace: `lifecycle.cancelled_by_hpcspec`)
has no live job and is created again; a job Canceled outside hpcspec, or Failed after its
retries, is left as it is and marked `unmet`. An unchanged job whose managed properties (read
in the listing) differ from the manifest has drifted: an update where its state allows
(`ignoreChanges` fields excepted), otherwise `unmet`. A Configuring job is read whole and
compared by drift's rule before apply may submit it (`configuring.py`). The plan never says the
cluster matches while a key is unmet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from hpcspec.engine.configuring import configuring, hand_edited, seen_whole, stack_jobs
from hpcspec.engine.dead_parents import with_live_parents
from hpcspec.engine.dependents import dependencies_kept
from hpcspec.engine.diff import job_diffs
from hpcspec.engine.discovery import LiveStack
from hpcspec.engine.extension import extend_or_rerun
from hpcspec.engine.identity import live_digest, never_carried_key
from hpcspec.engine.lifecycle import cancelled_by_hpcspec
from hpcspec.engine.plan import (
    Action,
    Block,
    BlockCode,
    Change,
    DiffSection,
    FieldDiff,
    Plan,
    PlanOptions,
    Reason,
    ReasonCode,
)
from hpcspec.engine.settling import ON_THE_WAY, WRITABLE
from hpcspec.engine.standing import (
    absent,
    change_for,
    ignored,
    only_ignored,
    parents_moved,
    seen_change_time,
    unchanged,
)
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState, TaskState
from hpcspec.manifest.resolve import DesiredJob, DesiredState, ResolvedStack, SpecChangePolicy

QUEUED_STATES = frozenset(
    {JobState.Submitted, JobState.Validating, JobState.ExternalValidation, JobState.Queued}
)
RUNNING_STATES = frozenset({JobState.Running, JobState.Finishing})
REPLACING_POLICIES = frozenset({SpecChangePolicy.REPLACE, SpecChangePolicy.REPLACE_CANCEL_FIRST})


def make_plan(
    stack: ResolvedStack,
    live: LiveStack,
    *,
    cluster: str,
    options: PlanOptions | None = None,
    insecure: bool = False,
) -> Plan:
    """The plan for every selected job key of `stack`, then the orphans."""
    options = options or PlanOptions()
    jobs_of = stack_jobs(live)
    changes = [
        _moved(
            _with_duplicates(
                seen_whole(
                    decide(
                        job,
                        now,
                        options,
                        adopted=now is not None and now.id in live.adopted,
                        whole=jobs_of if now is not None and now.id in live.whole else None,
                        moved=stack.moved,
                    ),
                    now if now is not None and now.id in live.whole else None,
                ),
                live.duplicates.get(key, ()),
            ),
            live.moved_from.get(key),
        )
        for key, job in stack.jobs.items()
        if options.selects(key)
        for now in [live.current.get(key)]
    ]
    # A changed dependsOn, and the jobs that wait on a job the plan cancels (`dependents`).
    changes = dependencies_kept(changes, stack, live)
    changes = with_live_parents(changes, stack, live.current)  # new jobs never born dead
    changes += [
        orphan(key, job, options)
        for key, job in sorted(live.orphans.items())
        if options.selects(key)
    ]
    return Plan(
        stack=stack.stack,
        cluster=cluster,
        changes=tuple(changes),
        source=stack.source,
        insecure=insecure,
        notes=unknown_keys(options, {*stack.jobs, *live.orphans}),
    )


def unknown_keys(options: PlanOptions, known: set[str]) -> tuple[str, ...]:
    """A note per --target/--exclude/--rerun key that names no job (a typo selects nothing)."""
    flags = (("target", options.targets), ("exclude", options.excludes), ("rerun", options.rerun))
    return tuple(
        f"--{flag} {key!r} names no job of this stack"
        for flag, keys in flags
        for key in sorted(keys - known)
    )


def _with_duplicates(change: Change, duplicates: tuple[LiveJob, ...]) -> Change:
    if not duplicates:
        return change
    ids = tuple(d.id for d in duplicates)
    reason = Reason(
        ReasonCode.DUPLICATES,
        f"{len(ids)} duplicate live job(s) of this key will be "
        f"cancelled: {', '.join(map(str, ids))}",
    )
    return replace(change, duplicates=ids, reasons=(*change.reasons, reason))


# Job states whose custom properties can be written (msdocs/updating-a-job.md), so a moved
# job's new key can be recorded on it; a job on its way to the queue (Submitted, Validating,
# ExternalValidation) is written once queued (`settling.when_settled`).
TAGGABLE_STATES = frozenset(state.name for state in WRITABLE | ON_THE_WAY)


def _moved(change: Change, old: str | None) -> Change:
    if old is None:
        return change
    where = f"job {change.live_id}" if change.live_id is not None else "its job"
    text = f"moved from {old}: {where} becomes this key's job, untouched"
    if change.live_state not in TAGGABLE_STATES:  # ended: its tags can no longer change
        text += f"; keep the moved: entry ({where} is {change.live_state})"
        return replace(change, reasons=(Reason(ReasonCode.MOVED, text), *change.reasons))
    reason = Reason(ReasonCode.MOVED, text)
    return replace(change, moved_from=old, reasons=(reason, *change.reasons))


def decide(
    desired: DesiredJob,
    job: LiveJob | None,
    options: PlanOptions,
    *,
    adopted: bool = False,
    whole: Mapping[str, Sequence[LiveJob]] | None = None,
    moved: Mapping[str, str] | None = None,
) -> Change:
    """The change for one job key (DESIGN.md §3); an `adopted` job by the fields read back.

    `whole`: the job was read whole (a Configuring job, `discovery.read_whole`), and these
    are the stack's jobs by key; its hand edits are then planned (`drift.hand_edits`).
    `moved`: the manifest's `moved:` (old → new key), which may rename its parents."""
    gone = cancelled_by_hpcspec(job) if job is not None else None
    if job is None or never_carried_key(job):
        return absent(desired, None, None)
    if gone is not None and gone.recreates:
        return absent(desired, job, gone)
    seen = live_digest(job)
    if desired.key in options.rerun:
        return _forced_rerun(desired, job, options)
    if desired.state is DesiredState.CANCELED:
        # Canceling is on its way to Canceled: cancelling again would never converge.
        if job.state.is_alive:
            return change_for(
                desired,
                job,
                Action.CANCEL,
                Reason(ReasonCode.WANTED_CANCELED, "the manifest says state: canceled"),
            )
        return change_for(
            desired,
            job,
            Action.NO_OP,
            Reason(ReasonCode.ENDED, f"job {job.id} is already {job.state.name}"),
        )
    if desired.made_from(seen):
        return hand_edited(desired, job, whole) or unchanged(desired, job)
    renamed = parents_moved(desired, job, moved or {})
    if renamed is not None:
        return hand_edited(desired, job, whole) or renamed
    if job.definition is None:
        raise ValueError(f"job {job.id} changed but its details were not read")
    every = job_diffs(desired.definition, job.definition, job.state, task_extras=whole is not None)
    diffs = tuple(d for d in every if not ignored(desired, d))
    if (seen is None or adopted) and not every:  # adopted (`adopt:`), matching what is read
        return unchanged(desired, job)
    spec = Reason(
        ReasonCode.SPEC_CHANGED, f"the spec changed (digest {seen or 'unknown'} → {desired.digest})"
    )
    state = job.state
    if every and not diffs:
        return only_ignored(desired, job, every)
    if not diffs and state is not JobState.Configuring:
        # Something changed that discovery does not read back (a task's env or custom
        # properties, or a property removed from the manifest): assume it cannot change now.
        spec = Reason(
            ReasonCode.SPEC_CHANGED,
            f"{spec.message}, in fields that are not read back "
            "(task env or custom properties, or a removed property)",
        )
        in_place = False
    else:
        in_place = all(d.allowed_now for d in diffs)
    if state is JobState.Configuring:
        return configuring(desired, job, diffs, spec)
    if state in QUEUED_STATES:
        if in_place:
            return change_for(desired, job, Action.UPDATE, spec, _settable(state), diffs=diffs)
        return change_for(
            desired,
            job,
            Action.REPLACE,
            spec,
            _not_settable(diffs, state),
            Reason(
                ReasonCode.LOSES_QUEUE_POSITION,
                f"job {job.id} is {state.name}: the new job loses its queue position",
            ),
            diffs=diffs,
        )
    if state in RUNNING_STATES:
        if in_place:
            return change_for(desired, job, Action.UPDATE, spec, _settable(state), diffs=diffs)
        return _replace_running(desired, job, diffs, options, spec)
    return _ended_changed(desired, job, diffs, spec)


def _forced_rerun(desired: DesiredJob, job: LiveJob, options: PlanOptions) -> Change:
    forced = Reason(ReasonCode.FORCED_RERUN, "--rerun asks for a new run")
    if job.state in RUNNING_STATES:
        return _replace_running(desired, job, (), options, forced)
    if job.state is JobState.Configuring or job.state in QUEUED_STATES:
        return change_for(desired, job, Action.REPLACE, forced)
    return change_for(desired, job, Action.RERUN, forced)


def _replace_running(
    desired: DesiredJob,
    job: LiveJob,
    diffs: tuple[FieldDiff, ...],
    options: PlanOptions,
    why: Reason,
) -> Change:
    running = len(job.tasks_in(TaskState.Running, TaskState.Dispatching))
    reasons = [why]
    if diffs:
        reasons.append(_not_settable(diffs, job.state))
    reasons.append(
        Reason(
            ReasonCode.DISCARDS_RUNNING_WORK,
            f"job {job.id} is {job.state.name}: "
            f"replacing it discards running work: {running} running task(s)",
        )
    )
    blocks: tuple[Block, ...] = ()
    if not (options.allow_replace_running or desired.on_spec_change in REPLACING_POLICIES):
        blocks = (
            Block(
                BlockCode.REPLACE_RUNNING,
                f"replacing running job {job.id} needs consent",
                "pass --allow-replace-running, or set onSpecChange: replace",
            ),
        )
    change = change_for(desired, job, Action.REPLACE, *reasons, diffs=diffs)
    return replace(change, blocks=blocks, running_tasks=running)


def _ended_changed(
    desired: DesiredJob, job: LiveJob, diffs: tuple[FieldDiff, ...], spec: Reason
) -> Change:
    policy = desired.on_spec_change
    ended = Reason(
        ReasonCode.ENDED, f"job {job.id} is {job.state.name} and can no longer be edited"
    )
    if policy is SpecChangePolicy.EXTEND:
        return extend_or_rerun(desired, job, diffs, spec, ended)
    if policy is SpecChangePolicy.RERUN or policy in REPLACING_POLICIES:
        return change_for(
            desired,
            job,
            Action.RERUN,
            spec,
            ended,
            Reason(ReasonCode.POLICY_RERUN, f"onSpecChange: {policy} starts a new run"),
            diffs=diffs,
        )
    if policy is SpecChangePolicy.IGNORE:
        return change_for(
            desired,
            job,
            Action.NO_OP,
            spec,
            ended,
            Reason(ReasonCode.POLICY_IGNORE, "onSpecChange: ignore"),
            diffs=diffs,
        )
    change = change_for(desired, job, Action.NO_OP, spec, ended, diffs=diffs)
    block = Block(
        BlockCode.SPEC_CHANGE_REFUSED,
        f"job {job.id} ended and onSpecChange: error refuses the changed spec",
        "set onSpecChange: rerun, or pass --rerun " + desired.key,
    )
    return replace(change, blocks=(block,))


def orphan(key: str, job: LiveJob, options: PlanOptions) -> Change:
    """A live job of the stack whose key is no longer in the manifest."""
    active = job.state.is_alive
    if active and options.prune:
        action, why = Action.CANCEL, "--prune cancels it"
    else:
        action = Action.NO_OP
        why = "--prune would cancel it" if active else f"it is {job.state.name}; nothing to do"
    return Change(
        key=key,
        action=action,
        reasons=(Reason(ReasonCode.ORPHAN, f"job {job.id} is not in the manifest; {why}"),),
        live_id=job.id,
        live_state=job.state.name,
        live_change_time=seen_change_time(job),
        live_digest=live_digest(job),
    )


def _settable(state: JobState) -> Reason:
    return Reason(
        ReasonCode.IN_PLACE, f"every changed field may be set while the job is {state.name}"
    )


def _not_settable(diffs: tuple[FieldDiff, ...], state: JobState) -> Reason:
    names = sorted(
        {
            d.name.split("/")[0] if d.section is DiffSection.TASK else d.name
            for d in diffs
            if not d.allowed_now
        }
    )
    return Reason(
        ReasonCode.NOT_SETTABLE,
        f"HPC Pack does not let {', '.join(names) or 'the spec'} "
        f"change while the job is {state.name}",
    )
