"""Parametric sweep rules: instance values and `*` substitution.

Transcribed from `reference/hpcpack/derived/parametric-sweep-vectors.json` (rules) and
`research/hpcpack-ground-truth.md` §5. One expander, used by the manifest checks, job XML import
and the emulator alike.
"""

from __future__ import annotations

# The properties whose `*` runs are replaced per instance (ischedulertask-isparametric.md).
SUBSTITUTED_TASK_PROPERTIES = (
    "CommandLine",
    "Name",
    "StdInFilePath",
    "StdOutFilePath",
    "StdErrFilePath",
)


def instance_count(start: int, end: int, increment: int) -> int:
    """How many instances a sweep has: 0 when increment < 1 or end < start."""
    if increment <= 0 or end < start:
        return 0
    return (end - start) // increment + 1


def instance_value(start: int, increment: int, instance_id: int) -> int:
    """The value of the 1-based instance `instance_id`."""
    return start + (instance_id - 1) * increment


def instance_values(start: int, end: int, increment: int) -> list[int]:
    """Every instance's value, in instance-id order."""
    return [
        instance_value(start, increment, i)
        for i in range(1, instance_count(start, end, increment) + 1)
    ]


def substitute(template: str, value: int) -> str:
    """Replace each run of N `*` with `value` zero-padded to N; `^*` and `^^` escape."""
    out: list[str] = []
    i, n = 0, len(template)
    text = str(value)
    while i < n:
        char = template[i]
        if char == "^":
            if i + 1 < n and template[i + 1] in "*^":
                out.append(template[i + 1])
                i += 2
            else:
                out.append("^")
                i += 1
        elif char == "*":
            run = i
            while i < n and template[i] == "*":
                i += 1
            width = i - run
            out.append(text.zfill(width) if not text.startswith("-") else text.rjust(width, "0"))
        else:
            out.append(char)
            i += 1
    return "".join(out)
