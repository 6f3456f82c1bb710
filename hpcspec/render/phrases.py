"""How the parts of a change read in words, shared by the text and markdown renderers.

Everything returned here is already neutralised (`neutralise.neutralise`), so a renderer may
place it anywhere; markdown still escapes it for its own syntax.
"""

from __future__ import annotations

from hpcspec.engine.plan import Action, Change, DiffSection, FieldDiff, ReasonCode
from hpcspec.engine.planfile import SENSITIVE
from hpcspec.render.neutralise import neutralise

# Reasons that only say "nothing to see": a no-op carrying nothing else is folded into a count.
QUIET_REASONS = frozenset({ReasonCode.UNCHANGED, ReasonCode.ENDED, ReasonCode.WANTED_CANCELED})

SECTION_PREFIX = {
    DiffSection.PROPERTY: "",
    DiffSection.CUSTOM_PROPERTY: "customProperties.",
    DiffSection.ENV: "env.",
    DiffSection.TASK: "tasks.",
    DiffSection.RUN_AS: "runAs.",
}


def worth_showing(change: Change) -> bool:
    """Every change, and a no-op that carries diffs, refusals or a reason worth reading."""
    return (
        change.is_change
        or bool(change.diffs or change.blocks)
        or any(r.code not in QUIET_REASONS for r in change.reasons)
    )


def action_word(action: Action) -> str:
    """`create`, `replace`, … and `no change`."""
    return "no change" if action is Action.NO_OP else action.value


def action_phrase(change: Change) -> str:
    """The action as a change's heading says it: `requeue (failed tasks only: 3 of 120)`,
    `cancel task run[3]`, or the action's word."""
    word = action_word(change.action)
    if change.action is Action.REQUEUE and change.failed_only is not None:
        only = change.failed_only
        counted = f": {only.tasks} of {only.total}" if only.total else ""
        return f"{word} (failed tasks only{counted})"
    if change.action is Action.CANCEL and change.tasks:
        labels = [neutralise(t.label) for t in change.tasks]
        shown = ", ".join(labels[:5]) + (f" and {len(labels) - 5} more" if len(labels) > 5 else "")
        return f"{word} {'task' if len(labels) == 1 else count(len(labels), 'task') + ':'} {shown}"
    return word


def live_label(change: Change) -> str:
    """`job 42, Running, 3 running tasks`, or `` when there is no live job."""
    if change.live_id is None:
        return ""
    parts = [f"job {change.live_id}"]
    if change.live_state:
        parts.append(neutralise(change.live_state))
    if change.running_tasks:
        parts.append(count(change.running_tasks, "running task"))
    return ", ".join(parts)


def count(n: int, noun: str) -> str:
    """`1 job`, `3 jobs`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def field_label(diff: FieldDiff) -> str:
    """`Name`, `env.MODE`, `customProperties.team`, `tasks.solve.commandLine`."""
    name = diff.name.replace("/", ".", 1) if diff.section is DiffSection.TASK else diff.name
    return SECTION_PREFIX[diff.section] + neutralise(name)


def quoted(value: str) -> str:
    """A value in quotes; the planner's `(sensitive)` placeholder stays bare (it is no value)."""
    return SENSITIVE if value == SENSITIVE else f'"{neutralise(value)}"'


def diff_mark(diff: FieldDiff) -> str:
    """`+` added, `-` removed, `~` changed."""
    if diff.before is None:
        return "+"
    if diff.after is None:
        return "-"
    return "~"


def diff_values(diff: FieldDiff) -> str:
    """`"a" → "b"`, `"b"`, or for a sensitive field only `(sensitive)` / `(sensitive, changed)`."""
    mark = diff_mark(diff)
    if diff.sensitive:
        return "(sensitive, changed)" if mark == "~" else "(sensitive)"
    if diff.before is None:
        return quoted(diff.after or "")
    if diff.after is None:
        return quoted(diff.before)
    return f"{quoted(diff.before)} → {quoted(diff.after)}"


def not_in_place(change: Change, diff: FieldDiff) -> bool:
    """Whether to point out that this field is what keeps the change from happening in place."""
    return not diff.allowed_now and change.action in (Action.REPLACE, Action.UPDATE)


def insecure_warning() -> str:
    return "TLS verification is off (--insecure): the cluster's identity was not checked"
