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

import functools
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


_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_UNSAFE = re.compile(r"[,\[\]{}:#?]")  # libyaml also refuses "?" in a flow plain scalar
_BLOCK_UNSAFE = re.compile(r": |:$| #|\t")


def scalar(value: Scalar, *, flow: bool = False) -> str:
    """One scalar as YAML text that reads back as `value`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _flow_text(value) if flow else _block_text(value)


def _text(value: str, flow: bool) -> str:
    if _plain_ok(value, flow):
        return value
    if value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    return _double_quoted(value)


# Keys and many values repeat thousands of times in a big job (MinCores, "1", the work
# directory): each distinct text is decided once.
_block_text = functools.lru_cache(maxsize=8192)(lambda value: _text(value, False))
_flow_text = functools.lru_cache(maxsize=8192)(lambda value: _text(value, True))


def _plain_ok(text: str, flow: bool) -> bool:
    if not text or text != text.strip() or not text.isprintable():
        return False
    if text[0] in _INDICATORS or _BLOCK_UNSAFE.search(text):
        return False
    if flow and _FLOW_UNSAFE.search(text):
        return False
    return resolve_tag(ScalarNode, text, (True, False)) is STR


def _double_quoted(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    # JSON leaves DEL, C1 controls, line and paragraph separators and BOMs raw; YAML needs
    # them escaped (they are not c-printable, or they break lines inside a quoted scalar).
    return "".join(c if c.isprintable() else _escape(c) for c in quoted)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _flow(value: object) -> str:
    if isinstance(value, FlowMap):
        items = ", ".join(
            f"{scalar(k, flow=True)}: {scalar(v, flow=True)}" for k, v in value.items()
        )
        return "{" + items + "}"
    if isinstance(value, Flow):
        return "[" + ", ".join(scalar(v, flow=True) for v in value) + "]"
    raise TypeError(f"not a flow collection: {type(value).__name__}")


def write(tree: Mapping[str, object], header: Iterable[str] = ()) -> str:
    """The whole document: `# ` header lines, then the tree as a block mapping."""
    out = [f"# {line}\n" if line else "#\n" for text in header for line in text.split("\n")]
    _mapping(tree, 0, out)
    return "".join(out)


def _mapping(mapping: Mapping[str, object], indent: int, out: list[str]) -> None:
    pad = " " * indent
    if isinstance(mapping, Block) and mapping.comment:
        out.extend(f"{pad}# {line}\n" for line in mapping.comment.split("\n"))
    append, block = out.append, _block_text
    for key, value in mapping.items():
        kind = type(value)
        if kind is str:  # the common case first: one line, no further checks
            append(f"{pad}{block(key)}: {block(value)}\n")
        elif kind is Flow or kind is FlowMap:
            append(f"{pad}{block(key)}: {_flow(value)}\n")
        elif kind is int or kind is bool:
            append(f"{pad}{block(key)}: {scalar(value)}\n")  # type: ignore[arg-type]
        elif isinstance(value, dict):
            if not value:
                append(f"{pad}{block(key)}: {{}}\n")
                continue
            append(f"{pad}{block(key)}:\n")
            _mapping(value, indent + 2, out)
        elif isinstance(value, list):
            if not value:
                append(f"{pad}{block(key)}: []\n")
                continue
            append(f"{pad}{block(key)}:\n")
            for item in value:
                text = _flow(item) if isinstance(item, Flow | FlowMap) else scalar(item)
                append(f"{pad}  - {text}\n")
        else:
            append(f"{pad}{block(key)}: {scalar(value)}\n")  # type: ignore[arg-type]
