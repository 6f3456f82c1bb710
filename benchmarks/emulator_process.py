"""The emulator as its own process for benchmarks (`hpcspec emulator serve`)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

USER, PASSWORD = "HPC\\admin", "bench-password"


def separate_cores() -> tuple[set[int], set[int]] | None:
    """(client cores, emulator core) when this machine can give the emulator a core of its own
    (Linux, two cores or more): the emulator stands for a head node, which is another machine;
    sharing cores with the client adds scheduling noise no real apply has."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None
    return set(cores[:-1]), {cores[-1]}


@contextmanager
def serve(db: Path, latency_ms: float, *extra: str, pin: bool = False) -> Iterator[str]:
    """Run the emulator on `db` with injected latency; yields its `/hpc` URL. With `pin`, the
    emulator and this process run on separate cores (see `separate_cores`)."""
    command = [
        sys.executable, "-m", "hpcspec", "emulator", "serve", "--port", "0", "--db", str(db),
        "--user", f"{USER}:{PASSWORD}:admin", "--latency-ms", str(latency_ms), *extra,
    ]  # fmt: skip
    split = separate_cores() if pin else None
    before = os.sched_getaffinity(0) if split else None
    if split:
        os.sched_setaffinity(0, split[0])
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, split[1])) if split else None,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if "listening on" not in line:
        process.kill()
        raise SystemExit(f"server did not start: {line!r}")
    try:
        yield line.rsplit(" ", 1)[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if before:
            os.sched_setaffinity(0, before)
