"""JSON a user hands back to hpcspec (saved plans, fault plans), read strictly.

Python's `json` keeps the last of two equal keys, so a hand-edited `"blocked": true` written
below the original would be silently ignored; it also recurses once per nesting level, so a
document nested 100,000 deep ends in a RecursionError. `loads_strict` refuses both, naming the
key path (`changes.0.blocks`), and the documents it reads are never deep: a saved plan is
about six levels. Below every layer (it imports nothing of hpcspec): callers turn
`StrictJsonError` into their own error.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32


class StrictJsonError(ValueError):
    """The text is JSON that hpcspec will not read: a duplicate key or too deep a nesting."""


class _Duplicated(dict[str, Any]):
    """An object that had `duplicate` twice (found while parsing, reported with its path)."""

    duplicate = ""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    marked = _Duplicated(out)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            marked.duplicate = key
            break
        seen.add(key)
    return marked


def key_path(path: tuple[str | int, ...]) -> str:
    """`changes.0.key` (`.` for the document itself)."""
    return ".".join(str(p) for p in path) or "."


def loads_strict(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads(text)`, refusing duplicate keys and nesting deeper than `max_depth`
    (raises StrictJsonError, or json.JSONDecodeError for text that is not JSON)."""
    try:
        data = json.loads(text, object_pairs_hook=_pairs)
    except RecursionError:
        raise StrictJsonError(f"it is nested deeper than {max_depth} levels") from None
    todo: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while todo:
        value, path = todo.pop()
        if len(path) > max_depth:
            raise StrictJsonError(f"{key_path(path)}: nested deeper than {max_depth} levels")
        if isinstance(value, _Duplicated):
            where = key_path((*path, value.duplicate))
            raise StrictJsonError(f"{where}: the key {value.duplicate!r} appears twice")
        if isinstance(value, dict):
            todo.extend((v, (*path, k)) for k, v in value.items())
        elif isinstance(value, list):
            todo.extend((v, (*path, i)) for i, v in enumerate(value))
    return data
