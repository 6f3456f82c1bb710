"""Listing jobs, tasks and nodes: `$filter`, `owner`, sorting, `properties=`, paging.

Per `research/hpcpack-ground-truth.md` §1.3: `rowsPerRead` (default 10, at least 1 row), the
`x-ms-continuation-queryId` header while rows remain (absent on the last page), `queryId` to
continue; filters `<name> eq <value>` joined by ` and ` (jobs: JobState, NodeGroup,
ChangeTimeFrom; tasks: TaskState, ChangeTimeFrom, TaskStates, TaskIds, TaskInstanceIds; nodes:
NodeState); an unknown sort property sorts by id. The continuation token carries the query and
the offset (its format is opaque to clients, as the spec says).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hpcspec.emulator import errors, messages
from hpcspec.emulator.properties import canonical, parse_bool, parse_time
from hpcspec.hpcpack.profile import ClusterProfile

_FILTER = re.compile(r"^\s*(\w+)\s+eq\s+(.+?)\s*$", re.IGNORECASE)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
JOB_FILTERS = ("JobState", "NodeGroup", "ChangeTimeFrom")
TASK_FILTERS = ("TaskState", "ChangeTimeFrom", "TaskStates", "TaskIds", "TaskInstanceIds")
NODE_FILTERS = ("NodeState",)
DEFAULT_JOB_PROPERTIES = ("Id", "Owner", "Name", "State", "Priority")
DEFAULT_TASK_PROPERTIES = (
    "TaskId", "Name", "State", "CommandLine", "ExitCode", "ParentJobId", "JobTaskId", "InstanceId",
)  # fmt: skip


@dataclass(frozen=True)
class Query:
    """One listing request after the continuation token (if any) has been applied."""

    filters: tuple[tuple[str, str], ...]
    owner: str
    sort: str
    expand: bool
    offset: int
    rows: int
    ascending: bool = True
    start_row: int | None = None  # U3 QFE paging: rows [startRow, startRow + rowsPerRead)
    after: tuple[int, ...] | None = None  # the last row's key (id order): the next page's start

    def token(self, next_offset: int, last: tuple[int, ...] | None = None) -> str:
        """The continuation token: the query, the next offset and (in id order) the last key,
        so the next page is a seek in the index rather than a walk past every row before it."""
        data: dict[str, object] = {"f": self.filters, "o": self.owner, "s": self.sort}
        data["x"] = self.expand
        data["n"] = next_offset
        data["a"] = self.ascending
        if last is not None:
            data["k"] = list(last)
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def parse_filters(text: str, allowed: Sequence[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for part in _AND.split(text.strip()) if text.strip() else []:
        match = _FILTER.match(part)
        if not match:
            raise errors.bad_request(
                messages.INVALID_OPERATION, f" '{part}' is not a '<name> eq <value>' filter."
            )
        name = next((a for a in allowed if a.lower() == match.group(1).lower()), None)
        if name is None:
            raise errors.bad_request(messages.INVALID_FILTER_PROPERTY, match.group(1))
        out.append((name, match.group(2).strip()))
    return tuple(out)


def make_query(
    args: Mapping[str, str], allowed: Sequence[str], sort_key: str, profile: ClusterProfile
) -> Query:
    """From lower-cased query parameters; `queryId` wins over the other query parameters.

    The page size and whether `startRow` is understood are the cluster profile's (by default:
    10 rows, no cap, `startRow` as the 2016 U3 QFE has it).
    """
    rows_text = args.get("rowsperread")
    try:
        rows = profile.rows_per_read(None if rows_text is None else int(rows_text))
    except ValueError:
        raise errors.bad_request(
            messages.INVALID_OPERATION, f" rowsPerRead '{rows_text}' is not an integer."
        ) from None
    token = args.get("queryid", "")
    if token:
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded))
            return Query(
                tuple((str(a), str(b)) for a, b in data["f"]),
                str(data["o"]),
                str(data["s"]),
                bool(data["x"]),
                int(data["n"]),
                rows,
                bool(data.get("a", True)),
                None,
                tuple(int(k) for k in data["k"]) if "k" in data else None,
            )
        except (ValueError, KeyError, TypeError):
            raise errors.bad_request(
                messages.INVALID_OPERATION, " the queryId is not a continuation of this listing."
            ) from None
    expanded = _flag(args.get("expandparametric", "true"), "expandParametric")
    start = args.get("startrow") if profile.start_row else None
    if start is not None and not start.strip().isdigit():
        raise errors.bad_request(messages.INVALID_OPERATION, f" startRow '{start}' is not >= 0.")
    return Query(
        parse_filters(args.get("$filter", ""), allowed),
        args.get("owner", ""),
        args.get(sort_key, ""),
        expanded,
        int(start) if start is not None else 0,
        rows,
        _flag(args.get("asc", "true"), "asc"),
        int(start) if start is not None else None,
    )


def _flag(text: str, name: str) -> bool:
    try:
        return parse_bool(text)
    except ValueError:
        raise errors.bad_request(
            messages.INVALID_OPERATION, f" {name} '{text}' is not a boolean."
        ) from None


def pick_properties(
    text: str | None, known: Mapping[str, str], default: Sequence[str] | None
) -> list[str] | None:
    """`properties=` names in their exact case (unknown → 400); None means all."""
    if text is None or not text.strip():
        return list(default) if default is not None else None
    out = []
    for raw in text.split(","):
        if not raw.strip():
            continue
        name = canonical(known, raw)
        if name is None:
            raise errors.bad_request(messages.NO_TABLE_DEFINED_FOR_PROPERTY, raw.strip())
        out.append(name)
    return out


def select(view: Mapping[str, str], names: list[str] | None) -> dict[str, str]:
    if names is None:
        return dict(view)
    return {n: view.get(n, "") for n in names}


def sort_rows(
    rows: list[dict[str, str]],
    sort: str,
    known: Mapping[str, str],
    default: Callable[..., Any],
    ascending: bool = True,
) -> list[dict[str, str]]:
    """Sort by a property (numbers numerically); unknown or empty → the default id order."""
    name = canonical(known, sort) if sort else None
    if name is None:
        return sorted(rows, key=default, reverse=not ascending)
    numeric = known[name] in ("Int32", "Int64")

    def key(row: dict[str, str]) -> tuple[object, object]:
        value = row.get(name, "")
        if numeric:
            return (int(value or 0), default(row))
        if known[name] == "DateTime" and value:
            return (parse_time(value), default(row))
        return (value.lower(), default(row))

    return sorted(rows, key=key, reverse=not ascending)


def page(items: list[dict[str, str]], query: Query) -> tuple[list[dict[str, str]], str | None]:
    """One page and the continuation token (None on the last page, and with startRow)."""
    end = query.offset + query.rows
    chunk = items[query.offset : end]
    if query.start_row is not None:
        return chunk, None
    return chunk, query.token(end) if end < len(items) else None


def split_ids(text: str) -> set[int]:
    try:
        return {int(p) for p in text.split(",") if p.strip()}
    except ValueError:
        raise errors.bad_request(
            messages.INVALID_OPERATION, f" '{text}' is not a list of ids."
        ) from None


def state_names(text: str, parse: Callable[[str], object]) -> set[str]:
    """`Running` or `Running,Queued` → the state names; 400 when one is not a state."""
    out = set()
    for part in text.split(","):
        try:
            state = parse(part.strip())
        except ValueError:
            raise errors.bad_request(
                messages.INVALID_OPERATION, f" '{part.strip()}' is not a state."
            ) from None
        out.add(str(getattr(state, "name", state)))
    return out
