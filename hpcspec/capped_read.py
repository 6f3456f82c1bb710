"""Reading a user's input file with a size cap, whatever kind of file it is.

Every reader of a file a user names (manifests, `--var-file`, saved plans and the manifest a
saved plan points at, `{secret: file:…}`, `import --xml`, contexts and profiles, the
emulator's faults and options files) reads through `read_capped`. The cap is enforced on the
bytes read, never on the size `stat()` reports: a device (`/dev/zero`), a FIFO or a file
growing while it is read reports a size of 0 or less than it yields. At most `cap + 1` bytes
are read, so memory stays bounded for any file. Below every layer (it imports nothing of
hpcspec): each caller turns `FileTooLarge` into its own located error.
"""

from __future__ import annotations

import os


class FileTooLarge(Exception):
    """The file holds more than the cap allows (more than `cap` bytes were there to read)."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"the file is larger than {describe_cap(cap)}")
        self.cap = cap


def describe_cap(cap: int) -> str:
    """A cap for a message: `20 MB`, `256 KiB` or `100 bytes`."""
    if cap % (1024 * 1024) == 0:
        return f"{cap // (1024 * 1024)} MB"
    if cap % 1024 == 0:
        return f"{cap // 1024} KiB"
    return f"{cap} bytes"


_CHUNK = 1024 * 1024


def read_capped(path: str | os.PathLike[str], cap: int) -> bytes:
    """The file's bytes; raises FileTooLarge past `cap` bytes (reads at most cap + 1 of them)."""
    with open(path, "rb") as stream:
        # The reported size only sizes the first read (a regular file: all of it at once, no
        # cap-sized buffer); it never decides when to stop.
        want = max(os.fstat(stream.fileno()).st_size + 1, _CHUNK)
        chunks, total = [], 0
        while total <= cap:
            chunk = stream.read(min(want, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            want = _CHUNK
    if total > cap:
        raise FileTooLarge(cap)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_capped_text(path: str | os.PathLike[str], cap: int) -> str:
    """The file as UTF-8 text with universal newlines, as `Path.read_text` gives it, read by
    `read_capped`; raises FileTooLarge or UnicodeDecodeError."""
    text = read_capped(path, cap).decode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
