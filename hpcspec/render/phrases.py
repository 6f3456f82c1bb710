"""How the parts of a change read in words, shared by the text and markdown renderers.

Everything returned here is already neutralised (`neutralise.neutralise`), so a renderer may
place it anywhere; markdown still escapes it for its own syntax.
"""

from __future__ import annotations

from hpcspec.engine.plan import Action, Change, DiffSection, FieldDiff, Plan, ReasonCode
from hpcspec.engine.planfile import SENSITIVE
from hpcspec.render.neutralise import neutralise, told_apart

# Reasons that only say "nothing to see": a no-op carrying nothing else is folded into a count.
QUIET_REASONS = frozenset({ReasonCode.UNCHANGED, ReasonCode.ENDED, ReasonCode.WANTED_CANCELED})

SECTION_PREFIX = {
    DiffSection.PROPERTY: "",
    DiffSection.CUSTOM_PROPERTY: "customProperties.",
    DiffSection.ENV: "env.",
    DiffSection.TASK: "tasks.",
    DiffSection.RUN_AS: "runAs.",
    DiffSection.JOB: "",
}


def worth_showing(change: Change) -> bool:
    """Every change, and a no-op that carries diffs, refusals or a reason worth reading; a
    removed key apply leaves alone is only counted in the summary line."""
    if change.is_orphan and not (change.is_change or change.blocks):
        return False
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
    `extend (new points only: 5 of 25)`, `cancel task run[3]`, or the action's word."""
    word = action_word(change.action)
    if change.action is Action.REQUEUE and change.failed_only is not None:
        only = change.failed_only
        counted = f": {only.tasks} of {only.total}" if only.total else ""
        return f"{word} (failed tasks only{counted})"
    if change.action is Action.EXTEND and change.extension is not None:
        ext = change.extension
        return f"{word} (new points only: {ext.points} of {ext.total})"
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


def quoted(value: str, *, literal: bool = False) -> str:
    """A value as typed: a typed literal (number, boolean, duration, enum name) bare, text in
    quotes with inner quotes and backslashes escaped; the planner's `(sensitive)` placeholder
    stays bare (it is no value)."""
    if value == SENSITIVE or literal:
        return neutralise(value)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{neutralise(escaped)}"'


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
    typed = diff.literal
    if diff.before is None:
        return quoted(diff.after or "", literal=typed)
    if diff.after is None:
        return quoted(diff.before, literal=typed)
    before, after = told_apart(
        quoted(diff.before, literal=typed), quoted(diff.after, literal=typed)
    )
    return f"{before} → {after}"


def not_in_place(change: Change, diff: FieldDiff) -> bool:
    """Whether to point out that this field is what keeps the change from happening in place."""
    return not diff.allowed_now and change.action in (Action.REPLACE, Action.UPDATE)


def verdict(plan: Plan) -> str | None:
    """The closing line when apply has nothing to do: "No changes: the cluster matches the
    manifest." only when every selected key's job satisfies it (`Plan.matches`)."""
    if plan.has_changes:
        return None
    if plan.matches and plan.kept_apart():
        return f"No changes: {kept_apart_note(plan)}."
    if plan.matches:
        return "No changes: the cluster matches the manifest."
    unmet = plan.unmet()
    keys = ", ".join(c.key for c in unmet[:5]) + (" …" if len(unmet) > 5 else "")
    return (
        f"No changes apply can make, but the cluster does not match the manifest: "
        f"{count(len(unmet), 'job key')} {'needs' if len(unmet) == 1 else 'need'} attention "
        f"({neutralise(keys)}), see above."
    )


def kept_apart_note(plan: Plan) -> str:
    """ "the cluster matches the manifest, but for 1 job whose spec changed…" (`kept_apart`)."""
    kept = plan.kept_apart()
    keys = ", ".join(c.key for c in kept[:5]) + (" …" if len(kept) > 5 else "")
    return (
        f"the cluster matches the manifest, but for {count(len(kept), 'job')} whose spec "
        f"changed and that onSpecChange: ignore keeps as it is ({neutralise(keys)})"
    )


def removed_note(removed: int) -> str:
    """The one line about removed keys whose jobs still live (their jobs are not listed)."""
    return (
        f"{count(removed, 'job')} of keys removed from the manifest still alive, left alone "
        "(--prune cancels them)."
    )


def insecure_warning() -> str:
    return "TLS verification is off (--insecure): the cluster's identity was not checked"
