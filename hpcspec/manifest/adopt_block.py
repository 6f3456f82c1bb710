"""The manifest's `adopt:` block written back to its file, for `hpcspec adopt`.

The file is edited as text so the user's comments, order and quoting stay as they are: a
manifest without `adopt:` gets the block appended at the end; one that has it gets each entry
replaced in place or added at the block's end. The result is loaded again before it is
written, so a file this cannot edit cleanly is left untouched (an error says why).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from hpcspec.manifest.errors import ManifestError
from hpcspec.manifest.load import load_manifest, read_text

_BLOCK = re.compile(r"^adopt:[ \t]*(#.*)?$", re.MULTILINE)
_TOP_LEVEL = re.compile(r"^[^\s#-]", re.MULTILINE)


def with_adoptions(text: str, entries: Mapping[str, int]) -> str:
    """`text` with `adopt:` holding `entries` (others kept; a key given again is replaced)."""
    found = _BLOCK.search(text)
    if found is None:
        lines = "".join(f"  {key}: {job_id}\n" for key, job_id in entries.items())
        tail = "" if text.endswith("\n") or not text else "\n"
        heading = "# Existing jobs under this manifest's management (hpcspec adopt)\n"
        return f"{text}{tail}{heading}adopt:\n{lines}"
    start = found.end() + 1
    following = _TOP_LEVEL.search(text, start)
    end = following.start() if following else len(text)
    block = text[start:end].splitlines(keepends=True)
    for key, job_id in entries.items():
        entry = re.compile(rf"^(\s+){re.escape(key)}:\s*\d+\s*(#.*)?$")
        for index, line in enumerate(block):
            matched = entry.match(line.rstrip("\n"))
            if matched:
                block[index] = f"{matched[1]}{key}: {job_id}\n"
                break
        else:
            while block and not block[-1].strip():
                block.pop()
            block.append(f"  {key}: {job_id}\n")
    body = "".join(block)
    if end < len(text) and not body.endswith("\n\n"):
        body += "\n"
    return text[:start] + body + text[end:]


def record_adoptions(path: Path, entries: Mapping[str, int]) -> None:
    """Write `entries` into the manifest file's `adopt:` block, checked by loading it again."""
    original = read_text(path)
    edited = with_adoptions(original, entries)
    checked = path.with_name(f".{path.name}.adopt")
    checked.write_text(edited, encoding="utf-8")
    try:
        manifest = load_manifest(checked)
        if {k: manifest.adopt.get(k) for k in entries} != dict(entries):
            raise ManifestError(
                f"{path}: could not add the adopt: entries cleanly; add them by hand",
                code="adopt-not-written",
                hint="adopt:\n" + "".join(f"  {k}: {v}\n" for k, v in entries.items()),
            )
    except Exception:
        checked.unlink()
        raise
    checked.replace(path)
