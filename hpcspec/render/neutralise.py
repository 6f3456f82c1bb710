"""Make text from a manifest or the server inert in CI logs, terminals and JSON.

CI runners read their job's stdout line by line and execute some lines as commands:
GitHub Actions a line that starts, after leading whitespace, with `::` (`::set-output`,
`::add-mask::`, `::stop-commands::`) and the older `##[` form; Azure Pipelines `##vso[…]` and the
`##[group]`-style formatting commands (CVE-2020-15228 class; research/ecosystem-reliability.md
R1.5a and R5.7). A job named `::add-mask::x` or a scheduler error holding `##vso[task.setvariable]`
must never become one. Terminals, likewise, must not receive escape sequences from the server.

`neutralise` is what every human renderer (text, markdown) applies to every string it did not
write itself: it removes ANSI escapes and control characters, and puts a zero-width space
(U+200B) inside each command prefix, so the text reads the same to people but no runner
matches it, also once a renderer has written `:` or `[` next to it. JSON needs no such
change to its data: `hpcspec.engine.planfile.dumps` writes the dangerous characters as JSON
`\\u` escapes, which decode to exactly the same strings.
"""

from __future__ import annotations

import json
import re
import unicodedata

ZWSP = "\u200b"

# CSI (`ESC [ … final`), OSC (`ESC ] … BEL|ST`), other two-byte escapes.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?")
# Line breaks in any of the forms a runner or a terminal might honour.
_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# C0 and C1 controls (tab kept), DEL, and bidi overrides that make text read differently.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What a terminal does not show as itself: Unicode categories Cc, Cf, Cs, Zl, Zp (Unicode 15:
# controls, line breaks, bidi controls, zero-width and other format characters, tag
# characters, lone surrogates) and the rest of Default_Ignorable_Code_Point (variation
# selectors, Hangul fillers, the combining grapheme joiner: shown as nothing, or as a blank).
# In a one-line value each is written as an escape, so that two values that differ only by
# them (`build` and `bu\u200bild`, `build` and `build\ufe0f`) never look the same.
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164"
    "\ud800-\udfff\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SURROGATE = re.compile("[\ud800-\udfff]")
# `##vso[` and `##[` are matched anywhere in a line (case-insensitive to be safe); a value
# that ends in `##` or `##vso` is broken too, as a renderer may write `[3]` right after it.
_HASH_COMMAND = re.compile(r"##(?=(?:vso)?(?:\[|\Z))", re.IGNORECASE)
# `::` only counts at the start of a line, after leading whitespace. A value that starts a
# line with one `:` is broken too: the renderer may write `:` right after it (`  :: no change`
# for a job key `:` read from the cluster).
_COLON_COMMAND = re.compile(r"^(\s*):", re.MULTILINE)


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    named = _NAMED.get(char)
    if named:
        return named
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def neutralise(text: str, *, multiline: bool = False) -> str:
    """`text` made safe to print: no escapes or controls, no CI log command prefixes.

    One line (the default: names, keys, values, messages in a plan): every character a
    terminal would not show as itself is written as an escape (`\\n`, `\\r`, `\\t`, `\\x1b`,
    `\\u202e`, `\\u200b`), so a value can neither start a new log line, forge or hide a plan
    line, nor pass for another value. `multiline` (task output, error reports): line breaks
    become plain `\\n`, ANSI escapes (a task's colours), controls and bidi overrides are
    removed, and every line is neutralised.
    """
    if multiline:
        text = _ANSI.sub("", text)
        text = _BREAKS.sub("\n", text)
        text = _CONTROLS.sub("", text)
        text = _SURROGATE.sub("\ufffd", text).replace("\t", " ")
    else:
        text = _INVISIBLE.sub(_shown, text)
    text = _HASH_COMMAND.sub("#" + ZWSP + "#", text)
    return _COLON_COMMAND.sub(lambda m: m.group(1) + ":" + ZWSP, text)


def told_apart(before: str, after: str) -> tuple[str, str]:
    """Two shown values (each already `neutralise`d) that differ but read the same — the same
    text in another Unicode normal form, `é` as one code point or as `e` and a combining
    accent, which a terminal draws alike — with every non-ASCII character written as an
    escape (`Caf\\xe9`, `Cafe\\u0301`), so that a difference is never shown as `"x" → "x"`."""
    if before == after or unicodedata.normalize("NFC", before) != unicodedata.normalize(
        "NFC", after
    ):
        return before, after
    return _ascii(before), _ascii(after)


def _ascii(text: str) -> str:
    return text.encode("ascii", "backslashreplace").decode("ascii")


def inert_json(document: object) -> str:
    """`document` as indented ASCII JSON that is inert in a CI log: every `#` is written
    `\\u0023` (no `##vso[`), every non-ASCII character (C1 controls, U+2028, lone surrogates)
    as a `\\u` escape; each line starts with indentation and `"`, `{`, `[`, `]` or `}`."""
    return json.dumps(document, indent=2).replace("#", "\\u0023")
