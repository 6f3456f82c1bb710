"""YAML text → plain Python data, safely and fast; positions looked up only on the error path.

The fast path is ruamel.yaml's safe loader on the libyaml C parser (`ruamel.yaml.clib`).
It refuses what a manifest never needs and an attacker might use: aliases (and with them alias
bombs), anchors, tags outside YAML's core schema, duplicate keys, files over 20 MB and
nesting deeper than 64. When something is wrong, `locate()` composes the text once more with
the pure-Python composer to find the line and column of a key path.
"""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from hpcspec.manifest.errors import KeyPath, ManifestError

MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64

_CORE_TAGS = frozenset(
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)


class YamlFloat(float):
    """A float that remembers how it was written, so `1e5` in a matrix stays `1e5`."""

    text: str

    def __str__(self) -> str:
        return self.text


class _StrictConstructor(SafeConstructor):
    def construct_object(self, node: Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            raise _Refused("YAML aliases (*name) are not allowed in a manifest", node, alias=True)
        if node.tag not in _CORE_TAGS:
            raise _Refused(f"the YAML tag {node.tag} is not allowed in a manifest", node)
        return super().construct_object(node, deep)

    def construct_yaml_float(self, node: Node) -> Any:
        value = YamlFloat(super().construct_yaml_float(node))
        value.text = str(node.value)
        return value


_StrictConstructor.add_constructor(
    "tag:yaml.org,2002:float", _StrictConstructor.construct_yaml_float
)


class _Refused(Exception):
    def __init__(self, message: str, node: Node, *, alias: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.alias = alias


def _fast_yaml(*, pure: bool = False) -> YAML:
    yaml = YAML(typ="safe", pure=pure)
    yaml.Constructor = _StrictConstructor
    return yaml


def _construct(text: str) -> Any:
    try:
        return _fast_yaml().load(text)
    except MarkedYAMLError as bad:
        # libyaml refuses `{secret: env:NAME}` (a ':' inside a plain scalar in flow context),
        # which YAML 1.2 allows; the pure parser reads it, so only such files pay for it.
        if "found unexpected ':'" not in str(bad.problem):
            raise
        return _fast_yaml(pure=True).load(text)


def parser_backend() -> str:
    """Which YAML parser the fast path uses: `libyaml (C)` or `pure Python`."""
    return "libyaml (C)" if "clib" in YAML(typ="safe").Parser.__module__ else "pure Python"


def load_yaml(text: str, *, file: str) -> Any:
    """Parse manifest text; every refusal is a ManifestError with file, line and column."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise ManifestError(
            f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB",
            code="file-too-large",
            file=file,
        )
    if _may_be_deep(text):
        _refuse_deep(text, file)  # before composing: libyaml's composer recurses in C
    try:
        data = _construct(text)
    except _Refused as refused:
        if refused.alias:
            _refuse_anchors(text, file)  # names the anchor or alias where it is written
        mark = refused.node.start_mark
        raise ManifestError(
            refused.message,
            code="yaml-refused",
            file=file,
            line=mark.line + 1,
            column=mark.column + 1,
            hint="remove the tag and write a plain value",
        ) from None
    except DuplicateKeyError as dup:
        mark = dup.problem_mark
        key = str(dup.problem).split('"')[1] if '"' in str(dup.problem) else "?"
        raise ManifestError(
            f"duplicate key {key!r}",
            code="duplicate-key",
            file=file,
            line=mark.line + 1,
            column=mark.column + 1,
            hint="each key may appear once in a mapping",
        ) from None
    except ConstructorError as bad:
        raise _syntax_error(bad, text, file, code="yaml-refused") from None
    except MarkedYAMLError as bad:
        raise _syntax_error(bad, text, file) from None
    except YAMLError as bad:
        raise ManifestError(f"invalid YAML: {bad}", code="yaml-syntax", file=file) from None
    except ValueError as bad:  # e.g. an integer longer than Python converts (4,300 digits)
        raise ManifestError(
            f"a value cannot be read: {bad}", code="yaml-refused", file=file
        ) from None
    except RecursionError:
        raise ManifestError(
            f"the YAML is nested deeper than {MAX_DEPTH} levels", code="too-deep", file=file
        ) from None
    if "&" in text:
        _refuse_anchors(text, file)
    _check_depth(data, file)
    return data


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
    return ManifestError(
        f"invalid YAML: {problem}",
        code=code,
        file=file,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        hint=hint,
    )


_FLOW = re.compile(r"[\[\]{}]")
_INDENT = re.compile(r"^ *", re.MULTILINE)


def _may_be_deep(text: str) -> bool:
    """A cheap over-estimate: deep indentation, or deep bracket nesting ignoring quotes."""
    if max((len(m) for m in _INDENT.findall(text)), default=0) >= MAX_DEPTH:
        return True
    depth = worst = 0
    for match in _FLOW.finditer(text):
        depth += 1 if match.group() in "[{" else -1
        worst = max(worst, depth)
        if worst >= MAX_DEPTH:
            return True
    return False


def _refuse_deep(text: str, file: str) -> None:
    """Count nesting on the parser's event stream, which is iterative, not recursive."""
    try:
        events = _fast_yaml().parse(text)
        _count_depth(events, file)
    except MarkedYAMLError:
        _count_depth(_fast_yaml(pure=True).parse(text), file)


def _count_depth(events: Any, file: str) -> None:
    depth = 0
    for event in events:
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


def _refuse_anchors(text: str, file: str) -> None:
    # Anchors survive only as parser events; the C parser makes this scan cheap.
    try:
        events = list(_fast_yaml().parse(text))
    except MarkedYAMLError:
        # libyaml refused something YAML 1.2 allows (see _construct): scan with the pure parser.
        events = list(_fast_yaml(pure=True).parse(text))
    for event in events:
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


def _check_depth(data: Any, file: str) -> None:
    stack: list[tuple[Any, int, KeyPath]] = [(data, 1, ())]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, dict):
            children: Any = value.items()
        elif isinstance(value, list):
            children = enumerate(value)
        else:
            continue
        if depth > MAX_DEPTH:
            raise ManifestError(
                f"the YAML is nested deeper than {MAX_DEPTH} levels",
                code="too-deep",
                path=path,
                file=file,
            )
        stack.extend((child, depth + 1, (*path, key)) for key, child in children)


def locate(text: str, path: KeyPath) -> tuple[int, int] | None:
    """1-based (line, column) of the deepest node on `path` (the key itself for a mapping)."""
    try:
        node = YAML(typ="safe", pure=True).compose(text)
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
