"""YAML text → plain Python data, safely and fast; positions looked up only on the error path.

The fast path is libyaml's composer (`ruamel.yaml.clib`) with hpcspec's YAML 1.2 core-schema
resolver and value builder (`yamlcore`), faster than ruamel's own safe loader. It refuses what
a manifest never needs and an attacker might use: aliases (and with them alias bombs),
anchors, merge keys, tags outside YAML's core schema, duplicate keys, files over 20 MB and
nesting deeper than 64 — each at its line and column. When a later stage finds something
wrong, `locate()` composes the text once more with the pure-Python composer to find the line
and column of a key path.
"""

from __future__ import annotations

import functools
import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import accumulate
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.nodes import MappingNode, SequenceNode

from hpcspec.manifest import yamlcore
from hpcspec.manifest.errors import KeyPath, ManifestError

MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64

YamlFloat = yamlcore.YamlFloat


def _parse_events(text: str, *, pure: bool = False) -> Any:
    return YAML(typ="safe", pure=pure or not yamlcore.c_parser_available()).parse(text)


def _compose(text: str) -> Any:
    try:
        return yamlcore.compose(text)
    except MarkedYAMLError as bad:
        # libyaml refuses `{secret: env:NAME}` (a ':' inside a plain scalar in flow context),
        # which YAML 1.2 allows; the pure parser reads it, so only such files pay for it.
        if "found unexpected ':'" not in str(bad.problem):
            raise
        return yamlcore.compose(text, pure=True)


def parser_backend() -> str:
    """Which YAML parser the fast path uses: `libyaml (C)` or `pure Python`."""
    return "libyaml (C)" if yamlcore.c_parser_available() else "pure Python"


def load_yaml(text: str, *, file: str) -> Any:
    """Parse manifest text; every refusal is a ManifestError with file, line and column."""
    if len(text) > MAX_BYTES // 4 and len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise ManifestError(
            f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB",
            code="file-too-large",
            file=file,
        )
    if _may_be_deep(text):
        _refuse_deep(text, file)  # before composing: libyaml's composer recurses in C
    if "&" in text and _ANCHOR_CANDIDATE.search(text):
        _refuse_anchors(text, file)  # before building: aliases could multiply the data
    try:
        node = _compose(text)
        return None if node is None else yamlcore.build(node, MAX_DEPTH)
    except yamlcore.Refused as refused:
        if refused.alias:
            _refuse_anchors(text, file)  # names the anchor or alias where it is written
        mark = refused.node.start_mark if refused.node is not None else None
        raise ManifestError(
            refused.message,
            code=_refusal_code(refused.message),
            file=file,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint=_refusal_hint(refused.message),
        ) from None
    except MarkedYAMLError as bad:
        raise _syntax_error(bad, text, file) from None
    except YAMLError as bad:
        raise _unmarked_error(bad, text, file) from None
    except RecursionError:
        raise ManifestError(
            f"the YAML is nested deeper than {MAX_DEPTH} levels", code="too-deep", file=file
        ) from None


@functools.cache  # compiled on the error path only: it costs start-up time (wide ranges)
def _non_printable() -> re.Pattern[str]:
    """Characters YAML 1.2 does not let a stream hold (not c-printable): a reader error."""
    return re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _unmarked_error(bad: YAMLError, text: str, file: str) -> ManifestError:
    """A YAML error without a mark (the reader's): located by finding the character."""
    found = _non_printable().search(text)
    if found is None:
        return ManifestError(f"invalid YAML: {bad}", code="yaml-syntax", file=file)
    where = found.start()
    line_start = text.rfind("\n", 0, where) + 1
    return ManifestError(
        f"invalid YAML: the character U+{ord(found.group()):04X} is not allowed in YAML",
        code="yaml-syntax",
        file=file,
        line=text.count("\n", 0, where) + 1,
        column=where - line_start + 1,
        hint="remove it, or write it as an escape inside a double-quoted string (\\u0001)",
    )


def _refusal_code(message: str) -> str:
    if message.startswith("duplicate key"):
        return "duplicate-key"
    if message.startswith("the YAML is nested"):
        return "too-deep"
    return "yaml-refused"


def _refusal_hint(message: str) -> str | None:
    if message.startswith("duplicate key"):
        return "each key may appear once in a mapping"
    if "tag" in message:
        return "remove the tag and write a plain value"
    if "merge keys" in message:
        return "write the merged keys out in full"
    if "cannot be read" in message:
        return "quote the value to keep it as text"
    return None


