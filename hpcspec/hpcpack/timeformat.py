"""The cluster's date-time format: a .NET custom format compiled into a parser and a formatter.

The REST API writes every time in the head node's culture format
(`GET /cluster/info/dateTimeFormat`, e.g. `M/d/yyyy h:mm:ss tt`) and they are UTC
(`research/hpcpack-ground-truth.md` §7). A `TimeFormat` compiles such a format once into a
parser (→ aware UTC datetimes) and a formatter (for `ChangeTimeFrom` filters and `HoldUntil`).
Culture: English month and day names, AM/PM designators.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

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

    def problem(self) -> str | None:
        """Why this format cannot carry the cluster's times (None: it can): a sample moment
        written with it must read back the same, to the minute, date included."""
        sample = datetime(2031, 11, 23, 17, 45, tzinfo=UTC)
        written = self.format(sample)
        try:
            read = self.parse(written)
        except ValueError:
            read = None
        if read != sample:
            shown = "nothing" if read is None else f"{read:%Y-%m-%d %H:%M}"
            return (
                f"it writes {sample:%Y-%m-%d %H:%M} as {written!r}, which reads back as {shown}: "
                "a format needs the year, month, day, hour and minute (and tt with h)"
            )
        return None

    def format(self, moment: datetime) -> str:
        """`moment` (naive means UTC) as the cluster writes times."""
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return "".join(f(moment) for f in self._formatters)
