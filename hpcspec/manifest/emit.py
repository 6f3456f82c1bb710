"""A manifest tree → YAML text, written directly and in linear time, for `hpcspec import`.

The tree is what `export.py` builds: dicts written as block mappings, `FlowMap`s and `Flow`
lists written on one line (`{start: 1, end: 9}`, `[prep, solve]`), and scalars (str, int,
bool). A string is written plain only when the loader reads it back as that very string
(`yamlcore.resolve_tag` says str, and no YAML indicator can misread it); otherwise single-
quoted, or double-quoted with escapes when it holds characters a single-quoted scalar cannot
carry. ruamel's round-trip dumper did this at 2.2 ms per task (a 32,000-task import took
over a minute); this writer does one pass over the tree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from ruamel.yaml.nodes import ScalarNode

from hpcspec.manifest.yamlcore import STR, resolve_tag

Scalar = str | int | bool


class Flow(list[Scalar]):
    """A list of scalars written on one line: `[a, b]`."""


class FlowMap(dict[str, Scalar]):
    """A mapping of scalars written on one line: `{a: 1, b: x}`."""


class Block(dict[str, object]):
    """A block mapping with an optional comment line above its first key."""

    comment: str | None = None


class Shared(Block):
    """A block mapping that many places of one tree hold (the properties thousands of tasks
    share): written once per indent, its lines reused. Never changed once built."""


_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
# Texts plain in any context without further checks: ASCII letters, digits and a few marks
# that are no YAML indicator, not starting with a character any implicit tag (bool, null,
# number, timestamp, merge) can start with — F N T f n t among letters, per
# `yamlcore._IMPLICIT` — and not ending in a space. Most names, paths and command lines are.
_SURELY_PLAIN = re.compile(
    r"[A-EG-MO-SU-Za-eg-mo-su-z_/\\](?:[\w./\\ =+()$-]*[\w./\\=+()$-])?", re.ASCII
)
_FLOW_UNSAFE = re.compile(r"[,\[\]{}:#?]")  # libyaml also refuses "?" in a flow plain scalar


def scalar(value: Scalar, *, flow: bool = False) -> str:
    """One scalar as YAML text that reads back as `value`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    texts = _FLOW_TEXTS if flow else _BLOCK_TEXTS
    return texts.get(value) or _decide(value, flow)


def _text(value: str, flow: bool) -> str:
    if _plain_ok(value, flow):
        return value
    if value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    return _double_quoted(value)


# Keys and many values repeat thousands of times in a big job (MinCores, "1", the work
# directory): each distinct text is decided once (`_decide`), then looked up.
_BLOCK_TEXTS: dict[str, str] = {}
_FLOW_TEXTS: dict[str, str] = {}
_TEXTS_KEPT = 8192


def _decide(value: str, flow: bool) -> str:
    if len(_BLOCK_TEXTS) >= _TEXTS_KEPT or len(_FLOW_TEXTS) >= _TEXTS_KEPT:
        _BLOCK_TEXTS.clear()
        _FLOW_TEXTS.clear()
    if _SURELY_PLAIN.fullmatch(value):  # plain in both contexts (a task's key, then its name
        _BLOCK_TEXTS[value] = _FLOW_TEXTS[value] = value  # in a dependsOn list)
        return value
    if value.isdigit() and value.isascii():  # an int to YAML: quoted, also in both contexts
        _BLOCK_TEXTS[value] = _FLOW_TEXTS[value] = text = f"'{value}'"
        return text
    texts = _FLOW_TEXTS if flow else _BLOCK_TEXTS
    texts[value] = text = _text(value, flow)
    return text


def _plain_ok(text: str, flow: bool) -> bool:
    # Plain only when it cannot be misread: printable (so no tab or line break), no leading
    # indicator, no whitespace at either end, no ": " or " #" inside, no ":" at the end.
    # Substring tests, not a regular expression: this runs once per distinct text.
    if not text or not text.isprintable():
        return False
    first, last = text[0], text[-1]
    if first in _INDICATORS or first.isspace() or last.isspace() or last == ":":
        return False
    if ": " in text or " #" in text:
        return False
    if flow and _FLOW_UNSAFE.search(text):
        return False
    return resolve_tag(ScalarNode, text, (True, False)) is STR


