"""The one wire codec: `[{"Name","Value"}]` bodies both ways, and definitions as REST values.

Every REST value is a string (`research/hpcpack-ground-truth.md` §1.2): `PropertyMap` is a
read-only, case-insensitive view of one object's properties (names keep the server's
spelling); `decode_properties`/`decode_objects` read response bodies into them; `encode`
turns canonical values (int, bool, str, datetime) into the `[RestProperty]` list a request
carries, through the property catalogue (`PropertySpec.wire`, Priority as ExpandedPriority);
`canonical` goes the other way. `job_create_values`/`task_values` give a `JobDefinition`'s or a
`TaskDefinition`'s REST values (structural fields included) for `encode`. The bodies they read
are what `answer_body.py` made of an answer's bytes. Nothing outside `hpcpack` encodes or
decodes wire properties (an import-linter contract holds it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TypeVar, overload

from hpcspec.hpcpack.catalogue import (
    JOB_PROPERTIES,
    TASK_PROPERTIES,
    Kind,
    PropertySpec,
    Value,
    lookup,
)
from hpcspec.hpcpack.definition import JobDefinition, TaskDefinition
from hpcspec.hpcpack.timeformat import TimeFormat

TimeParser = Callable[[str], datetime | None]
_T = TypeVar("_T")


class PropertyMap(Mapping[str, str]):
    """One REST object's properties: names matched case-insensitively, values strings."""

    __slots__ = ("_index", "_items")

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items: dict[str, str] = dict(items or {})
        self._index = dict(zip(map(str.lower, self._items), self._items, strict=True))

    @classmethod
    def _owning(cls, items: dict[str, str]) -> PropertyMap:
        """A map over `items` itself (a dict the codec has just built, never used again). The
        rows of a listing share one index: they carry the same names, in the same order."""
        made, names = cls.__new__(cls), tuple(items)
        made._items, index = items, _INDEXES.get(names)
        if index is None:
            index = dict(zip(map(str.lower, items), items, strict=True))
            if len(_INDEXES) >= _INDEXES_KEPT:
                _INDEXES.clear()
            _INDEXES[names] = index
        made._index = index  # read, never written
        return made

    def __getitem__(self, name: str) -> str:
        return self._items[self._index[name.lower()]]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        # One name per property: a name spelled twice in different case (never sent by HPC
        # Pack) is one property, under the spelling that lookups find (the last).
        return iter(self._index.values())

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return f"PropertyMap({self._items!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return {k.lower(): v for k, v in self._items.items()} == {
                str(k).lower(): v for k, v in other.items()
            }
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, /, default: str | _T) -> str | _T: ...
    def get(self, name: str, /, default: object = None) -> object:
        """The value of `name`, or `default` when it is missing (one lookup, where Mapping's
        would raise and catch a KeyError for every missing name)."""
        real = self._index.get(name.lower())
        return default if real is None else self._items[real]

    def has_all(self, lowered: frozenset[str]) -> bool:
        """Whether every one of `lowered` (names in lower case) is present: a set comparison,
        for a check made on every row of a listing."""
        return self._index.keys() >= lowered

    def text(self, name: str, default: str = "") -> str:
        """The value of `name`, or `default` when it is missing."""
        return self.get(name, default)

    def texts(self, *names: str) -> list[str]:
        """The values of `names`, "" for each one missing or empty (one call for a row)."""
        index, items = self._index, self._items
        lowered = _LOWER.get(names) or tuple(n.lower() for n in names)
        if len(_LOWER) < _INDEXES_KEPT:
            _LOWER[names] = lowered
        if 2 * len(index) >= len(lowered):
            return [items[real] if (real := index.get(n)) is not None else "" for n in lowered]
        out = [""] * len(lowered)  # a row with few of the names: where each of its own goes
        places = _PLACES.get(lowered) or _places(lowered)
        for name, real in index.items():
            for place in places.get(name, ()):
                out[place] = items[real]
        return out

    def integer(self, name: str) -> int | None:
        """The value of `name` as an int, None when missing or empty."""
        text = self.text(name).strip()
        return int(text) if text else None


