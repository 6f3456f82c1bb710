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
    """Replace `path` with `data` atomically: 0600 (`private`), else 0644. An OSError names
    `path`, never the temporary file the user did not ask for."""
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:  # a missing or closed directory
        raise _naming(error, path) from error
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        if not private:
            os.chmod(temporary, SHARED_MODE)
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise _naming(error, path) from error
        raise


def _naming(error: OSError, path: Path) -> OSError:
    """The same error (its class and errno), naming the file the caller asked for."""
    return type(error)(error.errno, error.strerror or str(error), str(path))
