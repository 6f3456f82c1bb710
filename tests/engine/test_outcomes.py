"""An apply's verdict over any number of results: applied, partial, failed or stale."""

from __future__ import annotations

from hpcspec.engine.outcomes import ApplyResult, ApplyVerdict, JobResult, Outcome, apply_verdict
from hpcspec.engine.plan import Action


def result(*outcomes: Outcome) -> ApplyResult:
    return ApplyResult(tuple(JobResult(f"k{i}", o, Action.CREATE) for i, o in enumerate(outcomes)))


def test_nothing_bad_is_applied_even_with_nothing_to_do() -> None:
    assert apply_verdict([]) is ApplyVerdict.APPLIED
    assert apply_verdict([result(Outcome.DONE, Outcome.UNCHANGED)]) is ApplyVerdict.APPLIED


def test_a_refusal_counts_as_a_change_that_did_not_happen() -> None:
    assert apply_verdict([result(Outcome.REFUSED)]) is ApplyVerdict.FAILED
    assert apply_verdict([result(Outcome.DONE), result(Outcome.REFUSED)]) is ApplyVerdict.PARTIAL


def test_done_and_not_done_across_stacks_is_partial_and_a_failed_stack_counts() -> None:
    assert apply_verdict([result(Outcome.DONE, Outcome.NOT_STARTED)]) is ApplyVerdict.PARTIAL
    assert apply_verdict([result(Outcome.DONE)], failed_stacks=1) is ApplyVerdict.PARTIAL
    assert apply_verdict([], failed_stacks=1) is ApplyVerdict.FAILED


def test_a_stale_saved_plan_wins() -> None:
    assert apply_verdict([result(Outcome.DONE)], stale=True) is ApplyVerdict.STALE_PLAN