# Names as a body spelled them -> their index by lower-cased name (`PropertyMap._owning`).
_INDEXES: dict[tuple[str, ...], dict[str, str]] = {}
_INDEXES_KEPT = 64
_LOWER: dict[tuple[str, ...], tuple[str, ...]] = {}  # names `texts` was asked -> lower-cased
_PLACES: dict[tuple[str, ...], dict[str, list[int]]] = {}  # those -> name -> places in them


def _places(lowered: tuple[str, ...]) -> dict[str, list[int]]:
    places: dict[str, list[int]] = {}
    for place, name in enumerate(lowered):
        places.setdefault(name, []).append(place)
    if len(_PLACES) < _INDEXES_KEPT:
        _PLACES[lowered] = places
    return places


class BodyShapeError(ValueError):
    """A response body that is not the documented shape."""


def _empty(expected: str) -> BodyShapeError:
    """An answer with no body (or JSON null) where the references document one: never read
    as "nothing" — an empty listing is an empty array (`hpcpack-rest-api-2016.md`)."""
    said = f"the answer is empty where {expected} was expected (a proxy or a broken server?)"
    if expected.startswith("a JSON array"):
        said += "; an empty result is an empty array, never an empty answer"
    return BodyShapeError(said)


def decode_properties(body: object) -> PropertyMap:
    """A flat `[RestProperty]` body (`GET /jobs/{id}`, customProperties, envVariables…)."""
    if body is None:
        raise _empty("a JSON array of Name/Value properties")
    if not isinstance(body, list):
        raise BodyShapeError(f"expected a list of Name/Value properties, got {type(body).__name__}")
    plain = _plain_properties(body)
    if plain is not None:
        return PropertyMap._owning(plain)
    out: dict[str, str] = {}
    for item in body:  # any other spelling, key or value: case-insensitively, one by one
        name, value = _name_value(item)
        if not isinstance(name, str):
            raise BodyShapeError("a property has no Name")
        out[name] = "" if value is None else value if type(value) is str else str(value)
    return PropertyMap._owning(out)


def _plain_properties(body: list[object]) -> dict[str, str] | None:
    """The properties of a body as the server writes it (`{"Name": str, "Value": str}`
    objects only), read without a Python step per property; None for any other body (the
    property-by-property reading gives it the same meaning, or refuses it)."""
    try:
        out = {item["Name"]: item["Value"] for item in body}  # type: ignore[index]
        if sum(map(len, body)) != 2 * len(body):  # type: ignore[arg-type]
            return None  # another key beside them: read case-insensitively, one by one
    except (KeyError, TypeError, IndexError):
        return None
    if out and (set(map(type, out)) != {str} or set(map(type, out.values())) != {str}):
        return None
    return out


def _name_value(item: object) -> tuple[object, object]:
    """A property object's Name and Value, whatever the case of its keys."""
    if not isinstance(item, Mapping):
        raise BodyShapeError("expected Name/Value objects in the list")
    fields = {str(k).lower(): v for k, v in item.items()}
    return fields.get("name"), fields.get("value")


def decode_objects(body: object) -> list[PropertyMap]:
    """A `[RestObject]` body (job, task and node listings, node groups)."""
    if body is None:
        raise _empty("a JSON array of objects")
    if not isinstance(body, list):
        raise BodyShapeError(f"expected a list of objects, got {type(body).__name__}")
    rows = []
    for item in body:
        if type(item) is dict and len(item) == 1 and "Properties" in item:
            rows.append(decode_properties(item["Properties"] or []))  # as the server writes it
            continue
        if not isinstance(item, Mapping):
            raise BodyShapeError("expected objects with Properties in the list")
        fields = {str(k).lower(): v for k, v in item.items()}
        rows.append(decode_properties(fields.get("properties") or []))
    return rows


