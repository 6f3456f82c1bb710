"""Which characters XML 1.0 can carry: the one rule the job XML writer (`jobxml/escape.py`)
and manifest validation (`manifest/variables.py`) share, so `validate` refuses exactly what
`render` and `apply` would. Kept apart from the `jobxml` package, whose import loads the
property catalogue, so `validate` stays light.
"""

from __future__ import annotations

import re

# Characters that are not XML 1.0 `Char`s (astral characters all are): C0 controls other than
# tab, line feed and carriage return, lone surrogates, U+FFFE and U+FFFF.
UNCARRIABLE = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_NOT_CARRIABLE = re.compile(f"[{UNCARRIABLE}]").search


def first_uncarriable(value: str) -> int | None:
    """Where `value`'s first character XML 1.0 cannot carry is (None: it has none)."""
    found = _NOT_CARRIABLE(value)
    return None if found is None else found.start()
