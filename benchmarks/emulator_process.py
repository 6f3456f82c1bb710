"""The emulator as its own process for benchmarks (`hpcspec emulator serve`)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

USER, PASSWORD = "HPC\\admin", "bench-password"


@contextmanager
def serve(db: Path, latency_ms: float, *extra: str) -> Iterator[str]:
    """Run the emulator on `db` with injected latency; yields its `/hpc` URL."""
    command = [
        sys.executable, "-m", "hpcspec", "emulator", "serve", "--port", "0", "--db", str(db),
        "--user", f"{USER}:{PASSWORD}:admin", "--latency-ms", str(latency_ms), *extra,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
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
