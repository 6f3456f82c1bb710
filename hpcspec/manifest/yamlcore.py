"""YAML text → node tree → plain Python values, under the YAML 1.2 core schema, fast.

ruamel.yaml's safe loader asks `VersionedResolver.processing_version` for every node, and that
property takes an exception path each time: on a 100,000-task manifest it is half of a bare
`YAML(typ='safe').load`. Here the libyaml composer (`ruamel.yaml.clib`) is given a resolver
with the same rules bound once — ruamel's own YAML 1.2 regular expressions, tried in ruamel's
order — and the node tree is turned into values in one pass that also does what the manifest
needs: it refuses duplicate keys, merge keys, aliases, tags outside the core schema and nesting
deeper than `max_depth`, each at the node's line and column (`Refused`). Values are those
ruamel's `SafeConstructor` gives (tests/manifest/test_yamlcore.py proves it on every core
scalar form), except that floats are `YamlFloat`s that remember how they were written.

Each node is emptied once its value is built, so the tree is released as the values grow and
a node met twice (an alias) is recognised without bookkeeping.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.nodes import Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import BaseResolver, implicit_resolvers
from ruamel.yaml.tag import Tag
from ruamel.yaml.util import create_timestamp, timestamp_regexp

try:  # the C parser; without it every file takes the pure-Python path
    from _ruamel_yaml import CParser  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - ruamel.yaml.clib is a dependency
    CParser = None

_PREFIX = "tag:yaml.org,2002:"
_TAGS = {name: Tag(suffix=_PREFIX + name) for name in ("str", "seq", "map")}
STR, SEQ, MAP = _TAGS["str"], _TAGS["seq"], _TAGS["map"]


class YamlFloat(float):
    """A float that remembers how it was written, so `1e5` in a matrix stays `1e5`."""

    text: str

    def __str__(self) -> str:
        return self.text


class Refused(Exception):
    """Something a manifest may not hold, at `node` (None when the node is not known)."""

    def __init__(self, message: str, node: Node | None, *, alias: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.alias = alias


def _int(text: str) -> int:
    # SafeConstructor.construct_yaml_int, YAML 1.2 branch
    digits = text.replace("_", "")
    sign = -1 if digits[0] == "-" else 1
    if digits[0] in "+-":
        digits = digits[1:]
    if digits == "0":
        return 0
    for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits)


def _float(text: str) -> YamlFloat:
    # SafeConstructor.construct_yaml_float, YAML 1.2 branch
    digits = text.replace("_", "").lower()
    sign = -1 if digits[0] == "-" else 1
    if digits[0] in "+-":
        digits = digits[1:]
    if digits == ".inf":
        value = YamlFloat(sign * float("inf"))
    elif digits == ".nan":
        value = YamlFloat("nan")
    else:
        value = YamlFloat(sign * float(digits))
    value.text = text
    return value


def _timestamp(text: str) -> Any:
    match = timestamp_regexp.match(text)
    if match is None:
        raise ValueError(f"failed to construct timestamp from {text!r}")
    return create_timestamp(**match.groupdict())


_SCALARS: dict[str, Callable[[str], Any]] = {
    "str": str,
    "int": _int,
    "float": _float,
    "bool": lambda text: SafeConstructor.bool_values[text.lower()],
    "null": lambda text: None,
    "timestamp": _timestamp,
}
# Resolved tags are these very objects, so the builder tells them apart by identity.
_SCALAR_TAGS: dict[Tag, Callable[[str], Any]] = {
    STR: str,
    **{Tag(suffix=_PREFIX + name): make for name, make in _SCALARS.items() if name != "str"},
}
_BY_NAME: dict[str, Tag] = {str(tag): tag for tag in [*_SCALAR_TAGS, SEQ, MAP]}
_MERGE = Tag(suffix=_PREFIX + "merge")
_VALUE = Tag(suffix=_PREFIX + "value")  # `=`: a string as a mapping key, refused elsewhere

# first character of a plain scalar -> [(tag, pattern.match)], in ruamel's order
_IMPLICIT: dict[str, list[tuple[Tag, Callable[[str], object]]]] = {}
for _versions, _name, _regexp, _first in implicit_resolvers:
    if (1, 2) in _versions:
        _tag = _BY_NAME.get(_name) or {str(t): t for t in (_MERGE, _VALUE)}.get(_name)
        _tag = _tag or Tag(suffix=_name)
        for _char in _first:
            _IMPLICIT.setdefault(_char, []).append((_tag, _regexp.lazy_self().match))
_NULL = _IMPLICIT[""][0][0]


def resolve_tag(kind: type, value: str, implicit: tuple[bool, bool]) -> Tag:
    """The tag of an untagged node: YAML 1.2 core schema, as ruamel resolves it."""
    # Called by the composer once per node: kept to the fewest operations.
    if kind is ScalarNode:
        if implicit[0]:
            if not value:
                return _NULL
            candidates = _IMPLICIT.get(value[0])
            if candidates:
                for tag, match in candidates:
                    if match(value):
                        return tag
        return STR
    return SEQ if kind is SequenceNode else MAP


class CoreResolver(BaseResolver):
    """ruamel's resolver interface around `resolve_tag`, for the pure-Python composer."""

    def __init__(self, version: Any = None, loader: Any = None, loadumper: Any = None) -> None:
        super().__init__(loadumper=loader or loadumper)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        return resolve_tag(kind, value, implicit)

    @property
    def processing_version(self) -> Any:
        return (1, 2)


