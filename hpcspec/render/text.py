"""A plan as terminal text: the summary line first, then one block per change.

```
Plan for stack demo on https://head/hpc: 1 to create, 1 to replace, 2 unchanged

  + mesh: create
      no live job for this key
-/+ solve: replace (job 40, Running, 3 running tasks)
      ~ MinCores: "1" → "2" (cannot change in place)
      ! refused: replacing running job 40 needs consent (pass --allow-replace-running)

2 unchanged jobs not shown.
```

Colour is ANSI and only when asked for; `use_color` is the one place that decides it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from hpcspec.engine.plan import Action, Change, FieldDiff, Plan
from hpcspec.render import phrases
from hpcspec.render.neutralise import neutralise

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
RED = "\x1b[31m"
GREEN = "\x1b[32m"
YELLOW = "\x1b[33m"
CYAN = "\x1b[36m"

ACTION_COLOURS = {
    Action.CREATE: GREEN,
    Action.RERUN: GREEN,
    Action.EXTEND: GREEN,
    Action.UPDATE: YELLOW,
    Action.SUBMIT: CYAN,
    Action.REQUEUE: CYAN,
    Action.REPLACE: RED,
    Action.CANCEL: RED,
    Action.NO_OP: DIM,
}
MARK_COLOURS = {"+": GREEN, "-": RED, "~": YELLOW}


class _Stream(Protocol):
    def isatty(self) -> bool: ...


def use_color(stream: _Stream, env: Mapping[str, str]) -> bool:
    """Colour only on a terminal: never when `NO_COLOR` is set (any value) or `TERM=dumb`."""
    if "NO_COLOR" in env or env.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):  # closed or exotic streams are not TTYs
        return False


def render_text(plan: Plan, *, color: bool, verdict: bool = True) -> str:
    """The whole plan as text; every string from a manifest or the server is neutralised.

    `verdict=False`: no closing line about the manifest (destroy, cancel and requeue plans
    never compare the cluster with it, and say "Nothing to cancel." themselves)."""

    def paint(text: str, *styles: str) -> str:
        return "".join(styles) + text + RESET if color and styles else text

    lines = [
        paint(
            f"Plan for stack {neutralise(plan.stack)} on {neutralise(plan.cluster)}: "
            f"{plan.summary()}",
            BOLD,
        )
    ]
    if plan.insecure:
        lines.append(paint(f"warning: {phrases.insecure_warning()}", BOLD, YELLOW))
    lines += [f"note: {neutralise(note)}" for note in plan.notes]
    shown = [c for c in plan.changes if phrases.worth_showing(c)]
    if shown:
        lines.append("")
    for change in shown:
        lines += _change_lines(change, paint)
    hidden = sum(1 for c in plan.changes if not c.is_orphan and not phrases.worth_showing(c))
    footer = []
    if hidden:
        footer.append(f"{phrases.count(hidden, 'unchanged job')} not shown.")
    removed = len(plan.removed())
    if removed:
        footer.append(phrases.removed_note(removed))
    closing = phrases.verdict(plan) if verdict else None
    if closing:
        footer.append(closing)
    refused = sum(1 for c in plan.changes if c.blocks)
    if refused:
        footer.append(
            paint(
                f"! refused: {phrases.count(refused, 'change')}; apply will not carry "
                "out what is marked refused above.",
                BOLD,
                RED,
            )
        )
    if footer:
        lines += ["", *footer]
    return "\n".join(lines) + "\n"


class _Paint(Protocol):
    def __call__(self, text: str, *styles: str) -> str: ...


def _change_lines(change: Change, paint: _Paint) -> list[str]:
    colour = ACTION_COLOURS[change.action]
    live = phrases.live_label(change)
    word = phrases.action_phrase(change)
    head = f"{change.action.symbol:>3} {neutralise(change.key)}: {word}"
    lines = [paint(head, BOLD, colour) + (f" ({live})" if live else "")]
    lines += [f"      {neutralise(r.message)}" for r in change.reasons]
    lines += [_diff_line(change, d, paint) for d in change.diffs]
    for block in change.blocks:
        hint = f" ({neutralise(block.hint)})" if block.hint else ""
        lines.append(paint(f"      ! refused: {neutralise(block.message)}{hint}", BOLD, RED))
    return lines


def _diff_line(change: Change, diff: FieldDiff, paint: _Paint) -> str:
    mark = phrases.diff_mark(diff)
    note = " (cannot change in place)" if phrases.not_in_place(change, diff) else ""
    body = f"{phrases.field_label(diff)}: {phrases.diff_values(diff)}{note}"
    return "      " + paint(mark, MARK_COLOURS[mark]) + " " + body
