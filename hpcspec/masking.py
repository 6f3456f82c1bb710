"""The secret values this process has read, masked in what it shows of a task's own words.

A task may print a `{secret: …}` value it was given (`echo "lic=$LIC"`): its Output, its
ErrorMessage and its stream files are the task's text, which hpcspec shows (`apply --wait`,
`status`, `logs`, CI summaries). Every value `engine.secrets` reads is remembered here, and
the readers of those texts (`hpcpack.readback`, `engine.stream_files`) pass them through
`mask`, as a CI runner masks its registered secrets. Values shorter than `MIN_LENGTH` are not
masked (they would mask ordinary text); a value the task transforms (encodes, splits) cannot be
recognised. docs/security.md says so.
"""

from __future__ import annotations

import threading

MIN_LENGTH = 4
SHOWN = "(sensitive)"

_known: frozenset[str] = frozenset()
_lock = threading.Lock()


def remember(value: str) -> None:
    """Mask `value` in task text read from now on (if it is at least `MIN_LENGTH` long)."""
    global _known
    if len(value) >= MIN_LENGTH and value not in _known:
        with _lock:
            _known = (
                _known | {value} | {line for line in value.splitlines() if len(line) >= MIN_LENGTH}
            )


def mask(text: str) -> str:
    """`text` with every remembered value replaced by `SHOWN`."""
    known = _known
    if not known or not text:
        return text
    for value in sorted(known, key=len, reverse=True):
        if value in text:
            text = text.replace(value, SHOWN)
    return text


def forget_all() -> None:
    """Forget every value (tests; a long-lived process between runs)."""
    global _known
    with _lock:
        _known = frozenset()