if CParser is not None:

    class _CoreParser(CParser):  # type: ignore[misc]
        """libyaml's composer with `resolve_tag`; path resolvers are never used."""

        # The composer calls these three once per node. Plain callables, no bound method:
        # resolve_tag itself, and C built-ins that do nothing useful for the two hooks
        # ruamel needs only for path resolvers (`is_` takes two arguments, `tuple` none).
        resolve = staticmethod(resolve_tag)
        descend_resolver = staticmethod(operator.is_)
        ascend_resolver = staticmethod(tuple)


def compose(text: str, *, pure: bool = False) -> Node | None:
    """The node tree of a single-document stream (None when empty); YAMLError when invalid."""
    if pure or CParser is None:
        yaml = YAML(typ="safe", pure=True)
        yaml.Resolver = CoreResolver
        node: Node | None = yaml.compose(text)
        return node
    parser = _CoreParser(text)
    try:
        return parser.get_single_node()  # type: ignore[no-any-return]
    finally:
        parser.dispose()


def c_parser_available() -> bool:
    """Whether libyaml (the C parser) is there to compose with."""
    return CParser is not None


def build(node: Node, max_depth: int) -> Any:
    """The Python value of a node tree; `Refused` for what a manifest may not hold."""
    scalars = _SCALAR_TAGS

    def value_of(node: Node, depth: int) -> Any:
        kind = node.__class__
        raw = node.value
        if raw is None:  # emptied already: this node is reached a second time
            raise Refused("YAML aliases (*name) are not allowed in a manifest", node, alias=True)
        node.value = None
        tag = node.ctag
        if kind is ScalarNode:
            make = scalars.get(tag) or _explicit_scalar(node, tag)
            try:
                return make(raw)
            except (ValueError, IndexError, KeyError, OverflowError):
                shown = raw if len(raw) <= 40 else raw[:37] + "..."
                raise Refused(f"the value {shown!r} cannot be read as {tag}", node) from None
        if depth > max_depth:
            raise Refused(f"the YAML is nested deeper than {max_depth} levels", node)
        if kind is SequenceNode:
            if tag is not SEQ and str(tag) != SEQ.suffix:
                raise _tag_refused(node, tag)
            return [value_of(item, depth + 1) for item in raw]
        if tag is not MAP and str(tag) != MAP.suffix:
            raise _tag_refused(node, tag)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in raw:
            if key_node.ctag is _MERGE:
                raise Refused("YAML merge keys (<<) are not allowed in a manifest", key_node)
            if key_node.ctag is _VALUE:  # as SafeConstructor.flatten_mapping does
                key_node.ctag = STR
            key = value_of(key_node, depth + 1)
            try:
                seen = key in mapping
            except TypeError:
                raise Refused("a mapping key must be a plain value", key_node) from None
            if seen:
                raise Refused(f"duplicate key {key!r}", key_node)
            mapping[key] = value_of(value_node, depth + 1)
        return mapping

    return value_of(node, 1)


def _explicit_scalar(node: Node, tag: Tag) -> Callable[[str], Any]:
    name = str(tag)
    make = _SCALARS.get(name.removeprefix(_PREFIX)) if name.startswith(_PREFIX) else None
    if make is None:
        raise _tag_refused(node, tag)
    return make


def _tag_refused(node: Node, tag: Tag) -> Refused:
    return Refused(f"the YAML tag {tag} is not allowed in a manifest", node)
