"""Value forms HPC Pack accepts for properties: priorities, run times, booleans, exit codes.

Priority follows `ExpandedPriority.TryParse` as described in
`reference/hpcpack/derived/job-xml-import-export.json` ("Priority"): a bucket name, a bucket
name plus or minus an offset, or an integer 0..4000 in buckets of 1000.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

PRIORITY_BUCKETS: dict[str, int] = {
    "Lowest": 0,
    "BelowNormal": 1000,
    "Normal": 2000,
    "AboveNormal": 3000,
    "Highest": 4000,
}
MAX_PRIORITY = 4000

# Every integer property of a job or task is an Int32 in HPC Pack
# (`reference/hpcpack/derived/property-ids.json`: StorePropertyType Int32).
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


# An integer as .NET's `int.Parse` reads it (the job XML importer's rule,
# derived/job-xml-import-export.json): white space around it, an optional sign, leading
# zeros. A server may write one so (`+07`); it is the same number.
_INTEGER = re.compile(r"\s*[-+]?\d+\s*")


def int32_problem(value: int) -> str | None:
    """Why `value` does not fit HPC Pack's 32-bit integers, or None when it does."""
    if INT32_MIN <= value <= INT32_MAX:
        return None
    text = str(value)
    shown = text if len(text) <= 20 else f"{text[:12]}... ({len(text)} digits)"
    return f"{shown} does not fit HPC Pack's 32-bit integers ({INT32_MIN}..{INT32_MAX})"


_PRIORITY_FORM = re.compile(r"^\s*([A-Za-z]+)\s*(?:([+-])\s*(\d+))?\s*$")


def parse_priority(raw: object) -> int:
    """`Normal`, `Normal+5`, `AboveNormal-100`, or 0..4000 → the expanded priority (int)."""
    if isinstance(raw, bool):
        raise ValueError("expected a priority name such as Normal, 'Normal+5', or 0..4000")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _INTEGER.fullmatch(raw):
        value = int(raw)
    elif isinstance(raw, str) and (match := _PRIORITY_FORM.match(raw)):
        name, sign, offset = match.groups()
        bucket = {k.lower(): v for k, v in PRIORITY_BUCKETS.items()}.get(name.lower())
        if bucket is None:
            names = ", ".join(PRIORITY_BUCKETS)
            raise ValueError(f"unknown priority {name!r}: expected one of {names}")
        value = bucket + (int(offset) if sign == "+" else -int(offset or 0))
    else:
        raise ValueError("expected a priority name such as Normal, 'Normal+5', or 0..4000")
    if not 0 <= value <= MAX_PRIORITY:
        raise ValueError(f"priority {raw!r} is outside 0..4000")
    return value


def format_priority(value: int) -> str:
    """The expanded priority as job export writes it: `Normal`, `Normal+5`, `AboveNormal-1`."""
    name, bucket = min(PRIORITY_BUCKETS.items(), key=lambda item: (abs(item[1] - value), item[1]))
    offset = value - bucket
    if offset == 0:
        return name
    return f"{name}{offset:+d}"


_DURATION_PART = re.compile(r"(\d+)\s*([dhms])", re.IGNORECASE)
_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(raw: object) -> int:
    """Seconds from an integer or a duration such as `90m`, `2h`, `1d2h`, `1h30m15s`."""
    if isinstance(raw, bool):
        raise ValueError("expected seconds or a duration such as 90m, 2h, 1d2h")
    if isinstance(raw, int):
        seconds = raw
    elif isinstance(raw, str) and _INTEGER.fullmatch(raw):
        seconds = int(raw)
    elif isinstance(raw, str) and raw.strip():
        text = raw.strip().replace(" ", "")
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(n + u for n, u in parts).lower() != text.lower():
            raise ValueError(f"{raw!r} is not a duration: expected seconds or e.g. 90m, 2h, 1d2h")
        seconds = sum(int(n) * _SECONDS[u.lower()] for n, u in parts)
    else:
        raise ValueError("expected seconds or a duration such as 90m, 2h, 1d2h")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


def format_duration(seconds: int) -> str:
    """The shortest `1d2h30m` form of a number of seconds (`0` stays `0`)."""
    if seconds == 0:
        return "0"
    out = []
    for unit, size in _SECONDS.items():
        count, seconds = divmod(seconds, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def parse_bool(raw: object) -> bool:
    """YAML booleans, `true`/`false` in any case, or `0`/`1` (the job XML importer's rule)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
    raise ValueError("expected true or false")


def parse_int(raw: object) -> int:
    """An integer, or a string of one (what `${var}` substitution produces)."""
    if isinstance(raw, bool):
        raise ValueError("expected an integer, not a boolean")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and _INTEGER.fullmatch(raw):
        return int(raw)
    raise ValueError("expected an integer")


_EXIT_CODE = re.compile(r"^-?\d+$")
_EXIT_RANGE = re.compile(r"^(-?\d+|min|max)\.\.(-?\d+|min|max)$", re.IGNORECASE)


def parse_exit_codes(raw: object) -> str:
    """`0,3,10..20,min..max` from a list or a string.

    The rules are HPC Pack's (`msdocs/ischedulertask-validexitcodes.md`, and the message of
    Operation_InvalidExitCodes in `derived/error-codes.json`): integers or integer ranges,
    `min`/`max` only as a range end ("min" or "max" alone is not supported), every bound an
    Int32.
    """
    items = [str(i).strip() for i in raw] if isinstance(raw, list) else None
    if items is None:
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise ValueError("expected exit codes such as '0,3,10..20'")
        items = [part.strip() for part in str(raw).split(",")]
    if not items:
        raise ValueError("expected exit codes such as '0,3,10..20'")
    for item in items:
        if item.lower() in ("min", "max"):
            raise ValueError(
                f"{item!r} alone is not an exit code: HPC Pack takes min and max only as a "
                "range end, e.g. 'min..-1' or '100..max'"
            )
        match = _EXIT_RANGE.match(item)
        bounds = match.groups() if match else (item,) if _EXIT_CODE.match(item) else None
        if bounds is None:
            raise ValueError(f"{raw!r} is not a list of exit codes such as '0,3,10..20,min..max'")
        for bound in bounds:
            problem = None if bound.lower() in ("min", "max") else int32_problem(int(bound))
            if problem:
                raise ValueError(f"exit code {problem}")
    return ",".join(items)


def parse_datetime(raw: object) -> str:
    """An ISO 8601 time (a YAML timestamp or a string) → `YYYY-MM-DDTHH:MM:SSZ` in UTC."""
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{raw!r} is not an ISO 8601 time such as 2026-12-01T18:00:00Z"
            ) from None
    else:
        raise ValueError("expected an ISO 8601 time such as 2026-12-01T18:00:00Z")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
