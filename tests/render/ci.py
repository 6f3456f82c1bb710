"""What a CI runner would execute in a job's log (for the injection tests).

GitHub Actions: a line whose text, after leading whitespace, starts with `::`, and the older
`##[` form; Azure Pipelines: `##vso[` and `##[` anywhere in a line (research/
ecosystem-reliability.md R1.5a, R5.7). Runners split lines at CR, LF and CRLF.
"""

from __future__ import annotations

import re

_HASH = re.compile(r"##(vso)?\[", re.IGNORECASE)

PAYLOADS = (
    "::set-output name=x::y",
    "::add-mask::hunter2",
    "  ::stop-commands::tok",
    "##vso[task.setvariable variable=PATH]/tmp/evil",
    "##[group]fake",
    "ok\n::error::forged line",
    "ok\r::warning::carriage",
    "\x1b[31mred\x1b[0m \x1b]0;title\x07 ##VSO[task.complete result=Failed]",
)


def runner_commands(output: str) -> list[str]:
    """Every line of `output` that a GitHub or Azure runner would treat as a command."""
    return [
        line
        for line in re.split(r"\r\n|\r|\n", output)
        if line.lstrip().startswith("::") or _HASH.search(line)
    ]
