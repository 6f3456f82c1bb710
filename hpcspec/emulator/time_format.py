"""Dates and times in a cluster's own .NET custom format (a profile's `datetime_format`).

The emulator keeps every time in the default format (`M/d/yyyy h:mm:ss tt`, UTC, see
`properties.py`); a profile with another format (`GET /cluster/info/dateTimeFormat`, e.g.
`d/M/yyyy HH:mm:ss` or `yyyy/M/d H:mm:ss`) has them written and read in that one. Written
independently of the client's codec on purpose, so the two cannot share a misreading. Tokens:
`yyyy yy MM M dd d HH H hh h mm m ss s tt`, quoted literals and `\\x` escapes
(.NET "Custom date and time format strings").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_TOKEN = re.compile(r"yyyy|yy|MM|M|dd|d|HH|H|hh|h|mm|m|ss|s|tt|'[^']*'|\"[^\"]*\"|\\.|.", re.S)
_FIELDS = {
    "yyyy": ("year", r"\d{4}"),
    "yy": ("year2", r"\d{2}"),
    "MM": ("month", r"\d{2}"),
    "M": ("month", r"\d{1,2}"),
    "dd": ("day", r"\d{2}"),
    "d": ("day", r"\d{1,2}"),
    "HH": ("hour", r"\d{2}"),
    "H": ("hour", r"\d{1,2}"),
    "hh": ("hour12", r"\d{2}"),
    "h": ("hour12", r"\d{1,2}"),
    "mm": ("minute", r"\d{2}"),
    "m": ("minute", r"\d{1,2}"),
    "ss": ("second", r"\d{2}"),
    "s": ("second", r"\d{1,2}"),
    "tt": ("half", r"[AaPp][Mm]"),
}


class TimeFormat:
    """One .NET custom format: `format(epoch)` and `parse(text)` (UTC both ways)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._tokens = _TOKEN.findall(pattern)
        regex = ""
        seen: set[str] = set()
        for token in self._tokens:
            if token in _FIELDS:
                name, digits = _FIELDS[token]
                regex += f"(?P<{name}>{digits})" if name not in seen else digits
                seen.add(name)
            else:
                regex += re.escape(_literal(token))
        self._regex = re.compile(r"\s*" + regex + r"\s*$")

    def format(self, moment: float) -> str:
        """Seconds since the epoch → text in this format (UTC)."""
        when = datetime.fromtimestamp(int(moment), UTC)
        values = {
            "yyyy": f"{when.year:04d}",
            "yy": f"{when.year % 100:02d}",
            "MM": f"{when.month:02d}",
            "M": str(when.month),
            "dd": f"{when.day:02d}",
            "d": str(when.day),
            "HH": f"{when.hour:02d}",
            "H": str(when.hour),
            "hh": f"{when.hour % 12 or 12:02d}",
            "h": str(when.hour % 12 or 12),
            "mm": f"{when.minute:02d}",
            "m": str(when.minute),
            "ss": f"{when.second:02d}",
            "s": str(when.second),
            "tt": "AM" if when.hour < 12 else "PM",
        }
        return "".join(values.get(t) or _literal(t) for t in self._tokens)

    def parse(self, text: str) -> float:
        """Text in this format → seconds since the epoch; ValueError when it does not fit."""
        match = self._regex.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not in the format {self.pattern!r}")
        got = match.groupdict()
        year = int(got["year"]) if got.get("year") else 2000 + int(got.get("year2") or 0)
        if got.get("hour12"):
            hour = int(got["hour12"]) % 12 + (12 if (got.get("half") or "A")[0] in "Pp" else 0)
        else:
            hour = int(got.get("hour") or 0)
        when = datetime(
            year,
            int(got.get("month") or 1),
            int(got.get("day") or 1),
            hour,
            int(got.get("minute") or 0),
            int(got.get("second") or 0),
            tzinfo=UTC,
        )
        return when.timestamp()


def _literal(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    if token.startswith("\\") and len(token) == 2:
        return token[1]
    return token