def _typed_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"  # as .NET writes booleans elsewhere in the API
    if isinstance(value, list):
        return ",".join(_typed_text(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def decode_typed_object(body: object) -> PropertyMap:
    """One typed JSON object of the 2019 `/cluster/*` endpoints (`Node`, `NodeGroup`), its
    fields as strings (lists comma-joined), so callers read it like a 2016 row."""
    if body is None:
        raise _empty("a JSON object")
    if not isinstance(body, Mapping):
        raise BodyShapeError(f"expected an object, got {type(body).__name__}")
    return PropertyMap({str(k): _typed_text(v) for k, v in body.items()})


def decode_typed_objects(body: object) -> list[PropertyMap]:
    """A JSON array of typed objects (`GET /cluster/nodes`, `/cluster/nodeGroups`)."""
    if body is None:
        raise _empty("a JSON array of objects")
    if not isinstance(body, list):
        raise BodyShapeError(f"expected a list of objects, got {type(body).__name__}")
    return [decode_typed_object(item) for item in body]


def decode_strings(body: object) -> list[str]:
    """A `[string]` body (node group members, job templates)."""
    if body is None:
        raise _empty("a JSON array of strings")
    if not isinstance(body, list) or not all(isinstance(s, str) for s in body):
        raise BodyShapeError("expected a list of strings")
    return list(body)


def decode_int(body: object) -> int:
    """A bare integer body (a new job or task id); JSON numbers and numeric strings."""
    if body is None:
        raise _empty("an integer id")
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
    if body is None:
        raise _empty("a string")
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
    out = []
    for name, value in values.items():
        spec = lookup(catalogue, name) if catalogue else None
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
    parse_time: TimeParser | None = None,
) -> dict[str, Value]:
    """The catalogue's properties among `values` as canonical values (names as the catalogue
    spells them; times, read with the cluster's `parse_time`, as ISO 8601 UTC). A property's
    wire name wins over its plain name (`ExpandedPriority` carries the offset that `Priority`
    rounds away). Empty values and unknown names are left out; a value the catalogue cannot
    parse is kept as its string, so it shows as a difference instead of failing a plan."""
    folded = {name.lower(): text for name, text in values.items()}
    out: dict[str, Value] = {}
    for spec in catalogue.values():
        text = folded.get(spec.wire_name.lower()) or folded.get(spec.name.lower())
        if not text:
            continue
        if spec.kind is Kind.DATETIME and parse_time is not None:
            moment = parse_time(text)  # the cluster writes times in its own culture format
            text = moment.isoformat() if moment is not None else text
        try:
            out[spec.name] = spec.from_wire(text)
        except ValueError:
            out[spec.name] = text
    return out


def job_create_values(definition: JobDefinition) -> dict[str, WireValue]:
    """A job's properties that `POST /jobs` takes, for `encode` (PUT-only ones such as
    HoldUntil go with the marker; job-XML-only ones, `JobDefinition.xml_only_properties`,
    never), and `ParentJobIds` when it has parents."""
    out: dict[str, WireValue] = {
        name: value
        for name, value in definition.properties
        if JOB_PROPERTIES[name].create and JOB_PROPERTIES[name].rest
    }
    if definition.parent_job_ids:
        out["ParentJobIds"] = ",".join(str(i) for i in definition.parent_job_ids)
    return out


def task_values(task: TaskDefinition) -> dict[str, WireValue]:
    """A task's properties for a REST add or PUT (`encode`), its structural fields (name,
    command line, work directory, dependencies, sweep range) included; the job-XML-only ones
    (RequestedNodeGroup) are left out: neither Add Task nor Set Task Properties lists them."""
    out: dict[str, WireValue] = {
        name: value
        for name, value in task.properties
        if name not in TASK_PROPERTIES or TASK_PROPERTIES[name].rest
    }
    out["Name"] = task.name
    out["CommandLine"] = task.command_line
    if task.work_directory:
        out["WorkDirectory"] = task.work_directory
    if task.depends_on:
        out["DependsOn"] = ",".join(task.depends_on)
    if task.sweep is not None:
        out.update(
            Type="ParametricSweep",
            StartValue=str(task.sweep.start),
            EndValue=str(task.sweep.end),
            IncrementValue=str(task.sweep.increment),
        )
    return out
