"""The `[{"Name","Value"}]` property codec and the cluster's date-time format, both ways.

Every REST value is a string (`research/hpcpack-ground-truth.md` §1.2): `PropertyMap` is a
read-only, case-insensitive view of one object's properties (names keep the server's
spelling); `decode_properties`/`decode_objects` read response bodies into them; `encode`
turns canonical values (int, bool, str, datetime) into the `[RestProperty]` list a request
carries, through the property catalogue (`PropertySpec.wire`); `canonical` goes the other
way (`PropertySpec.from_wire`, times as aware UTC datetimes). `decode_body` turns a
response's bytes into plain Python: JSON, or the DataContract XML the server may answer with
(`ArrayOfProperty`, `int`, `string`, `HpcWebServiceFault`…), parsed by the project's safe
parser (`jobxml.safe`: no DOCTYPE, no entities, no network).

Times: the REST API writes every time in the head node's culture format
(`GET /cluster/info/dateTimeFormat`, e.g. `M/d/yyyy h:mm:ss tt`) and they are UTC (§7). A
`TimeFormat` compiles such a .NET custom format once into a parser (→ aware UTC datetimes)
and a formatter (for `ChangeTimeFrom` filters and `HoldUntil`). Culture: English month and
day names, AM/PM designators.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from hpcspec.hpcpack.catalogue import Kind, PropertySpec, Value
from hpcspec.hpcpack.jobxml.safe import local_name, parse_root

DEFAULT_FORMAT = "M/d/yyyy h:mm:ss tt"  # the spec's example and the 2016 en-US head node

_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_TOKEN = re.compile(r"'[^']*'|\"[^\"]*\"|\\.|%|y+|M+|d+|H+|h+|m+|s+|f+|F+|t+|z+|K|.", re.S)

Formatter = Callable[[datetime], str]


def _number(width: int, attribute: str) -> tuple[str, Formatter]:
    pattern = rf"(?P<{attribute}>\d{{{width}}})" if width > 1 else rf"(?P<{attribute}>\d{{1,2}})"
    return pattern, lambda moment: f"{getattr(moment, attribute):0{width}d}"


def _hour12(width: int) -> tuple[str, Formatter]:
    pattern = r"(?P<hour12>\d{2})" if width > 1 else r"(?P<hour12>\d{1,2})"
    return pattern, lambda moment: f"{(moment.hour % 12) or 12:0{width}d}"


def _token(token: str) -> tuple[str, Formatter]:
    """A regex fragment and a formatter for one .NET format token."""
    head, width = token[0], len(token)
    if head == "y":
        if width <= 2:
            return r"(?P<year2>\d{1,2})", lambda m: f"{m.year % 100:0{width}d}"
        return rf"(?P<year>\d{{{width}}})", lambda m: f"{m.year:0{width}d}"
    if head == "M":
        if width >= 3:
            names = _MONTHS if width > 3 else [n[:3] for n in _MONTHS]
            return (
                rf"(?P<monthname>{'|'.join(names)})",
                lambda m: names[m.month - 1],
            )
        return _number(width, "month")
    if head == "d":
        if width >= 3:
            names = _DAYS if width > 3 else [n[:3] for n in _DAYS]
            return rf"(?:{'|'.join(names)})", lambda m: names[m.weekday()]
        return _number(width, "day")
    if head == "H":
        return _number(min(width, 2), "hour")
    if head == "h":
        return _hour12(min(width, 2))
    if head == "m":
        return _number(min(width, 2), "minute")
    if head == "s":
        return _number(min(width, 2), "second")
    if head in "fF":
        return (
            rf"(?P<fraction>\d{{{'0' if head == 'F' else width},{width}}})",
            lambda m: f"{m.microsecond:06d}"[:width].ljust(width, "0"),
        )
    if head == "t":
        return r"(?P<ampm>[AaPp][Mm]?)", lambda m: ("AM" if m.hour < 12 else "PM")[:width]
    if head in "zK":
        return r"(?:Z|[+-]\d{1,2}(?::?\d{2})?)?", lambda m: "Z" if head == "K" else "+00:00"
    if token == "%":
        return "", lambda m: ""
    literal = token[1:-1] if token[0] in "'\"" else token[1:] if head == "\\" else token
    return re.escape(literal), lambda m: literal


@dataclass(frozen=True)
class TimeFormat:
    """One .NET custom date-time format, compiled."""

    pattern: str = DEFAULT_FORMAT
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _formatters: tuple[Formatter, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = [_token(t) for t in _TOKEN.findall(self.pattern)]
        regex = re.compile(r"\s*" + "".join(p for p, _ in parts) + r"\s*$", re.IGNORECASE)
        object.__setattr__(self, "_regex", regex)
        object.__setattr__(self, "_formatters", tuple(f for _, f in parts))

    def parse(self, text: str) -> datetime | None:
        """An aware UTC datetime, or None for an empty value; ValueError if it does not fit."""
        if not text.strip():
            return None
        match = self._regex.match(text)
        if match is None:
            raise ValueError(f"{text!r} does not match the cluster's date format {self.pattern!r}")
        got = {k: v for k, v in match.groupdict().items() if v is not None}
        year = int(got["year"]) if "year" in got else 2000 + int(got.get("year2", "0"))
        if "monthname" in got:
            lowered = got["monthname"].lower()
            month = next(i for i, n in enumerate(_MONTHS, 1) if n.lower().startswith(lowered))
        else:
            month = int(got.get("month", "1"))
        hour = int(got.get("hour", "0"))
        if "hour12" in got:
            hour = int(got["hour12"]) % 12
            if got.get("ampm", "A").upper().startswith("P"):
                hour += 12
        fraction = got.get("fraction", "")
        micro = int(fraction.ljust(6, "0")[:6]) if fraction else 0
        return datetime(
            year,
            month,
            int(got.get("day", "1")),
            hour,
            int(got.get("minute", "0")),
            int(got.get("second", "0")),
            micro,
            tzinfo=UTC,
        )

    def format(self, moment: datetime) -> str:
        """`moment` (naive means UTC) as the cluster writes times."""
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return "".join(f(moment) for f in self._formatters)


class PropertyMap(Mapping[str, str]):
    """One REST object's properties: names matched case-insensitively, values strings."""

    __slots__ = ("_index", "_items")

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items: dict[str, str] = dict(items or {})
        self._index = {name.lower(): name for name in self._items}

    def __getitem__(self, name: str) -> str:
        return self._items[self._index[name.lower()]]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"PropertyMap({self._items!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return {k.lower(): v for k, v in self._items.items()} == {
                str(k).lower(): v for k, v in other.items()
            }
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def text(self, name: str, default: str = "") -> str:
        """The value of `name`, or `default` when it is missing."""
        return self.get(name, default)

    def integer(self, name: str) -> int | None:
        """The value of `name` as an int, None when missing or empty."""
        text = self.text(name).strip()
        return int(text) if text else None


