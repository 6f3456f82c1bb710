"""A plan that cancels a parent job takes its waiting children along (pure, no cluster).

HPC Pack cancels a job whose parent job is canceled (`Execution_ParentJobCanceled`,
reference/hpcpack/derived/error-codes.json), and a Queued job's ParentJobIds cannot change
(derived/job-modify-rules.json): the planner replaces the children too, or refuses.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from hpcspec.engine.dependents import PARENT_CANCELED_MESSAGE
from hpcspec.engine.discovery import LiveStack
from hpcspec.engine.plan import Action, BlockCode, Change, PlanOptions, ReasonCode
from hpcspec.engine.planner import make_plan
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.resolve import ResolvedStack

CHAIN = """\
apiVersion: hpcspec/v1
stack: demo
jobs:
  a:
    tasks: {t: {commandLine: echo a}}
  b:
    dependsOn: [a]
    tasks: {t: {commandLine: echo b}}
  c:
    dependsOn: [b]
    tasks: {t: {commandLine: echo c}}
  d:
    tasks: {t: {commandLine: echo d}}
"""


def chain(**edits: str) -> ResolvedStack:
    text = CHAIN
    for key, extra in edits.items():
        text = text.replace(f"  {key}:\n", f"  {key}:\n    {extra}\n", 1)
    return resolve(parse_manifest(text, file="m.yaml"))


def job(stack: ResolvedStack, key: str, job_id: int, state: JobState, **extra: str) -> LiveJob:
    """`key`'s live job, matching the manifest (`digest` other than the manifest's: changed)."""
    digest = extra.get("digest", stack.jobs[key].digest)
    return LiveJob(
        id=job_id,
        state=state,
        client_source=f"hpcspec:{'0' * 16}:{digest}",
        definition=stack.jobs[key].definition,
        error_message=extra.get("error_message", ""),
    )


def plan(
    stack: ResolvedStack,
    states: dict[str, JobState],
    options: PlanOptions | None = None,
    **live: LiveJob,
) -> dict[str, Change]:
    current = {key: job(stack, key, 10 + n, s) for n, (key, s) in enumerate(states.items())}
    current.update(live)
    made = make_plan(stack, LiveStack(current=current), cluster="c", options=options)
    return {c.key: c for c in made.changes}


QUEUED = {"a": JobState.Queued, "b": JobState.Queued, "c": JobState.Queued, "d": JobState.Queued}
REPLACE_A = PlanOptions(rerun=frozenset({"a"}))  # a Queued job --rerun is replaced


def test_replacing_a_parent_replaces_its_queued_children_down_the_chain() -> None:
    changes = plan(chain(), QUEUED, REPLACE_A)
    assert [changes[k].action for k in "abcd"] == [Action.REPLACE] * 3 + [Action.NO_OP]
    for key, parent in (("b", "a"), ("c", "b")):
        reason = changes[key].reasons[-1]
        assert reason.code is ReasonCode.PARENT_REPLACED
        assert f"its parent {parent} is replaced" in reason.message
        assert not changes[key].blocks


@pytest.mark.parametrize(
    "state",
    [JobState.Configuring, JobState.Submitted, JobState.Validating, JobState.Queued],
    ids=lambda s: s.name,
)
def test_a_child_that_has_not_started_is_replaced(state: JobState) -> None:
    changes = plan(chain(), {**QUEUED, "b": state}, REPLACE_A)
    assert changes["b"].action is Action.REPLACE


@pytest.mark.parametrize(
    "state",
    [JobState.Running, JobState.Finished, JobState.Failed, JobState.Canceled],
    ids=lambda s: s.name,
)
def test_a_child_that_runs_or_ran_is_left_alone(state: JobState) -> None:
    # It started, so its parents had finished: replacing the parent cancels nothing of it.
    changes = plan(chain(), {**QUEUED, "b": state, "c": JobState.Finished}, REPLACE_A)
    assert changes["a"].action is Action.REPLACE and not changes["a"].blocks
    assert changes["b"].action is not Action.REPLACE
    assert all(r.code is not ReasonCode.PARENT_REPLACED for r in changes["b"].reasons)


def test_a_child_with_no_live_job_is_created_after_its_parent_as_before() -> None:
    stack = chain()
    current = {"a": job(stack, "a", 10, JobState.Queued)}
    made = make_plan(stack, LiveStack(current=current), cluster="c", options=REPLACE_A)
    actions = {c.key: c.action for c in made.changes}
    assert actions == {
        "a": Action.REPLACE,
        "b": Action.CREATE,
        "c": Action.CREATE,
        "d": Action.CREATE,
    }


def test_a_child_whose_own_spec_changed_keeps_its_reasons_and_gains_the_parent_one() -> None:
    stack = chain(b="properties: {Priority: Highest}")
    before = job(chain(), "b", 11, JobState.Queued)  # the same job, before the new priority
    assert before.definition is not None
    before = replace(before, definition=replace(before.definition, parent_job_ids=(10,)))
    assert plan(stack, QUEUED, b=before)["b"].action is Action.UPDATE  # alone: in place
    changes = plan(stack, QUEUED, REPLACE_A, b=before)
    assert changes["b"].action is Action.REPLACE
    codes = [r.code for r in changes["b"].reasons]
    assert codes[0] is ReasonCode.SPEC_CHANGED and codes[-1] is ReasonCode.PARENT_REPLACED


@pytest.mark.parametrize(
    "options",
    [
        PlanOptions(rerun=frozenset({"a"}), targets=frozenset({"a"})),
        PlanOptions(rerun=frozenset({"a"}), excludes=frozenset({"c"})),
    ],
    ids=["target-parent-only", "exclude-grandchild"],
)
def test_a_waiting_child_left_out_of_the_plan_refuses_the_parents_replace(
    options: PlanOptions,
) -> None:
    changes = plan(chain(), QUEUED, options)
    block = changes["a"].blocks[0]
    assert block.code is BlockCode.CANCELS_CHILDREN
    assert "(job 12, Queued)" in block.message  # c, the child nobody would replace
    assert "add --target " in block.hint and "drop --exclude " in block.hint
    assert all(c.action is not Action.REPLACE or c.blocks for c in changes.values())


def test_targeting_only_the_child_leaves_its_parent_and_itself_alone() -> None:
    changes = plan(chain(), QUEUED, PlanOptions(targets=frozenset({"b"})))
    assert set(changes) == {"b"} and changes["b"].action is Action.NO_OP


def test_a_parent_the_manifest_cancels_refuses_while_a_waiting_child_stays_wanted() -> None:
    changes = plan(chain(a="state: canceled"), QUEUED)
    assert changes["a"].action is Action.CANCEL
    assert changes["a"].blocks[0].code is BlockCode.CANCELS_CHILDREN
    assert "state: canceled on b" in changes["a"].blocks[0].hint


def test_a_parent_cancelled_together_with_its_children_is_not_refused() -> None:
    stack = chain(a="state: canceled", b="state: canceled", c="state: canceled")
    changes = plan(stack, QUEUED)
    assert [changes[k].action for k in "abc"] == [Action.CANCEL] * 3
    assert not any(changes[k].blocks for k in "abc")


def test_a_child_hpc_pack_canceled_after_hpcspec_cancelled_its_parent_is_created_again() -> None:
    stack = chain()
    said = "hpcspec replace at 2026-11-30T08:00:00Z: replaced by job 9"
    old_parent = job(stack, "a", 5, JobState.Canceled, error_message=said)
    orphaned = job(stack, "b", 6, JobState.Canceled, error_message=PARENT_CANCELED_MESSAGE)
    current = {
        "a": job(stack, "a", 9, JobState.Queued),
        "b": orphaned,
        "c": job(stack, "c", 7, JobState.Canceled, error_message=PARENT_CANCELED_MESSAGE),
    }
    live = LiveStack(current=current, history={"a": (old_parent,)})
    changes = {c.key: c for c in make_plan(stack, live, cluster="c").changes}
    assert changes["b"].action is Action.CREATE and changes["b"].unmet is None
    assert changes["b"].reasons[0].code is ReasonCode.PARENT_CANCELED
    # c's parent b was canceled by HPC Pack in turn, and comes back too.
    assert changes["c"].action is Action.CREATE and changes["c"].unmet is None


def test_a_child_canceled_after_its_parent_was_canceled_outside_hpcspec_stays_unmet() -> None:
    stack = chain()
    old_parent = LiveJob(id=5, state=JobState.Canceled, error_message="Canceled by user.")
    orphaned = job(stack, "b", 6, JobState.Canceled, error_message=PARENT_CANCELED_MESSAGE)
    live = LiveStack(
        current={"a": job(stack, "a", 9, JobState.Queued), "b": orphaned},
        history={"a": (old_parent,)},
    )
    changes = {c.key: c for c in make_plan(stack, live, cluster="c").changes}
    assert changes["b"].action is Action.NO_OP and changes["b"].unmet is not None


def test_a_running_parent_replace_refused_for_want_of_consent_takes_no_child_along() -> None:
    running = {**QUEUED, "a": JobState.Running}
    changes = plan(chain(), running, REPLACE_A)
    assert changes["a"].blocks[0].code.value == "replace-running"
    assert changes["b"].action is Action.NO_OP
    consented = PlanOptions(rerun=frozenset({"a"}), allow_replace_running=True)
    assert plan(chain(), running, consented)["b"].action is Action.REPLACE


def test_a_child_the_manifest_cancels_is_cancelled_not_replaced() -> None:
    changes = plan(chain(b="state: canceled", c="state: canceled"), QUEUED, REPLACE_A)
    assert [changes[k].action for k in "abc"] == [Action.REPLACE] + [Action.CANCEL] * 2
    assert not any(changes[k].blocks for k in "abc")


def test_a_wanted_child_of_a_cancelled_child_refuses_every_change_that_would_lose_it() -> None:
    # c wants to run but waits on b, which the manifest cancels: a's replace would lose c too.
    changes = plan(chain(b="state: canceled"), QUEUED, REPLACE_A)
    assert [changes[k].blocks[0].code for k in "ab"] == [BlockCode.CANCELS_CHILDREN] * 2
    assert "set state: canceled on c too, or drop b" in changes["b"].blocks[0].hint
    assert changes["c"].action is Action.NO_OP and not changes["c"].blocks


def test_a_replace_reaching_a_refused_replace_is_refused_too() -> None:
    # b's own replace is refused (its child c is left out): a's replace would lose b's job.
    stack = chain()
    b_changed = job(stack, "b", 11, JobState.Queued, digest="f" * 16)
    options = PlanOptions(rerun=frozenset({"a"}), excludes=frozenset({"c"}))
    changes = plan(stack, QUEUED, options, b=b_changed)
    assert changes["b"].action is Action.REPLACE and changes["b"].blocks
    assert changes["a"].blocks[0].code is BlockCode.CANCELS_CHILDREN


def test_a_configuring_job_whose_depends_on_changed_is_replaced_not_updated() -> None:
    # An update cannot give a job new parents (ParentJobIds holds the ids of jobs apply makes):
    # it used to report "update done" and leave the old parent in ParentJobIds.
    stack = resolve(parse_manifest(CHAIN.replace("    dependsOn: [a]\n", ""), file="m.yaml"))
    before = job(stack, "b", 11, JobState.Configuring, digest="f" * 16)
    before = replace(before, definition=replace(stack.jobs["b"].definition, parent_job_ids=(10,)))
    changes = plan(stack, QUEUED, b=before)
    assert changes["b"].action is Action.REPLACE
    assert [d.name for d in changes["b"].diffs] == ["dependsOn"]
    assert changes["c"].action is Action.REPLACE  # it waits on b's job, which goes


def test_a_job_whose_parents_match_its_depends_on_is_still_updated_in_place() -> None:
    stack = chain()
    before = job(stack, "b", 11, JobState.Configuring, digest="f" * 16)
    before = replace(before, definition=replace(stack.jobs["b"].definition, parent_job_ids=(10,)))
    assert plan(stack, QUEUED, b=before)["b"].action is Action.UPDATE
