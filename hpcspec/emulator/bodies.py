"""Request and response bodies in JSON or DataContract XML (ground truth §1.2).

JSON: RestProperty `{"Name","Value"}` arrays (names matched case-insensitively on input),
RestObject `{"Properties":[...]}` lists, bare integers and JSON strings. XML: what the .NET
DataContractSerializer writes for the same types (`ArrayOfProperty` in the HPCS2008R2/common
namespace, `<int>`/`<string>` in the Serialization namespace); the exact element names for
object lists are undocumented and recorded in `docs/emulator.md`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hpcspec.emulator import errors, messages, safe_xml
from hpcspec.emulator.errors import xml_text

COMMON_NS = "http://schemas.microsoft.com/HPCS2008R2/common"
SERIAL_NS = "http://schemas.microsoft.com/2003/10/Serialization/"
ARRAYS_NS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"

Pairs = list[tuple[str, str]]


@dataclass(frozen=True)
class Typed:
    """A typed object or list of them (2019's /cluster endpoints), not Name/Value properties;
    `name` is its DataContract element name for XML (`Node`, `NodeGroup`)."""

    value: object
    name: str


Body = int | str | list[str] | Mapping[str, str] | list[dict[str, str]] | Typed | None


def is_xml(content_type: str | None) -> bool:
    return bool(content_type) and "xml" in str(content_type).lower()


def _invalid(what: str) -> errors.SchedulerError:
    return errors.bad_request(messages.INVALID_OPERATION, f" the request body is not {what}.")


def read_pairs(data: bytes, xml: bool) -> Pairs:
    """A RestProperty array (or an empty body) → (name, value) pairs."""
    if not data.strip():
        return []
    if xml:
        root = safe_xml.parse(data)
        out = []
        for prop in root:
            fields = {safe_xml.local_name(c).lower(): (c.text or "") for c in prop}
            out.append((fields.get("name", ""), fields.get("value", "")))
        return out
    try:
        items = json.loads(data)
    except ValueError:
        raise _invalid("JSON") from None
    if not isinstance(items, list):
        raise _invalid("a JSON array of {Name, Value} properties")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise _invalid("a JSON array of {Name, Value} properties")
        fields = {str(k).lower(): v for k, v in item.items()}
        name, value = fields.get("name"), fields.get("value")
        if not isinstance(name, str):
            raise _invalid("a JSON array of {Name, Value} properties")
        out.append((name, "" if value is None else _text(value)))
    return out


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_string(data: bytes, xml: bool) -> str:
    """A JSON string body (messages, job XML) or DataContract `<string>`; empty → ""."""
    if not data.strip():
        return ""
    if xml:
        root = safe_xml.parse(data)
        if safe_xml.local_name(root) == "string":
            return root.text or ""
        raise _invalid("a DataContract <string>")
    try:
        value = json.loads(data)
    except ValueError:
        raise _invalid("a JSON string") from None
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _invalid("a JSON string")
    return value


def render(body: Body, xml: bool) -> bytes:
    """A response body: RestProperty/RestObject JSON or DataContract XML."""
    if isinstance(body, Typed):
        return _typed_xml(body).encode("utf-8") if xml else json.dumps(body.value).encode()
    if xml:
        return _render_xml(body).encode("utf-8")
    if isinstance(body, Mapping):
        return (_template(tuple(body), "%s") % _quoted(body)).encode()
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        rows = [row for row in body if isinstance(row, dict | Mapping)]
        names = tuple(rows[0])
        if all(tuple(row) == names for row in rows):  # a listing: one template for the page
            values = [_QUOTE(value) for row in rows for value in row.values()]
            return (_page_template(names, len(rows)) % tuple(values)).encode()
        objects = [_template(tuple(row), '{"Properties": %s}') % _quoted(row) for row in rows]
        return ("[" + ", ".join(objects) + "]").encode()
    return json.dumps(body).encode()


# A listing of 1,000 rows is 8,000 {"Name","Value"} pairs: each row is written through one
# %-template per set of names with the C string encoder json.dumps uses, instead of building
# and walking 8,000 dicts (ten times faster; the bytes are exactly json.dumps's).
_QUOTE = json.encoder.encode_basestring_ascii


def _quoted(row: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(map(_QUOTE, row.values()))


@functools.lru_cache(maxsize=256)
def _template(names: tuple[str, ...], outer: str) -> str:
    """`[{"Name": "A", "Value": %s}, …]` for these names, inside `outer`."""
    pairs = ", ".join('{"Name": ' + _QUOTE(n).replace("%", "%%") + ', "Value": %s}' for n in names)
    return outer.replace("%s", "[" + pairs + "]")


@functools.lru_cache(maxsize=32)  # a template is as long as its page: keep few
def _page_template(names: tuple[str, ...], count: int) -> str:
    """`count` RestObjects of these names, as one %-template (a listing page)."""
    return "[" + ", ".join([_template(names, '{"Properties": %s}')] * count) + "]"


def _props_xml(row: Mapping[str, str]) -> str:
    return "".join(
        f"<Property><Name>{xml_text(k)}</Name><Value>{xml_text(v)}</Value></Property>"
        for k, v in row.items()
    )


def _render_xml(body: Body) -> str:
    if isinstance(body, bool) or body is None:
        return f'<string xmlns="{SERIAL_NS}"/>'
    if isinstance(body, int):
        return f'<int xmlns="{SERIAL_NS}">{body}</int>'
    if isinstance(body, str):
        return f'<string xmlns="{SERIAL_NS}">{xml_text(body)}</string>'
    if isinstance(body, Mapping):
        return f'<ArrayOfProperty xmlns="{COMMON_NS}">{_props_xml(body)}</ArrayOfProperty>'
    assert not isinstance(body, Typed)  # rendered by _typed_xml
    rows: Sequence[object] = body
    if rows and isinstance(rows[0], Mapping):
        inner = "".join(
            f"<Object><Properties>{_props_xml(r)}</Properties></Object>"
            for r in rows
            if isinstance(r, Mapping)
        )
        return f'<ArrayOfObject xmlns="{COMMON_NS}">{inner}</ArrayOfObject>'
    if not rows:
        return f'<ArrayOfObject xmlns="{COMMON_NS}"/>'
    items = "".join(f"<string>{xml_text(str(s))}</string>" for s in rows)
    return f'<ArrayOfstring xmlns="{ARRAYS_NS}">{items}</ArrayOfstring>'


def _typed_xml(body: Typed) -> str:
    def element(name: str, value: object) -> str:
        if value is None:
            return f'<{name} i:nil="true"/>'
        if isinstance(value, bool):
            return f"<{name}>{'true' if value else 'false'}</{name}>"
        if isinstance(value, dict):
            return f"<{name}>" + "".join(element(k, v) for k, v in value.items()) + f"</{name}>"
        if isinstance(value, list):
            return f"<{name}>" + "".join(element("string", v) for v in value) + f"</{name}>"
        return f"<{name}>{xml_text(str(value))}</{name}>"

    space = f'xmlns="{COMMON_NS}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'
    if isinstance(body.value, list):
        items = "".join(element(body.name, v) for v in body.value)
        return f"<ArrayOf{body.name} {space}>{items}</ArrayOf{body.name}>"
    inner = element(body.name, body.value)
    return inner.replace(f"<{body.name}>", f"<{body.name} {space}>", 1)
