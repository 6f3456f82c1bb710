"""A plan as GitHub-flavoured markdown, for pull-request comments and CI job summaries.

Layout: a hidden marker line (`<!-- hpcspec-plan stack=… digest=… -->`, so a bot can find and
update its one comment), a heading naming the stack and cluster, the summary line, warnings,
a table of action counts, then one folded `<details>` section per job worth showing. The
result stays within `limit` characters (GitHub refuses comments over 65,536): whole job
sections are cut from the end and a closing note says how many, and of which actions.

User and server text is neutralised (no CI log commands) and then escaped: every character
with a meaning in markdown or HTML becomes a numeric entity, and `@` is followed by a
zero-width space so a job named `@org/team` mentions nobody (as are `#12` and `GH-12`, so
no issue is linked or marked as mentioned; GitLab's `!12`, `&12`, `%12`, `$12` likewise).
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import quote

from hpcspec.engine.plan import Action, Change, Plan
from hpcspec.engine.planfile import plan_digest
from hpcspec.render import phrases
from hpcspec.render.neutralise import ZWSP, neutralise

DEFAULT_LIMIT = 60_000
# Inline syntax anywhere (emphasis, code, links, tables, strikethrough, HTML, entities, math).
_INLINE = "\\`*_[]<>&~|$"
_ESCAPES = {ord(c): f"&#{ord(c)};" for c in _INLINE}
# Block syntax where text starts a line, a list item or a quote: headings, lists, rules.
_BLOCK_START = re.compile(r"^(\s*)([#+\-=]|\d+[.)])")
# What a forge links in text, even inside HTML and after entities are decoded: `@user` and
# `@org/team` mentions (they notify) and references that mark what they name as mentioned by
# this pull request — GitHub's `#12`, `org/repo#12`, `GH-12`; GitLab's `!12` (merge request),
# `&12` (epic), `%12` (milestone), `$12` (snippet); Azure Repos' `!12` (pull request). A
# zero-width space after the sigil keeps each one text.
_PING = re.compile(r"@|(?:[#!&%$]|\bGH-)(?=\d)", re.IGNORECASE)


def unlinked(text: str) -> str:
    """`text` with every mention and issue reference kept as text (it reads the same)."""
    return _PING.sub(lambda m: m.group() + ZWSP, text)


def escape(text: str) -> str:
    """Already-neutralised text made literal in markdown and HTML (it reads the same)."""
    text = unlinked(text).translate(_ESCAPES)
    match = _BLOCK_START.match(text)
    if match:
        lead, marker = match.groups()
        text = "&#32;" * len(lead) + marker[:-1] + f"&#{ord(marker[-1])};" + text[match.end() :]
    return text


def literal(value: str) -> str:
    """User or server text, neutralised and escaped."""
    return escape(neutralise(value))


def marker(plan: Plan) -> str:
    """The hidden first line a bot looks for: `<!-- hpcspec-plan stack=NAME digest=… -->`."""
    return f"<!-- hpcspec-plan stack={quote(plan.stack, safe='')} digest={plan_digest(plan)} -->"


def render_markdown(plan: Plan, *, limit: int = DEFAULT_LIMIT) -> str:
    """The plan as markdown of at most `limit` characters."""
    head = _head(plan)
    shown = [c for c in plan.changes if phrases.worth_showing(c)]
    hidden = sum(1 for c in plan.changes if not c.is_orphan and not phrases.worth_showing(c))
    tail = f"_{phrases.count(hidden, 'unchanged job')} not listed._\n" if hidden else ""
    removed = len(plan.removed())
    tail += f"_{escape(phrases.removed_note(removed))}_\n" if removed else ""
    sections = [_section(c) for c in shown]
    kept = len(sections)
    if len(head) + len(tail) + sum(map(len, sections)) > limit:
        kept = _fitting(sections, limit - len(head) - len(tail) - len(_cut_note(shown, 0)))
    body = head + "".join(sections[:kept])
    if kept < len(sections):
        body += _cut_note(shown, kept)
    body += tail
    if len(body) > limit:  # only when the head alone overflows a tiny limit
        note = _cut_note(shown, 0)
        body = body[: max(0, limit - len(note))] + note
    return body[:limit]


def _fitting(sections: list[str], room: int) -> int:
    """How many sections from the start fit in `room` characters (the longest cut note is
    already set aside)."""
    kept = 0
    for section in sections:
        if len(section) > room:
            break
        room -= len(section)
        kept += 1
    return kept


def _head(plan: Plan) -> str:
    out = [
        marker(plan),
        f"### hpcspec plan: stack <code>{literal(plan.stack)}</code> "
        f"on <code>{literal(plan.cluster)}</code>",
        "",
        f"**{escape(plan.summary())}**"
        if plan.has_changes or not plan.matches
        else f"**No changes.** {escape(_first_upper(phrases.kept_apart_note(plan)))} "
        f"({escape(plan.summary())})."
        if plan.kept_apart()
        else f"**No changes.** The cluster matches the manifest ({escape(plan.summary())}).",
        "",
    ]
    if plan.insecure:
        out += [f"> **Warning:** {escape(phrases.insecure_warning())}", ""]
    refused = [c.key for c in plan.changes if c.blocks]
    if refused:
        names = ", ".join(f"<code>{literal(k)}</code>" for k in refused[:10])
        more = f" and {len(refused) - 10} more" if len(refused) > 10 else ""
        out += [
            f"> **Refused:** {phrases.count(len(refused), 'change')} "
            f"({names}{more}): apply will not carry out what is marked refused below.",
            "",
        ]
    verdict = phrases.verdict(plan)
    if verdict and not plan.matches:
        out += [f"> **Attention:** {escape(verdict)}", ""]
    out += [f"> {literal(note)}" for note in plan.notes]
    if plan.notes:
        out.append("")
    counts = plan.counts()
    out += ["| Action | Jobs |", "| :-- | --: |"]
    out += [
        f"| <code>{escape(a.symbol.strip() or '=')}</code> {escape(phrases.action_word(a))} "
        f"| {counts[a]} |"
        for a in Action
        if counts[a]
    ]
    return "\n".join(out) + "\n\n"


def _section(change: Change) -> str:
    live = phrases.live_label(change)
    symbol = escape(change.action.symbol.strip() or "=")
    summary = (
        f"<code>{symbol}</code> <b>{literal(change.key)}</b>: "
        f"{escape(phrases.action_phrase(change))}"
        + (f" ({escape(live)})" if live else "")
        + (" — <b>refused</b>" if change.blocks else "")
    )
    out = [f"<details{' open' if change.blocks else ''}><summary>{summary}</summary>", ""]
    out += [f"- {literal(r.message)}" for r in change.reasons]
    if change.reasons:
        out.append("")
    if change.diffs:
        out += ["| | Field | Change |", "| :-: | :-- | :-- |"]
        for diff in change.diffs:
            note = " (cannot change in place)" if phrases.not_in_place(change, diff) else ""
            out.append(
                f"| <code>{escape(phrases.diff_mark(diff))}</code> "
                f"| <code>{escape(phrases.field_label(diff))}</code> "
                f"| {escape(phrases.diff_values(diff) + note)} |"
            )
        out.append("")
    for block in change.blocks:
        hint = f" ({literal(block.hint)})" if block.hint else ""
        out += [f"**Refused:** {literal(block.message)}{hint}", ""]
    out += ["</details>", ""]
    return "\n".join(out) + "\n"


def _cut_note(shown: list[Change], kept: int) -> str:
    cut = shown[kept:]
    if not cut:
        return ""
    by_action = Counter(c.action for c in cut)
    detail = ", ".join(f"{by_action[a]} {a.verb}" for a in Action if by_action[a])
    return (
        f"… {phrases.count(len(cut), 'more job')} not shown (plan too large: {detail}); "
        "run hpcspec plan locally or read the JSON plan.\n\n"
    )


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]
