"""What apply did and what waiting sees, as lines of text and a markdown summary (pure).

The CLI's views print these as the engine's events arrive: one line per job key's result,
the summary line, the step-summary markdown, and the wait's state changes, requeues,
heartbeats and verdict. Every string from a manifest or the server is neutralised.
"""

from __future__ import annotations

from collections.abc import Sequence

from hpcspec.engine.outcomes import ApplyResult, JobResult, Outcome, WaitVerdict
from hpcspec.engine.plan import Plan
from hpcspec.engine.status import JobStatus
from hpcspec.render.markdown import render_markdown
from hpcspec.render.neutralise import neutralise


def job_line(result: JobResult, *, prefix: str = "") -> str | None:
    """`key (job 42): create done`, with the reason when there is one; None when unchanged."""
    if result.outcome is Outcome.UNCHANGED:
        return None
    job = f" (job {result.job_id})" if result.job_id is not None else ""
    note = f": {neutralise(result.message)}" if result.message else ""
    action, outcome = result.action.value, result.outcome.value
    return f"{neutralise(prefix)}{neutralise(result.key)}{job}: {action} {outcome}{note}"


def destroy_line(result: JobResult) -> str:
    """`key (job 42): cancelled`, or what stopped the cancel."""
    job = f" (job {result.job_id})" if result.job_id is not None else ""
    said = "cancelled" if result.outcome is Outcome.DONE else neutralise(result.message)
    return f"{neutralise(result.key)}{job}: {said}"


def _counts(plans: Sequence[Plan], results: Sequence[ApplyResult]) -> dict[Outcome, int]:
    """What happened to each key; "unchanged" is the plans' own count (`Plan.unchanged`), so
    apply never contradicts the plan it printed (also when no plan needed applying)."""
    flat = [r for result in results for r in result.results]
    counts = {o: sum(1 for r in flat if r.outcome is o) for o in Outcome}
    counts[Outcome.UNCHANGED] = sum(p.unchanged() for p in plans)
    return counts


def apply_summary(plans: Sequence[Plan], results: Sequence[ApplyResult]) -> str:
    """`Apply: 3 done, 0 failed, 0 not started, 1 refused, 2 unchanged.`"""
    counts = _counts(plans, results)
    return (
        f"Apply: {counts[Outcome.DONE]} done, {counts[Outcome.FAILED]} failed, "
        f"{counts[Outcome.NOT_STARTED]} not started, {counts[Outcome.REFUSED]} refused, "
        f"{counts[Outcome.UNCHANGED]} unchanged."
    )


def apply_markdown(plans: Sequence[Plan], results: Sequence[ApplyResult]) -> str:
    """What apply adds to a CI step summary: each plan, then what happened."""
    counts = _counts(plans, results)
    line = ", ".join(f"{counts[o]} {o.value}" for o in Outcome)
    body = "\n\n".join(render_markdown(p) for p in plans)
    return f"{body}\n**hpcspec apply:** {line}.\n"


def state_change_lines(row: JobStatus, before: str | None) -> list[str]:
    """`stack/key (job 42): Queued → Running [1 running]`, then each failed task's first line."""
    tasks = ", ".join(f"{n} {s.lower()}" for s, n in sorted(row.tasks.items()))
    change = f"{before} → {row.state}" if before else row.state
    job = f" (job {row.job_id})" if row.job_id is not None else ""
    lines = [f"{neutralise(row.key)}{job}: {change}" + (f" [{tasks}]" if tasks else "")]
    for task in row.failed:
        first = neutralise(task.output[0]) if task.output else ""
        lines.append(
            f"    task {neutralise(task.name)} failed, exit code {task.exit_code}"
            + (f": {first}" if first else "")
        )
    return lines


def requeue_line(row: JobStatus, attempt: int, allowed: int) -> str:
    """`stack/key (job 42): Failed; requeued (1 of 2 retries)`."""
    return (
        f"{neutralise(row.key)} (job {row.job_id}): Failed; requeued "
        f"({attempt} of {allowed} retries)"
    )


def heartbeat_line(active: Sequence[JobStatus]) -> str:
    """`… still waiting for 2 job(s): stack/a Running, stack/b Queued`."""
    listed = ", ".join(f"{neutralise(r.key)} {r.state}" for r in active)
    return f"… still waiting for {len(active)} job(s): {listed}"


def wait_verdict_line(verdict: WaitVerdict, rows: Sequence[JobStatus]) -> tuple[str, bool]:
    """The wait's last line, and whether it belongs on stderr."""
    if verdict is WaitVerdict.FINISHED and not rows:
        return (
            "Nothing to wait for: no selected key is meant to run (each is `state: "
            "configuring` or `canceled`, or left out of the run).",
            False,
        )
    if verdict is WaitVerdict.FINISHED:
        return f"All {len(rows)} job(s) finished.", False
    if verdict is WaitVerdict.TIMED_OUT:
        return "Timed out waiting for the jobs to end.", True
    bad = [r for r in rows if r.ended_badly]
    listed = ", ".join(f"{neutralise(r.key)} {_ending(r)}" for r in bad)
    return f"{len(bad)} job(s) did not finish: {listed}", True


def _ending(row: JobStatus) -> str:
    if row.state == "Finished" and row.canceled_tasks:
        return f"Finished with {row.canceled_tasks} of {row.total_tasks} task(s) canceled"
    return row.state