class BodyShapeError(ValueError):
    """A response body that is not the documented shape."""


def decode_properties(body: object) -> PropertyMap:
    """A flat `[RestProperty]` body (`GET /jobs/{id}`, customProperties, envVariables…)."""
    if body is None:
        return PropertyMap()
    if not isinstance(body, list):
        raise BodyShapeError(f"expected a list of Name/Value properties, got {type(body).__name__}")
    out: dict[str, str] = {}
    for item in body:
        if not isinstance(item, Mapping):
            raise BodyShapeError("expected Name/Value objects in the list")
        fields = {str(k).lower(): v for k, v in item.items()}
        name = fields.get("name")
        if not isinstance(name, str):
            raise BodyShapeError("a property has no Name")
        value = fields.get("value")
        out[name] = "" if value is None else str(value)
    return PropertyMap(out)


def decode_objects(body: object) -> list[PropertyMap]:
    """A `[RestObject]` body (job, task and node listings, node groups)."""
    if body is None:
        return []
    if not isinstance(body, list):
        raise BodyShapeError(f"expected a list of objects, got {type(body).__name__}")
    rows = []
    for item in body:
        if not isinstance(item, Mapping):
            raise BodyShapeError("expected objects with Properties in the list")
        fields = {str(k).lower(): v for k, v in item.items()}
        rows.append(decode_properties(fields.get("properties") or []))
    return rows


def decode_strings(body: object) -> list[str]:
    """A `[string]` body (node group members, job templates)."""
    if body is None:
        return []
    if not isinstance(body, list) or not all(isinstance(s, str) for s in body):
        raise BodyShapeError("expected a list of strings")
    return list(body)


def decode_int(body: object) -> int:
    """A bare integer body (a new job or task id); JSON numbers and numeric strings."""
    if isinstance(body, bool):
        raise BodyShapeError("expected an integer id, got a boolean")
    if isinstance(body, int):
        return body
    if isinstance(body, str) and body.strip().lstrip("-").isdigit():
        return int(body.strip())
    raise BodyShapeError(f"expected an integer id, got {body!r}")


def decode_string(body: object) -> str:
    """A bare string body (version, head node, date format)."""
    if isinstance(body, str):
        return body
    raise BodyShapeError(f"expected a string, got {type(body).__name__}")


