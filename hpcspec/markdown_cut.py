"""Cutting markdown to a size at a line break, with every fold it leaves open closed.

A pull-request comment (`pr_comment.compose`, 65,000 characters) and a GitHub step summary
(`cli.ci.truncated_summary`, 1 MiB) cut hpcspec's markdown when it is too large, then add a
note that says so. Cut inside a job's `<details>` section, the note would land inside that
fold: hidden from a reviewer, who would not learn that jobs are missing. `cut_at_line` closes
the open folds first. Below every layer (it imports nothing of hpcspec), so the standalone
`pr_comment` step can use it too.
"""

from __future__ import annotations

import re

_OPEN = re.compile(r"<details[\s>]")
_CLOSE = "</details>"
_CLOSER = "\n</details>\n\n"


def _size(text: str, in_bytes: bool) -> int:
    return len(text.encode("utf-8")) if in_bytes else len(text)


def cut_at_line(markdown: str, room: int, *, in_bytes: bool = False) -> str:
    """The longest start of `markdown` that ends at a line break, with a `</details>` for
    each fold it leaves open, within `room` characters (UTF-8 bytes with `in_bytes`)."""
    if in_bytes:
        head = markdown.encode("utf-8")[: max(0, room)].decode("utf-8", errors="ignore")
    else:
        head = markdown[: max(0, room)]
    head = head[: head.rfind("\n") + 1]
    while head:
        shut = _CLOSER * max(0, len(_OPEN.findall(head)) - head.count(_CLOSE))
        if _size(head + shut, in_bytes) <= room:
            return head + shut
        head = head[: head.rstrip("\n").rfind("\n") + 1]  # one line fewer
    return ""