def _syntax_error(
    bad: MarkedYAMLError, text: str, file: str, code: str = "yaml-syntax"
) -> ManifestError:
    mark = bad.problem_mark or bad.context_mark
    problem = bad.problem or bad.context or "invalid YAML"
    hint = None
    if mark is not None:
        lines = text.splitlines()
        line = lines[mark.line] if mark.line < len(lines) else ""
        if "\t" in line[: mark.column + 1]:
            hint = "YAML indentation must use spaces, not tabs"
            problem = "a tab character where YAML expects spaces"
        elif _unquoted_var_in_flow(line[: mark.column + 1]):
            hint = (
                "'${…}' inside a flow mapping or list ({…}, […]) is not valid YAML: quote the "
                "value ('${name}') or write it in block style"
            )
    return ManifestError(
        f"invalid YAML: {problem}",
        code=code,
        file=file,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        hint=hint,
    )


def _unquoted_var_in_flow(before: str) -> bool:
    """Whether `before` (a line up to an error) holds an unquoted `${` inside an unclosed `{`
    or `[`: YAML reads its `{` as a flow indicator (docs/manifest.md, the *Tip* under Sweeps)."""
    depth, quote = 0, ""
    for at, char in enumerate(before):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "$" and before.startswith("${", at) and depth > 0:
            return True
        else:
            depth += _BRACKET_STEP.get(char, 0)
    return False


_FLOW = re.compile(r"[^\[\]{}]+")
_DEEP_INDENT = re.compile(rf"^ {{{MAX_DEPTH}}}", re.MULTILINE)
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# Where an anchor can start: at a line's start, after a flow indicator, `-`, `?` or `:`, or
# after a tag. A superset (`a, &b` in a plain scalar matches too); a match costs one event scan.
_ANCHOR_CANDIDATE = re.compile(r"(?:^|[\[{,:?\-])[ \t]*&|![^\s]*[ \t]+&", re.MULTILINE)


def _may_be_deep(text: str) -> bool:
    """A cheap over-estimate: deep indentation, or deep bracket nesting ignoring quotes."""
    if _DEEP_INDENT.search(text):
        return True
    if text.count("[") + text.count("{") < MAX_DEPTH:
        return False
    brackets = _FLOW.sub("", text)
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0) >= MAX_DEPTH


def _events(text: str) -> Any:
    """Every parser event, from the C parser, or the pure one where libyaml refuses the text."""
    try:
        yield from _parse_events(text)
    except MarkedYAMLError as bad:
        if "found unexpected ':'" not in str(bad.problem):
            raise
        yield from _parse_events(text, pure=True)


def _refuse_deep(text: str, file: str) -> None:
    """Count nesting on the parser's event stream, which is iterative, not recursive."""
    depth = 0
    try:
        for event in _events(text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    raise ManifestError(
                        f"the YAML is nested deeper than {MAX_DEPTH} levels",
                        code="too-deep",
                        file=file,
                        line=mark.line + 1,
                        column=mark.column + 1,
                    )
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except MarkedYAMLError as bad:
        raise _syntax_error(bad, text, file) from None


def _refuse_anchors(text: str, file: str) -> None:
    # Anchors survive only as parser events; the C parser makes this scan cheap.
    try:
        for event in _events(text):
            if getattr(event, "anchor", None):
                mark = event.start_mark
                kind = "aliases (*" if type(event).__name__ == "AliasEvent" else "anchors (&"
                raise ManifestError(
                    f"YAML {kind}{event.anchor}) are not allowed in a manifest",
                    code="yaml-refused",
                    file=file,
                    line=mark.line + 1,
                    column=mark.column + 1,
                    hint="write the value out in full",
                )
    except MarkedYAMLError as bad:
        raise _syntax_error(bad, text, file) from None


def locate(text: str, path: KeyPath) -> tuple[int, int] | None:
    """1-based (line, column) of the deepest node on `path` (the key itself for a mapping)."""
    try:
        node = _compose(text)  # libyaml: a 14 MB manifest's error is located in seconds
    except YAMLError:
        return None
    found: tuple[int, int] | None = None
    if node is not None:
        found = (node.start_mark.line + 1, node.start_mark.column + 1)
    for part in path:
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if str(key_node.value) == str(part):
                    found = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                    node = value_node
                    break
            else:
                return found
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            found = (node.start_mark.line + 1, node.start_mark.column + 1)
        else:
            return found
    return found


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Build without Python's cyclic garbage collector, then turn it back on.

    Nothing a manifest builds forms reference cycles, and on a large one the collector's
    repeated passes over millions of young objects make loading superlinear: a 100,000-task
    manifest loaded 3.5x slower and validated 6x slower with it on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