WireValue = Value | datetime | list[str]  # a list travels as a comma-separated string


def encode(
    values: Mapping[str, WireValue],
    catalogue: Mapping[str, PropertySpec] | None = None,
    time_format: TimeFormat | None = None,
) -> list[dict[str, str]]:
    """Canonical values → the `[{"Name","Value"}]` body: through the catalogue when it knows
    the property (its wire name, e.g. Priority → ExpandedPriority, and its wire form), as
    plain strings otherwise."""
    index = {spec.name.lower(): spec for spec in (catalogue or {}).values()}
    out = []
    for name, value in values.items():
        spec = index.get(name.lower())
        if spec is None:
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            if isinstance(value, datetime):
                text = _wire_time(value, time_format or TimeFormat())
            elif isinstance(value, list):
                text = ",".join(value)
            out.append({"Name": name, "Value": text})
        else:
            out.append({"Name": spec.wire_name, "Value": _wire(spec, value, time_format)})
    return out


def _wire(spec: PropertySpec, value: WireValue, time_format: TimeFormat | None) -> str:
    """One catalogue property's wire text; a string is read as a user would write it."""
    if isinstance(value, datetime | str) and (
        spec.kind is Kind.DATETIME or isinstance(value, datetime)
    ):
        return _wire_time(value, time_format or TimeFormat())
    try:
        parsed = spec.parse(value)  # a user's form (list, "Normal+5", "2h") → canonical
    except ValueError:  # sent as it is: the server says what is wrong with it
        return ",".join(value) if isinstance(value, list) else str(value)
    return spec.wire(parsed)


def _wire_time(value: datetime | str, time_format: TimeFormat) -> str:
    if isinstance(value, datetime):
        return time_format.format(value)
    try:
        return time_format.format(datetime.fromisoformat(value))
    except ValueError:
        return value  # already in the cluster's form (or wrong: the server says so)


def canonical(
    values: Mapping[str, str],
    catalogue: Mapping[str, PropertySpec],
    time_format: TimeFormat | None = None,
) -> dict[str, WireValue]:
    """The catalogue's properties among `values` as canonical values (names as the catalogue
    spells them; times as aware UTC datetimes). A property's wire name wins over its plain
    name (`ExpandedPriority` carries the offset that `Priority` rounds away). Empty values and
    unknown names are left out; a value the catalogue cannot parse is kept as its string."""
    folded = {name.lower(): text for name, text in values.items()}
    out: dict[str, WireValue] = {}
    for spec in catalogue.values():
        text = folded.get(spec.wire_name.lower()) or folded.get(spec.name.lower())
        if not text:
            continue
        try:
            if spec.kind is Kind.DATETIME:
                moment = (time_format or TimeFormat()).parse(text)
                if moment is not None:
                    out[spec.name] = moment
                continue
            out[spec.name] = spec.from_wire(text)
        except ValueError:
            out[spec.name] = text
    return out


MAX_BODY_BYTES = 64 * 1024 * 1024


def decode_body(content: bytes, content_type: str | None) -> object:
    """JSON, or the DataContract XML forms the server may answer with, as plain Python."""
    if len(content) > MAX_BODY_BYTES:
        raise ValueError(f"the answer is larger than {MAX_BODY_BYTES} bytes")
    if not content.strip():
        return None
    kind = (content_type or "").lower()
    if "xml" in kind or content.lstrip()[:1] == b"<":
        return _from_xml(parse_root(content, source="response"))
    if "json" in kind or content.lstrip()[:1] in b'[{"-0123456789tfn':
        return json.loads(content)
    return content.decode("utf-8", errors="replace")


def _from_xml(element: etree._Element) -> object:
    """DataContract XML (`ArrayOfProperty`, `ArrayOfObject`, `int`, `string`, faults)."""
    name = local_name(element)
    children = [c for c in element if local_name(c)]
    if name == "int" or name == "long":
        return int((element.text or "").strip())
    if name == "string":
        return element.text or ""
    if name.startswith("ArrayOf"):
        return [_from_xml(c) for c in children]
    if name == "Property":
        fields = {local_name(c).lower(): c.text or "" for c in children}
        return {"Name": fields.get("name", ""), "Value": fields.get("value", "")}
    if name == "Object":
        props = next((c for c in children if local_name(c) == "Properties"), None)
        return {"Properties": [_from_xml(p) for p in (props if props is not None else [])]}
    if name == "HpcWebServiceFault" or children:
        out: dict[str, object] = {}
        for child in children:
            text = (child.text or "").strip()
            out[local_name(child)] = int(text) if text.lstrip("-").isdigit() else text
        return out
    return element.text or ""
