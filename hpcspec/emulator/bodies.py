"""Request and response bodies in JSON or DataContract XML (ground truth §1.2).

JSON: RestProperty `{"Name","Value"}` arrays (names matched case-insensitively on input),
RestObject `{"Properties":[...]}` lists, bare integers and JSON strings. XML: what the .NET
DataContractSerializer writes for the same types (`ArrayOfProperty` in the HPCS2008R2/common
namespace, `<int>`/`<string>` in the Serialization namespace); the exact element names for
object lists are undocumented and recorded in `docs/emulator.md`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from hpcspec.emulator import errors, messages, safe_xml
from hpcspec.emulator.errors import xml_text

COMMON_NS = "http://schemas.microsoft.com/HPCS2008R2/common"
SERIAL_NS = "http://schemas.microsoft.com/2003/10/Serialization/"
ARRAYS_NS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"

Pairs = list[tuple[str, str]]
Body = int | str | list[str] | Mapping[str, str] | list[dict[str, str]] | None


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
    if xml:
        return _render_xml(body).encode("utf-8")
    if isinstance(body, Mapping):
        return json.dumps([{"Name": k, "Value": v} for k, v in body.items()]).encode()
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        objects = [
            {"Properties": [{"Name": k, "Value": v} for k, v in row.items()]}
            for row in body
            if isinstance(row, Mapping)
        ]
        return json.dumps(objects).encode()
    return json.dumps(body).encode()


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