def _double_quoted(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    # JSON leaves DEL, C1 controls, line and paragraph separators and BOMs raw; YAML needs
    # them escaped (they are not c-printable, or they break lines inside a quoted scalar).
    return "".join(c if c.isprintable() else _escape(c) for c in quoted)


def _comment(text: str, pad: str) -> list[str]:
    """`# ` lines, one per `\\n` of `text`. A comment can quote the cluster's words (an
    imported job's identity tags): every character that is not printable is escaped, for a
    `\\r` (or U+0085, U+2028) would end the comment for a YAML reader, whatever a terminal
    shows, and the rest of the line would be read as manifest."""
    lines = ("".join(c if c.isprintable() else _escape(c) for c in t) for t in text.split("\n"))
    return [f"{pad}# {line}\n" if line else f"{pad}#\n" for line in lines]


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _flow(value: object) -> str:
    if isinstance(value, Flow):
        return "[" + ", ".join([scalar(v, flow=True) for v in value]) + "]"
    if isinstance(value, FlowMap):
        items = ", ".join(
            f"{scalar(k, flow=True)}: {scalar(v, flow=True)}" for k, v in value.items()
        )
        return "{" + items + "}"
    raise TypeError(f"not a flow collection: {type(value).__name__}")


def write(tree: Mapping[str, object], header: Iterable[str] = ()) -> str:
    """The whole document: `# ` header lines, then the tree as a block mapping."""
    out = [line for text in header for line in _comment(text, "")]
    _mapping(tree, 0, out, {})
    return "".join(out)


def _mapping(
    mapping: Mapping[str, object],
    indent: int,
    out: list[str],
    shared: dict[tuple[int, int], list[str]],
) -> None:
    # Runs once per task of jobs with 100,000 of them: dispatch on the exact type first.
    pad = " " * indent
    comment = getattr(mapping, "comment", None)
    if comment:
        out.extend(_comment(comment, pad))
    append, get = out.append, _BLOCK_TEXTS.get
    for key, value in mapping.items():
        kind = type(value)
        name = get(key) or _decide(key, False)
        if kind is str:  # the common case first: one line, no further checks
            text: str = value  # type: ignore[assignment]  # kind is str (no cast(): a call)
            append(f"{pad}{name}: {get(text) or _decide(text, False)}\n")
        elif kind is Shared and value:
            append(f"{pad}{name}:\n")
            lines = shared.get((id(value), indent))  # the tree holds it: its id is stable
            if lines is None:
                start = len(out)
                _mapping(value, indent + 2, out, shared)  # type: ignore[arg-type]
                shared[(id(value), indent)] = out[start:]
            else:
                out += lines
        elif kind is Block and value:
            append(f"{pad}{name}:\n")
            _mapping(value, indent + 2, out, shared)  # type: ignore[arg-type]
        elif kind is Flow or kind is FlowMap:
            append(f"{pad}{name}: {_flow(value)}\n")
        elif kind is int or kind is bool:
            append(f"{pad}{name}: {scalar(value)}\n")  # type: ignore[arg-type]
        elif isinstance(value, dict):
            if not value:
                append(f"{pad}{name}: {{}}\n")
                continue
            append(f"{pad}{name}:\n")
            _mapping(value, indent + 2, out, shared)
        elif isinstance(value, list):
            if not value:
                append(f"{pad}{name}: []\n")
                continue
            append(f"{pad}{name}:\n")
            for item in value:
                text = _flow(item) if isinstance(item, Flow | FlowMap) else scalar(item)
                append(f"{pad}  - {text}\n")
        else:
            append(f"{pad}{name}: {scalar(value)}\n")  # type: ignore[arg-type]
