"""Writing a file hpcspec replaces whole: never through a link planted beside it, never half.

Every file hpcspec rewrites (saved plans, the contexts file, cluster profiles, the identity
cache, the local cluster's credentials and state file) goes through `replace_file`: the bytes
go to a new temporary file in the same directory, made by `tempfile.mkstemp` (a random name,
`O_CREAT | O_EXCL`, so never an existing file or a link someone planted at a name we would
have chosen; 0600), which is then renamed over the file. A rename replaces a link at the
target's name instead of writing through it, and a reader sees the old file or the new one,
never half of one. Below every layer (it imports nothing of hpcspec), as `capped_read` is.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

SHARED_MODE = 0o644  # a file meant to be handed on (a saved plan for CI artifacts)


def replace_file(path: Path, data: bytes, *, private: bool = True) -> None:
    """Replace `path` with `data` atomically: 0600 (`private`), else 0644."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        if not private:
            os.chmod(temporary, SHARED_MODE)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
