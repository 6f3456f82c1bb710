"""The planner follows DESIGN.md §3's table, row by row (pure, no cluster)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hpcspec.engine.diff import job_diffs
from hpcspec.engine.discovery import LiveStack
from hpcspec.engine.plan import Action, Block, BlockCode, PlanOptions
from hpcspec.engine.planner import decide, make_plan
from hpcspec.hpcpack.definition import JobDefinition, SecretRef, TaskDefinition, pairs
from hpcspec.hpcpack.live import LiveJob, LiveTask
from hpcspec.hpcpack.states import JobState, TaskState
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.resolve import DesiredJob, DesiredState, ResolvedStack, SpecChangePolicy

MANIFEST = """\
apiVersion: hpcspec/v1
stack: demo
jobs:
  a:
    retries: 2
    properties: {Name: Job A, Priority: Normal, MinCores: 2}
    env: {MODE: fast, TOKEN: {secret: 'env:T'}}
    tasks:
      one: {commandLine: echo one}
      two: {commandLine: echo two, dependsOn: [one]}
"""


def stack(text: str = MANIFEST) -> ResolvedStack:
    return resolve(parse_manifest(text, file="m.yaml"))


def desired(**changes: object) -> DesiredJob:
    job = stack().jobs["a"]
    return replace(job, **changes) if changes else job  # type: ignore[arg-type]


def live(
    state: JobState,
    *,
    digest: str | None = None,
    definition: JobDefinition | None = None,
    requeue_count: int = 0,
    running: int = 0,
) -> LiveJob:
    job = desired()
    tasks = tuple(LiveTask(i + 1, f"t{i}", TaskState.Running) for i in range(running))
    return LiveJob(
        id=42,
        state=state,
        client_source=f"hpcspec:{'0' * 16}:{digest or job.digest}",
        requeue_count=requeue_count,
        definition=definition or job.definition,
        tasks=tasks,
    )


def renamed(definition: JobDefinition, **props: object) -> JobDefinition:
    merged = {**dict(definition.properties), **props}
    return replace(definition, properties=pairs(merged))  # type: ignore[arg-type]


def old_spec(**props: object) -> JobDefinition:
    """What the live job holds when the manifest has since changed those properties."""
    return renamed(desired().definition, **props)


OPTIONS = PlanOptions()


def test_no_live_job_is_created() -> None:
    change = decide(desired(), None, OPTIONS)
    assert change.action is Action.CREATE and change.reasons[0].code == "new"


@pytest.mark.parametrize(
    "message",
    [
        "Canceled by user. Message: hpcspec: extra job; job 7 carries its key",
        "Canceled by user. Message: hpcspec: an incomplete create, made again",
        "hpcspec: an incomplete create, cancelled: left Configuring by an interrupted apply",
    ],
)
def test_a_key_whose_current_job_never_carried_it_is_created(message: str) -> None:
    """Racing appliers can leave a key with only jobs apply cancelled itself (the lowest an
    incomplete create it discarded, the rest race losers): the key has no job, never a job
    "canceled outside hpcspec" that waits for --rerun."""
    job = replace(live(JobState.Canceled), error_message=message)
    change = decide(desired(), job, OPTIONS)
    assert change.action is Action.CREATE and change.reasons[0].code == "new"


def test_configuring_unchanged_is_submitted() -> None:
    assert decide(desired(), live(JobState.Configuring), OPTIONS).action is Action.SUBMIT


def test_configuring_unchanged_with_state_configuring_is_no_op() -> None:
    job = desired(state=DesiredState.CONFIGURING)
    assert decide(job, live(JobState.Configuring), OPTIONS).action is Action.NO_OP


def test_configuring_changed_is_an_update() -> None:
    change = decide(
        desired(),
        live(JobState.Configuring, digest="old", definition=old_spec(MinCores=8)),
        OPTIONS,
    )
    assert change.action is Action.UPDATE
    assert [(d.name, d.before, d.after) for d in change.diffs] == [("MinCores", "8", "2")]


def test_configuring_with_a_removed_task_is_replaced() -> None:
    extra = TaskDefinition(name="three", command_line="echo 3")
    definition = replace(desired().definition, tasks=(*desired().definition.tasks, extra))
    change = decide(
        desired(), live(JobState.Configuring, digest="old", definition=definition), OPTIONS
    )
    assert change.action is Action.REPLACE
    assert any(r.code == "task-removed" for r in change.reasons)


def test_an_empty_env_value_matches_a_variable_the_cluster_does_not_hold() -> None:
    """HPC Pack has no empty variable: GET envVariables answers a missing name with an empty
    value (research/hpcpack-ground-truth.md), and the emulator removes a variable set to "".
    `env: {X: ""}` once drifted forever: `env.X: live absent, manifest ""`."""
    task = TaskDefinition(name="one", command_line="echo one", env=(("TE", ""),))
    wanted = JobDefinition(env=(("X", ""),), tasks=(task,))
    held = JobDefinition(tasks=(TaskDefinition(name="one", command_line="echo one"),))
    assert job_diffs(wanted, held, JobState.Configuring, task_extras=True) == []
    assert [d.name for d in job_diffs(held, wanted, JobState.Configuring)] == []


@pytest.mark.parametrize("name", ["one", "ONE"])
def test_a_second_live_task_with_a_manifest_task_name_is_an_extra_task(name: str) -> None:
    """HPC Pack does not make task names unique (msdocs/jobschema-task-complextype.md: Name is
    "the display name"): a task added by hand under a manifest task's name once matched
    nothing and drift said the job matched while it ran that task twice."""
    copy = TaskDefinition(name=name, command_line="echo one")
    definition = replace(desired().definition, tasks=(*desired().definition.tasks, copy))
    diffs = job_diffs(desired().definition, definition, JobState.Configuring)
    assert [(d.name, d.before, d.after) for d in diffs] == [(f"{name}#2", "echo one", None)]
    change = decide(
        desired(), live(JobState.Configuring, digest="old", definition=definition), OPTIONS
    )
    assert change.action is Action.REPLACE  # HPC Pack cannot remove a task


@pytest.mark.parametrize(
    "state",
    [
        JobState.Submitted,
        JobState.Validating,
        JobState.Queued,
        JobState.Running,
        JobState.Finished,
        JobState.Canceled,
    ],
)
def test_unchanged_live_jobs_are_no_ops(state: JobState) -> None:
    assert decide(desired(), live(state), OPTIONS).action is Action.NO_OP


def test_queued_priority_change_is_an_update() -> None:
    change = decide(
        desired(), live(JobState.Queued, digest="old", definition=old_spec(Priority=1000)), OPTIONS
    )
    assert change.action is Action.UPDATE
    assert change.diffs[0].before == "BelowNormal" and change.diffs[0].after == "Normal"


def test_queued_rename_is_a_replace_that_loses_queue_position() -> None:
    # per derived/job-modify-rules.json: Name is not settable while Queued
    change = decide(
        desired(),
        live(JobState.Queued, digest="old", definition=old_spec(Name="Old name")),
        OPTIONS,
    )
    assert change.action is Action.REPLACE
    assert "loses its queue position" in " ".join(r.message for r in change.reasons)
    assert not change.blocks


UNNAMED = MANIFEST.replace("Name: Job A, ", "")


@pytest.mark.parametrize("state", [JobState.Queued, JobState.Running])
def test_a_defaulted_name_is_set_at_creation_and_never_compared(state: JobState) -> None:
    """A `moved:` key changes the key-derived default Name; a Queued job cannot change Name
    in place, and the move promises the job is untouched: the live Name stays, the digest is
    refreshed (an update with no field diffs), and drift on it is not reported either."""
    job = stack(UNNAMED).jobs["a"]
    assert job.default_name and dict(job.definition.properties)["Name"] == "a"
    was = renamed(job.definition, Name="old-key")
    change = decide(job, replace(live(state, digest="old"), definition=was), OPTIONS)
    assert change.action is Action.UPDATE and change.diffs == ()
    assert "the default Name" in change.reasons[0].message
    listed = replace(live(state, digest=job.digest), definition=was, listed=was.properties)
    assert decide(job, listed, OPTIONS).action is Action.NO_OP
    assert not stack().jobs["a"].default_name  # `Name: Job A` is managed like any field


@pytest.mark.parametrize("field", ["default Name", "ignoreChanges"])
def test_a_cancelled_job_changed_only_in_unmanaged_fields_is_still_unmet(field: str) -> None:
    """The lifecycle machine's find: a job cancelled outside hpcspec, then `moved:` (its
    default Name changes) or edited only in an `ignoreChanges` field, was a plain no-op, and
    the plan said the cluster matched."""
    if field == "default Name":
        job = stack(UNNAMED).jobs["a"]
        was = renamed(job.definition, Name="old-key")
    else:
        job = replace(desired(), ignore_changes=frozenset({"Priority"}))
        was = old_spec(Priority=1000)
    change = decide(job, replace(live(JobState.Canceled, digest="old"), definition=was), OPTIONS)
    assert change.action is Action.NO_OP and not change.satisfied
    assert [r.code for r in change.reasons] == ["ignored-fields", "canceled-outside"]


def test_running_rename_is_an_update() -> None:
    change = decide(
        desired(),
        live(JobState.Running, digest="old", definition=old_spec(Name="Old name")),
        OPTIONS,
    )
    assert change.action is Action.UPDATE


def test_running_core_change_is_a_blocked_replace_showing_running_tasks() -> None:
    change = decide(
        desired(),
        live(JobState.Running, digest="old", running=3, definition=old_spec(MinCores=1)),
        OPTIONS,
    )
    assert change.action is Action.REPLACE
    assert change.blocks and change.blocks[0].code == "replace-running"
    assert change.running_tasks == 3
    assert "discards running work: 3 running task(s)" in " ".join(r.message for r in change.reasons)


def test_running_replace_is_allowed_by_flag_or_policy() -> None:
    job_live = live(JobState.Running, digest="old", definition=old_spec(MinCores=1))
    allowed = decide(desired(), job_live, PlanOptions(allow_replace_running=True))
    assert allowed.action is Action.REPLACE and not allowed.blocks
    policy = decide(desired(on_spec_change=SpecChangePolicy.REPLACE), job_live, OPTIONS)
    assert not policy.blocks


@pytest.mark.parametrize("state", [JobState.Finished, JobState.Canceled, JobState.Failed])
def test_ended_changed_job_follows_on_spec_change(state: JobState) -> None:
    job_live = live(state, digest="old", definition=old_spec(Name="Old"))
    assert decide(desired(), job_live, OPTIONS).action is Action.RERUN
    assert (
        decide(desired(on_spec_change=SpecChangePolicy.IGNORE), job_live, OPTIONS).action
        is Action.NO_OP
    )
    refused = decide(desired(on_spec_change=SpecChangePolicy.ERROR), job_live, OPTIONS)
    assert refused.action is Action.NO_OP and refused.blocks


def test_failed_job_is_requeued_while_retries_remain() -> None:
    assert (
        decide(desired(), live(JobState.Failed, requeue_count=1), OPTIONS).action is Action.REQUEUE
    )
    exhausted = decide(desired(), live(JobState.Failed, requeue_count=2), OPTIONS)
    assert exhausted.action is Action.NO_OP and exhausted.reasons[0].code == "retries-exhausted"


def test_forced_rerun() -> None:
    options = PlanOptions(rerun=frozenset({"a"}))
    assert decide(desired(), live(JobState.Finished), options).action is Action.RERUN
    assert decide(desired(), live(JobState.Queued), options).action is Action.REPLACE


def test_a_job_already_canceling_is_not_cancelled_again() -> None:
    # Canceling ends in Canceled by itself; a second cancel would never converge.
    assert (
        decide(desired(state=DesiredState.CANCELED), live(JobState.Canceling), OPTIONS).action
        is Action.NO_OP
    )


def test_state_canceled_cancels_an_active_job() -> None:
    assert (
        decide(desired(state=DesiredState.CANCELED), live(JobState.Queued), OPTIONS).action
        is Action.CANCEL
    )
    assert (
        decide(desired(state=DesiredState.CANCELED), live(JobState.Finished), OPTIONS).action
        is Action.NO_OP
    )


def test_orphans_are_cancelled_only_with_prune() -> None:
    orphan = LiveJob(id=7, state=JobState.Queued, client_source="hpcspec:0000000000000000:y")
    live_stack = LiveStack(orphans={"gone": orphan})
    shown = make_plan(stack(), live_stack, cluster="c").changes[-1]
    assert shown.key == "gone" and shown.action is Action.NO_OP
    pruned = make_plan(stack(), live_stack, cluster="c", options=PlanOptions(prune=True))
    assert pruned.changes[-1].action is Action.CANCEL


def test_duplicates_are_reported() -> None:
    dup = LiveJob(id=43, state=JobState.Configuring)
    plan = make_plan(
        stack(),
        LiveStack(current={"a": live(JobState.Queued)}, duplicates={"a": (dup,)}),
        cluster="c",
    )
    assert plan.changes[0].duplicates == (43,) and plan.has_changes


def test_targets_and_excludes() -> None:
    two = MANIFEST + "  b:\n    tasks: {t: {commandLine: x}}\n"
    assert [
        c.key
        for c in make_plan(
            stack(two), LiveStack(), cluster="c", options=PlanOptions(targets=frozenset({"b"}))
        ).changes
    ] == ["b"]
    assert [
        c.key
        for c in make_plan(
            stack(two), LiveStack(), cluster="c", options=PlanOptions(excludes=frozenset({"b"}))
        ).changes
    ] == ["a"]


def test_summary_line() -> None:
    two = MANIFEST + "  b:\n    tasks: {t: {commandLine: x}}\n"
    plan = make_plan(stack(two), LiveStack(current={"a": live(JobState.Queued)}), cluster="c")
    assert plan.summary() == "1 to create, 1 unchanged"


def test_summary_counts_refused_keys_apply_leaves_as_they_are() -> None:
    """Red-team finding: a saved plan of unchanged keys applied after a destroy refused each
    one as stale, and its header said `no jobs`."""
    two = MANIFEST + "  b:\n    tasks: {t: {commandLine: x}}\n"
    plan = make_plan(stack(two), LiveStack(current={"a": live(JobState.Queued)}), cluster="c")
    stale = Block(BlockCode.STALE_PLAN, "the plan is stale for a")
    refused = replace(plan, changes=(replace(plan.changes[0], blocks=(stale,)), plan.changes[1]))
    assert refused.summary() == "1 to create, 1 refused"
    alone = replace(plan, changes=(replace(plan.changes[0], blocks=(stale,)),))
    assert alone.summary() == "1 refused"


def test_secret_env_is_never_compared_by_value() -> None:
    definition = replace(
        desired().definition, env=pairs({"MODE": "slow", "TOKEN": "the-actual-secret"})
    )
    change = decide(
        desired(), live(JobState.Configuring, digest="old", definition=definition), OPTIONS
    )
    assert [(d.name, d.before, d.after) for d in change.diffs] == [("MODE", "slow", "fast")]
    assert "the-actual-secret" not in repr(change)
    assert isinstance(dict(desired().definition.env)["TOKEN"], SecretRef)


def test_sensitive_looking_live_env_values_are_masked() -> None:
    base = desired()
    plain = replace(base.definition, env=pairs({"MODE": "fast", "TOKEN": "x", "API_KEY": "k"}))
    change = decide(
        replace(
            base,
            definition=replace(
                base.definition, env=pairs({"MODE": "fast", "TOKEN": SecretRef("env", "T")})
            ),
        ),
        live(JobState.Configuring, digest="old", definition=plain),
        OPTIONS,
    )
    assert [(d.name, d.before) for d in change.diffs] == [("API_KEY", "(sensitive)")]
